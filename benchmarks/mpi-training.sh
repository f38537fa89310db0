#!/usr/bin/env bash
# The data-parallel job against one process (benchmarks/RESULTS.md, "Training across processes"): the
# issue network (784-512-256-64 + L-Softmax m = 4, batch 256) on Fashion-MNIST, interleaved rounds of
#   one     bin/lsoftmax train --threads T                     one process, the whole head
#   shards  bin/lsoftmax train --threads T --shards K          one process, K class shards
#   mpi     bin/lsoftmax-mpi -np K train                        K processes (T/K threads each), Partial FC
# each for --epochs E (the last epoch is measured: the first carries the JIT's warm-up), printing per
# round the load average, each run's step time (epoch seconds / steps), and the bytes rank 0 sent and
# received per step (from the job's log); then the median and spread of each. Runs go to a temporary
# folder that is removed.
#   benchmarks/mpi-training.sh                     # 3 rounds, K = 2, T = 2, E = 2
#   benchmarks/mpi-training.sh --rounds 5 --epochs 3 --ranks 2 --threads 2
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=3; epochs=2; ranks=2; threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h|--help) sed -n 2,13p "$0"; exit 0 ;;
    *) echo "benchmarks/mpi-training.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
network=(--hidden 512,256 --feature-dim 64 --batch 256 --margin 4 --pass jvm --quiet --epochs "$epochs")
"$root/bin/lsoftmax" --version >/dev/null
oversubscribe=()
[ "$ranks" -gt "$(nproc)" ] && oversubscribe=(--oversubscribe)
# the last epoch's seconds over its steps, from metrics.csv (columns: epoch, iteration, ..., seconds, samples/s)
step_ms() {
  awk -F, -v e="$epochs" 'NR > 1 && $1 == e { it = $2 } NR > 1 && $1 == e - 1 { prev = $2 } NR > 1 && $1 == e { s = $11 }
    END { if (e == 1) prev = 0; printf "%.1f", 1000 * s / (it - prev) }' "$1/metrics.csv"
}
declare -A times
echo "round,load,one_ms,shards_ms,mpi_ms,mpi_sent_kib,mpi_received_kib"
for ((r = 1; r <= rounds; r++)); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  "$root/bin/lsoftmax" train "${network[@]}" --threads "$threads" --out "$work/one-$r" 2>/dev/null >/dev/null
  "$root/bin/lsoftmax" train "${network[@]}" --threads "$threads" --shards "$ranks" --out "$work/shards-$r" 2>/dev/null >/dev/null
  "$root/bin/lsoftmax-mpi" "${oversubscribe[@]}" -np "$ranks" train "${network[@]}" --threads $((threads / ranks > 0 ? threads / ranks : 1)) \
      --out "$work/mpi-$r" >"$work/mpi-$r.log" 2>&1
  exchange=$(grep "epoch $epochs: rank 0 per training step" "$work/mpi-$r.log" | sed -E 's/.*sent ([0-9.]+) KiB, received ([0-9.]+) KiB.*/\1,\2/')
  one=$(step_ms "$work/one-$r"); shards=$(step_ms "$work/shards-$r"); mpi=$(step_ms "$work/mpi-$r")
  times[one]+="$one "; times[shards]+="$shards "; times[mpi]+="$mpi "
  echo "$r,$load,$one,$shards,$mpi,$exchange"
done
for kind in one shards mpi; do
  printf '%s' "${times[$kind]}" | tr ' ' '\n' | sort -n | awk -v k="$kind" 'NF { v[++n] = $1 } END {
    printf "%-7s step median %.1f ms, min %.1f, max %.1f over %d rounds\n", k, v[int((n + 1) / 2)], v[1], v[n], n }'
done
