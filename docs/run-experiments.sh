#!/usr/bin/env bash
# Reproduces docs/RESULTS.md: softmax (m=1) against L-Softmax (m=2,3,4) on Fashion-MNIST with the same
# network, budget and seed; 64-dimensional features for the accuracy table, 2-dimensional ones for
# the pictures. Runs go to runs/ (ignored by git), pictures to docs/img/.
# Usage: docs/run-experiments.sh [PASS] [THREADS]     (defaults: reference 2; the head is ~1% of the work)
set -euo pipefail
cd "$(dirname "$0")/.."
pass=${1:-reference}
threads=${2:-2}
common=(--epochs 15 --hidden 512,256 --batch 256 --lr 0.05 --lr-steps 9,13 --seed 1
        --schedule geometric --beta-start 1000 --beta-scale 0.99 --beta-min 5
        --pass "$pass" --threads "$threads" --quiet)
for dim in 64 2; do
  for m in 1 2 3 4; do
    bin/lsoftmax train "${common[@]}" --feature-dim "$dim" --margin "$m" --out "runs/fashion-d$dim-m$m"
  done
done
bin/lsoftmax plot runs/fashion-d64-m{1,2,3,4} --out runs/plots-d64
bin/lsoftmax plot runs/fashion-d2-m{1,2,3,4} --out runs/plots-d2 --columns 4 --points 3000 --panel-size 420
cp runs/plots-d64/curves.png docs/img/curves-d64.png
cp runs/plots-d2/features-grid.png docs/img/features-d2.png
