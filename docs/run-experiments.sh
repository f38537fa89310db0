#!/usr/bin/env bash
# Reproduces docs/RESULTS.md: softmax (m=1) against L-Softmax (m=2,3,4) on Fashion-MNIST with the same
# network, budget and seed; 64-dimensional features for the accuracy table, 2-dimensional ones for the
# pictures. Runs go to runs/ (ignored by git), pictures to docs/img/.
#
#   docs/run-experiments.sh                                   # the main table and pictures (beta floor 5)
#   docs/run-experiments.sh --dims 2 --margins "2 3 4" --beta-min 0 --suffix -floor0
#                                                             # the 2-D runs with the margin at full weight
#
# Options: --pass P (default jvm), --threads T (2), --dims "D ..." ("64 2"), --margins "M ..." ("1 2 3 4"),
# --beta-min B (5), --epochs E (15), --suffix S (appended to run and picture names). A margin-1 run is
# independent of beta, so a dimension's plot reuses runs/fashion-d<D>-m1 when m = 1 is not rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
pass=jvm threads=2 dims="64 2" margins="1 2 3 4" beta_min=5 epochs=15 suffix=""
while [ $# -gt 0 ]; do
  case $1 in
    --pass) pass=$2 ;;
    --threads) threads=$2 ;;
    --dims) dims=$2 ;;
    --margins) margins=$2 ;;
    --beta-min) beta_min=$2 ;;
    --epochs) epochs=$2 ;;
    --suffix) suffix=$2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run-experiments: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift 2
done
common=(--epochs "$epochs" --hidden 512,256 --batch 256 --lr 0.05 --lr-steps 9,13 --seed 1
        --schedule geometric --beta-start 1000 --beta-scale 0.99 --beta-min "$beta_min"
        --pass "$pass" --threads "$threads" --quiet)
for dim in $dims; do
  runs=()
  case " $margins " in
    *" 1 "*) ;;
    *) [ -d "runs/fashion-d$dim-m1" ] && runs+=("runs/fashion-d$dim-m1") ;;
  esac
  for m in $margins; do
    run="runs/fashion-d$dim-m$m$suffix"
    bin/lsoftmax train "${common[@]}" --feature-dim "$dim" --margin "$m" --out "$run"
    runs+=("$run")
  done
  plots="runs/plots-d$dim$suffix"
  if [ "$dim" = 2 ]; then
    bin/lsoftmax plot "${runs[@]}" --out "$plots" --columns 4 --points 3000 --panel-size 420
    cp "$plots/features-grid.png" "docs/img/features-d2$suffix.png"
  else
    bin/lsoftmax plot "${runs[@]}" --out "$plots"
  fi
  cp "$plots/curves.png" "docs/img/curves-d$dim$suffix.png"
done
