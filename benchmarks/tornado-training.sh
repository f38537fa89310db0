#!/usr/bin/env bash
# Training with the tornado head against the jvm head, interleaved in one command: ROUNDS rounds (default
# 3), each one run of `bin/lsoftmax train --pass jvm` and one of `--pass tornado` (network 784-512-256-64
# + L-Softmax head m = 4, batch 256, Fashion-MNIST when installed, fixed seed), EPOCHS epochs each
# (default 2; the last epoch is reported: the first includes the JIT and the kernel compilation). Prints
# the load average before every run, each run's epoch seconds and samples/s, and at the end per pass the
# median and min..max of the epoch time and the median of the per-round ratio tornado / jvm.
# With OTHER=DIR (a checkout with its own bin/lsoftmax, e.g. an export of another commit) its tornado
# head runs in each round too, as "other", for a before/after in the same run.
# Usage: benchmarks/tornado-training.sh [ROUNDS] [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
epochs=${2:-2}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
runs=("jvm:bin/lsoftmax" "tornado:bin/lsoftmax")
[ -n "${OTHER:-}" ] && runs+=("other:$OTHER/bin/lsoftmax")
bin/lsoftmax --help > /dev/null # builds the jar once, before any timing
[ -n "${OTHER:-}" ] && "$OTHER/bin/lsoftmax" --help > /dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u '+%Y-%m-%d %H:%M UTC')"
printf '%-6s %-8s %-26s %9s %12s\n' round head load_before epoch_s samples_per_s
for round in $(seq 1 "$rounds"); do
  for run in "${runs[@]}"; do
    name=${run%%:*}
    launcher=${run#*:}
    pass=$name
    [ "$name" = other ] && pass=tornado
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    "$launcher" train --quiet --epochs "$epochs" --hidden 512,256 --feature-dim 64 --margin 4 --pass "$pass" \
        --seed 1 --out "$out/$name-$round" > "$out/$name-$round.log" 2>&1 || { cat "$out/$name-$round.log"; exit 1; }
    # metrics.csv columns: ..., epoch_seconds, samples_per_second (the last two)
    tail -1 "$out/$name-$round/metrics.csv" | awk -F, -v r="$round" -v n="$name" -v l="$load" \
        '{ printf "%-6s %-8s %-26s %9.2f %12.0f\n", r, n, l, $(NF-1), $NF }' | tee -a "$out/table"
  done
done
python3 - "$out/table" <<'EOF'
import sys, statistics
rows = [line.split() for line in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r[1], {})[r[0]] = float(r[-2])
jvm = by["jvm"]
for name, times in by.items():
    values = list(times.values())
    ratios = [times[k] / jvm[k] for k in times if k in jvm]
    print(f"{name:8s} epoch median {statistics.median(values):.2f} s (min {min(values):.2f} .. max {max(values):.2f});"
          f" / jvm per round: median {statistics.median(ratios):.2f} (min {min(ratios):.2f} .. max {max(ratios):.2f})")
EOF
