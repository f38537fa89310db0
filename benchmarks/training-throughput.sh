#!/usr/bin/env bash
# Training throughput per pass: one epoch of Fashion-MNIST (60,000 images; falls back to the built-in
# synthetic set when the data set is not installed) with the network of docs/RESULTS.md, for each pass
# (reference, jvm, and tornado when a TornadoVM SDK is found). Prints epoch seconds and samples/second
# from each run's metrics.csv. Usage: benchmarks/training-throughput.sh [EPOCHS] (default 2; the first
# epoch includes JIT warm-up, the last one is reported).
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-2}
source ci/common.sh
passes=(reference jvm)
[ -n "$(find_tornado_sdk)" ] && passes+=(tornado)
out=$(mktemp -d)
printf '%-10s %8s %12s %14s\n' pass epochs epoch_s samples_per_s
for pass in "${passes[@]}"; do
  bin/lsoftmax train --quiet --epochs "$epochs" --hidden 512,256 --feature-dim 64 --margin 4 --pass "$pass" \
      --seed 1 --out "$out/$pass" > "$out/$pass.log" 2>&1 || { cat "$out/$pass.log"; exit 1; }
  # metrics.csv columns: ..., epoch_seconds, samples_per_second (the last two)
  tail -1 "$out/$pass/metrics.csv" | awk -F, -v pass="$pass" -v epochs="$epochs" \
      '{ printf "%-10s %8s %12.2f %14.0f\n", pass, epochs, $(NF-1), $NF }'
done
rm -rf "$out"
