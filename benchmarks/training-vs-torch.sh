#!/usr/bin/env bash
# Training throughput of the Java loop (`bin/lsoftmax train --pass jvm`) against its PyTorch twin
# (benchmarks/torch-twin/train.py: the same network, optimiser, schedule, data, initial weights and
# batch order), run interleaved: java, torch, java, torch, ... for --rounds rounds, the load average
# printed before each run. Both train Fashion-MNIST for 2 epochs (784-512-256-64, m=4, batch 256) with
# the same thread count; the samples/s of epoch 2 (training part only, no evaluation) is compared.
# Prints a table per round, the median of each side and the ratio java/torch of the medians, and
# writes OUT/training-vs-torch-threads<T>.csv (round,side,threads,samples_per_second,load).
#
# Usage: benchmarks/training-vs-torch.sh [--rounds 3] [--threads 2] [--epochs 2] [--out DIR] [--data DIR]
# Needs: python3-torch, python3-numpy (and an optimised BLAS for torch, e.g. libopenblas0-pthread),
# dataset-fashion-mnist, Maven and a JDK >= 21 (bin/lsoftmax builds the jar on first use).
# The torch side runs with OPENBLAS_NUM_THREADS=T OMP_NUM_THREADS=T OMP_WAIT_POLICY=PASSIVE, as a
# careful torch user would set them. The machine should be otherwise idle: watch the load column.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
me=training-vs-torch
rounds=3
threads=2
epochs=2
out="$root/benchmarks/results/training-vs-torch"
data=/usr/share/datasets/fashion-mnist

die() { echo "$me: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) [ $# -ge 2 ] || die "--rounds needs a value"; rounds=$2; shift 2 ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a value"; threads=$2; shift 2 ;;
    --epochs) [ $# -ge 2 ] || die "--epochs needs a value"; epochs=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift 2 ;;
    --data) [ $# -ge 2 ] || die "--data needs a value"; data=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer, got '$rounds'"
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer, got '$threads'"
[[ "$epochs" =~ ^[1-9][0-9]*$ ]] || die "--epochs must be a positive integer, got '$epochs'"

# --- prerequisites, each failing with one line -------------------------------------------------
python=""
for candidate in ${PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import torch, numpy' >/dev/null 2>&1; then
    python=$candidate; break
  fi
done
[ -n "$python" ] || die "no python3 that imports torch and numpy (tried \$PYTHON, python3, /usr/bin/python3): apt-get install -y python3-torch python3-numpy"
for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  [ -f "$data/$name" ] || [ -f "$data/$name.gz" ] \
    || die "Fashion-MNIST not found ($data/$name[.gz] is missing): apt-get install -y dataset-fashion-mnist, or pass --data DIR"
done
twin="$root/benchmarks/torch-twin"
blas=$(cd "$twin" && "$python" -c '
import torch, train
torch.ones(2, 2) @ torch.ones(2, 2)
libs = train.blas_libraries()
print(("REFERENCE " if train.uses_reference_blas(libs) else "") + (",".join(libs) or "unknown"))' 2>/dev/null) \
  || die "$python cannot import benchmarks/torch-twin/train.py (run: cd $twin && $python -c 'import train')"
case "$blas" in
  REFERENCE*) die "torch uses the netlib reference BLAS (${blas#REFERENCE }), ~50x slower than an optimised one: apt-get install -y libopenblas0-pthread" ;;
esac
echo "$me: building the jar if needed ..." >&2
"$root/bin/lsoftmax" --version >/dev/null 2>&1 || { "$root/bin/lsoftmax" --version; die "bin/lsoftmax does not start (output above)"; }

mkdir -p "$out"
csv="$out/$me-threads$threads.csv"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

source "$root/ci/common.sh"
java_version=$("$(find_java_home)/bin/java" -version 2>&1 | head -1)
torch_version=$("$python" -c 'import torch; print(torch.__version__)')
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -n), $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "# java: $java_version; torch $torch_version ($python), BLAS $blas"
echo "# $rounds rounds, $threads thread(s), $epochs epochs, samples/s of epoch $epochs; java, torch alternating"

load() { cut -d' ' -f1 /proc/loadavg; }
echo "round,side,threads,samples_per_second,load" > "$work/results.csv"
for round in $(seq 1 "$rounds"); do
  # --- java ---
  l=$(load)
  echo "round $round java  (load average $(cut -d' ' -f1-3 /proc/loadavg)) ..." >&2
  run="$work/java-$round"
  sps=""
  if ! "$root/bin/lsoftmax" train --pass jvm --hidden 512,256 --feature-dim 64 --margin 4 --epochs "$epochs" \
      --batch 256 --threads "$threads" --seed 1 --data "$data" --quiet --out "$run" > "$run.log" 2>&1; then
    cat "$run.log" >&2; die "the java run of round $round failed (log above)"
  fi
  # metrics.csv (org.lsoftmax.train.EpochMetrics.CSV_HEADER): find samples_per_second by name, row epoch == $epochs
  # the columns by name, the row of epoch $epochs: samples/s, and train loss / test accuracy to show the runs agree
  read -r sps loss accuracy < <(awk -F, -v e="$epochs" '
      NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
      ("samples_per_second" in col) && $col["epoch"] == e { print $col["samples_per_second"], $col["train_loss"], $col["test_accuracy"] }' \
      "$run/metrics.csv") || true
  [ -n "${sps:-}" ] || { cat "$run/metrics.csv" >&2; die "no samples_per_second for epoch $epochs in $run/metrics.csv"; }
  echo "$round,java,$threads,$sps,$l" >> "$work/results.csv"
  echo "round $round java  $sps samples/s (epoch $epochs: train loss $loss, test accuracy $accuracy)" >&2
  # --- torch ---
  l=$(load)
  echo "round $round torch (load average $(cut -d' ' -f1-3 /proc/loadavg)) ..." >&2
  log="$work/torch-$round.log"
  sps=""
  if ! OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=PASSIVE \
      "$python" "$twin/train.py" --hidden 512,256 --feature-dim 64 --margin 4 --epochs "$epochs" --batch 256 \
      --threads "$threads" --seed 1 --data "$data" > "$log" 2>&1; then
    cat "$log" >&2; die "the torch run of round $round failed (log above)"
  fi
  read -r sps loss accuracy < <(awk -v e="$epochs" '$1 == "epoch" && $2 == e && $3 == "samples_per_second" {
      for (i = 3; i < NF; i += 2) v[$i] = $(i + 1); print v["samples_per_second"], v["train_loss"], v["test_accuracy"] }' "$log") || true
  [ -n "${sps:-}" ] || { cat "$log" >&2; die "no 'epoch $epochs samples_per_second' line in the torch output (above)"; }
  echo "$round,torch,$threads,$sps,$l" >> "$work/results.csv"
  echo "round $round torch $sps samples/s (epoch $epochs: train loss $loss, test accuracy $accuracy)" >&2
done
cp "$work/results.csv" "$csv"

# --- table, medians, ratio ---
"$python" - "$csv" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
by = {(r["round"], r["side"]): r for r in rows}
rounds = sorted({int(r["round"]) for r in rows})
print(f"{'round':>5} {'java samples/s':>15} {'load':>6} {'torch samples/s':>16} {'load':>6} {'java/torch':>11}")
for n in rounds:
    j, t = by[(str(n), "java")], by[(str(n), "torch")]
    js, ts = float(j["samples_per_second"]), float(t["samples_per_second"])
    print(f"{n:>5} {js:>15.0f} {float(j['load']):>6.2f} {ts:>16.0f} {float(t['load']):>6.2f} {js / ts:>11.2f}")
java = statistics.median(float(r["samples_per_second"]) for r in rows if r["side"] == "java")
torch = statistics.median(float(r["samples_per_second"]) for r in rows if r["side"] == "torch")
print(f"{'median':>5} {java:>15.0f} {'':>6} {torch:>16.0f} {'':>6} {java / torch:>11.2f}")
print(f"java/torch (ratio of the medians, threads {rows[0]['threads']}): {java / torch:.2f}")
EOF
echo "results: $csv"
