#!/usr/bin/env bash
# The 2-D runs of docs/run-experiments.sh again for m = 2, 3, 4 with the beta floor at 0 (the
# original Caffe MNIST example's lambda_min) instead of 5: the margin then acts with full weight.
# m = 1 does not depend on beta (psi(theta) = cos(theta)), so its run is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
pass=${1:-reference}
threads=${2:-2}
common=(--epochs 15 --hidden 512,256 --batch 256 --lr 0.05 --lr-steps 9,13 --seed 1
        --schedule geometric --beta-start 1000 --beta-scale 0.99 --beta-min 0
        --pass "$pass" --threads "$threads" --quiet)
for m in 2 3 4; do
  bin/lsoftmax train "${common[@]}" --feature-dim 2 --margin "$m" --out "runs/fashion-d2-m$m-floor0"
done
bin/lsoftmax plot runs/fashion-d2-m1 runs/fashion-d2-m{2,3,4}-floor0 --out runs/plots-d2-floor0 --columns 4 --points 3000 --panel-size 420
cp runs/plots-d2-floor0/features-grid.png docs/img/features-d2-floor0.png
cp runs/plots-d2-floor0/curves.png docs/img/curves-d2-floor0.png
