#!/usr/bin/env bash
# Reproduces docs/RESULTS.md: softmax (m=1) against L-Softmax (m=2,3,4) on Fashion-MNIST with the same
# network, budget and seed; 64-dimensional features for the accuracy table, 2-dimensional ones for the
# pictures. Runs go to runs/ (ignored by git), pictures to docs/img/.
#
#   docs/run-experiments.sh                                   # the main table and pictures (beta floor 5)
#   docs/run-experiments.sh --dims 2 --margins "2 3 4" --beta-min 0 --suffix -floor0
#                                                             # the 2-D runs with the margin at full weight
#   docs/run-experiments.sh --heldout                         # every loss on classes 0-4, retrieval on the unseen
#                                                             # classes 5-9: 3 seeds at D = 64, one at D = 2
#
# Options: --pass P (default jvm), --threads T (2), --dims "D ..." ("64 2"), --margins "M ..." ("1 2 3 4"),
# --beta-min B (5), --epochs E (15), --suffix S (appended to run and picture names). A margin-1 run is
# independent of beta, so a dimension's plot reuses runs/fashion-d<D>-m1 when m = 1 is not rerun.
# --heldout options: --seeds "S ..." ("1 2 3", D = 2 uses the first), --groups "G ..." ("main control remedy",
# see heldout_configs), --only "NAME ..." (these configurations only), --dims, --epochs, --pass, --threads.
# A finished run folder under runs/heldout/ is reused, not retrained; delete it to train it again.
set -euo pipefail
cd "$(dirname "$0")/.."
pass=jvm threads=2 dims="64 2" margins="1 2 3 4" beta_min=5 epochs=15 suffix=""
heldout=0 seeds="1 2 3" groups="main control remedy" only="" train_classes=0-4 heldout_classes=5-9
while [ $# -gt 0 ]; do
  case $1 in
    --heldout) heldout=1; shift; continue ;;
    --seeds) seeds=$2 ;;
    --groups) groups=$2 ;;
    --only) only=$2 ;;
    --pass) pass=$2 ;;
    --threads) threads=$2 ;;
    --dims) dims=$2 ;;
    --margins) margins=$2 ;;
    --beta-min) beta_min=$2 ;;
    --epochs) epochs=$2 ;;
    --suffix) suffix=$2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "run-experiments: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift 2
done

# ---------------------------------------------------------------------------------------------------------
# --heldout: the held-out-class protocol (issue #10, items 5-6). Every loss of the family trains on
# Fashion-MNIST classes 0-4 (train --classes 0-4); `retrieval --classes 5-9` then embeds the test images of
# the never-seen classes 5-9 and reports Recall@1 and MAP@R there, beside the closed-set accuracy and the
# same measures on the test images of classes 0-4. One row per run goes to runs/heldout/heldout.csv;
# docs/heldout-table.py turns it into the tables of docs/RESULTS.md.
heldout_configs() {
  # name|group|arguments (besides the common network, budget and seed). Schedules: L-Softmax and SphereFace
  # anneal beta as designed (geometric 1000 -> floor 5, the study above); the s-scaled losses are trained
  # without annealing (constant beta 0), as they are published. Groups: main (the table), control (normalised
  # softmax, cosface with m3 = 0: the s-scaled losses without their margin), remedy (what practitioners do
  # when a margin hurts: a higher beta floor or SphereFace's schedule, a lower scale or margin, warm-ups,
  # the L-Softmax annealing for the s-scaled losses).
  local geo="--schedule geometric --beta-start 1000 --beta-scale 0.99 --beta-min 5"
  local const="--schedule constant --beta 0"
  # SphereFace's published schedule lambda = max(5, 1000 (1 + 0.12 iter)^-1); warm-ups over 5 epochs (585 steps)
  local power="--schedule power --beta-start 1000 --beta-gamma 0.12 --beta-power 1 --beta-min 5"
  local warm="--margin-warmup 585 --scale-warmup 585"
  cat <<CONFIGS
softmax|main|--loss lsoftmax --margin 1 $geo
lsoftmax-m2|main|--loss lsoftmax --margin 2 $geo
lsoftmax-m4|main|--loss lsoftmax --margin 4 $geo
sphereface-m4|main|--loss sphereface --margin 4 $geo
cosface-s16|main|--loss cosface --scale 16 --m3 0.35 $const
cosface-s30|main|--loss cosface --scale 30 --m3 0.35 $const
arcface-s16|main|--loss arcface --scale 16 --m2 0.5 $const
arcface-s30|main|--loss arcface --scale 30 --m2 0.5 $const
normface-s8|control|--loss cosface --scale 8 --m3 0 $const
normface-s16|control|--loss cosface --scale 16 --m3 0 $const
normface-s30|control|--loss cosface --scale 30 --m3 0 $const
lsoftmax-m4-floor20|remedy|--loss lsoftmax --margin 4 ${geo% 5} 20
lsoftmax-m4-floor100|remedy|--loss lsoftmax --margin 4 ${geo% 5} 100
sphereface-m4-power|remedy|--loss sphereface --margin 4 $power
sphereface-m4-floor100|remedy|--loss sphereface --margin 4 ${geo% 5} 100
cosface-s8|remedy|--loss cosface --scale 8 --m3 0.35 $const
cosface-s16-m0.1|remedy|--loss cosface --scale 16 --m3 0.1 $const
cosface-s16-warmup|remedy|--loss cosface --scale 16 --m3 0.35 $const $warm
cosface-s16-anneal|remedy|--loss cosface --scale 16 --m3 0.35 $geo
arcface-s8|remedy|--loss arcface --scale 8 --m2 0.5 $const
arcface-s16-m0.2|remedy|--loss arcface --scale 16 --m2 0.2 $const
arcface-s16-mwarmup|remedy|--loss arcface --scale 16 --m2 0.5 $const --margin-warmup 585
arcface-s16-swarmup|remedy|--loss arcface --scale 16 --m2 0.5 $const --scale-warmup 585
arcface-s16-warmup|remedy|--loss arcface --scale 16 --m2 0.5 $const $warm
arcface-s30-warmup|remedy|--loss arcface --scale 30 --m2 0.5 $const $warm
arcface-s16-anneal|remedy|--loss arcface --scale 16 --m2 0.5 $geo
CONFIGS
}

heldout_row() { # name group seed dim args...: trains (unless a finished run is there), retrieves, writes a row
  local name=$1 group=$2 seed=$3 dim=$4; shift 4
  local run="$root/d$dim-$name-s$seed" log="$root/logs/d$dim-$name-s$seed"
  local wall="" rc=0
  local row="$root/rows/d$dim-$name-s$seed.csv"
  if [ -f "$run/last.ckpt" ] && [ "$(($(wc -l < "$run/metrics.csv") - 1))" = "$epochs" ]; then
    echo "heldout: $run is finished, reusing it"
    # keep the wall time measured when it was trained (field 18 of its row)
    [ -f "$row" ] && wall=$(awk -F, '{ print $18 }' "$row")
  else
    [ -e "$run" ] && { echo "heldout: $run is unfinished, removing it"; rm -rf "$run"; }
    echo "heldout: training $run"
    local t0; t0=$(date +%s.%N)
    bin/lsoftmax train "${common[@]}" --classes "$train_classes" --feature-dim "$dim" --seed "$seed" "$@" \
      --out "$run" > "$log.train" 2>&1 || rc=$?
    wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    tail -n 2 "$log.train"
  fi
  local acc="" sr1="" smap="" ur1="" umap=""
  if [ "$rc" = 0 ]; then
    bin/lsoftmax retrieval --checkpoint "$run/last.ckpt" --classes "$heldout_classes" --threads "$threads" \
      > "$log.retrieval" 2>&1 || rc=$?
    grep -E '^(seen|unseen) classes' "$log.retrieval" || true
    acc=$(sed -n 's/^seen classes.*closed-set accuracy \([0-9.]*\).*/\1/p' "$log.retrieval")
    sr1=$(sed -n 's/^seen classes.*recall@1 \([0-9.]*\).*/\1/p' "$log.retrieval")
    smap=$(sed -n 's/^seen classes.*map@r \([0-9.]*\).*/\1/p' "$log.retrieval")
    ur1=$(sed -n 's/^unseen classes.*recall@1 \([0-9.]*\).*/\1/p' "$log.retrieval")
    umap=$(sed -n 's/^unseen classes.*map@r \([0-9.]*\).*/\1/p' "$log.retrieval")
  fi
  # from metrics.csv: training seconds (sum of the epochs, without evaluation), the last epoch's train loss
  # and accuracy, angles on the seen test images
  local stats
  stats=$(awk -F, 'NR > 1 { t += $11; last = $0 } END { split(last, f, ","); printf "%.1f,%s,%s,%s,%s", t, f[5], f[6], f[9], f[10] }' \
    "$run/metrics.csv" 2>/dev/null || echo ",,,,")
  local diverged; diverged=$(grep -c 'diverged' "$log.train" 2>/dev/null || true)
  echo "$name,$group,$seed,$dim,$epochs,$rc,${diverged:-0},$acc,$sr1,$smap,$ur1,$umap,$stats,$wall,\"$*\"" > "$row"
}

run_heldout() {
  root=runs/heldout
  mkdir -p "$root/rows" "$root/logs" docs/img
  common=(--epochs "$epochs" --hidden 512,256 --batch 256 --lr 0.05 --lr-steps 9,13
          --pass "$pass" --threads "$threads" --quiet)
  local t0; t0=$(date +%s)
  while IFS='|' read -r name group args; do
    if [ -n "$only" ]; then [[ " $only " == *" $name "* ]] || continue
    else [[ " $groups " == *" $group "* ]] || continue; fi
    for dim in $dims; do
      if [ "$dim" = 2 ]; then
        [ "$group" = main ] || continue  # pictures of the main losses; one seed is enough
        # shellcheck disable=SC2086
        heldout_row "$name" "$group" "${seeds%% *}" 2 $args
      else
        for seed in $seeds; do
          # shellcheck disable=SC2086
          heldout_row "$name" "$group" "$seed" "$dim" $args
        done
      fi
    done
  done < <(heldout_configs)
  {  # every row there, in the order of heldout_configs (D = 64, then D = 2), seeds in ascending order
    echo "name,group,seed,dim,epochs,exit_code,diverged_lines,closed_set_acc,seen_recall1,seen_map_r,unseen_recall1,unseen_map_r,train_s,final_train_loss,final_train_acc,angle_own_deg,angle_nearest_other_deg,wall_s,arguments"
    heldout_configs | cut -d'|' -f1 | while read -r name; do
      for dim in 64 2; do
        find "$root/rows" -name "d$dim-$name-s[0-9]*.csv" | sort -V | xargs -r cat
      done
    done
  } > "$root/heldout.csv"
  # the picture: one panel per main loss, drawn only when every one of their D = 2 runs is there
  local grid=() missing=0
  while IFS='|' read -r name group _; do
    [ "$group" = main ] || continue
    if [ -f "$root/d2-$name-s${seeds%% *}/features.csv" ]; then grid+=("$root/d2-$name-s${seeds%% *}"); else missing=1; fi
  done < <(heldout_configs)
  if [ "$missing" = 0 ]; then
    bin/lsoftmax plot "${grid[@]}" --out "$root/plots-d2" --columns 4 --points 2500 --panel-size 420
    cp "$root/plots-d2/features-grid.png" docs/img/heldout-features-d2.png
  fi
  cp "$root/heldout.csv" docs/heldout-results.csv  # the committed copy
  python3 docs/heldout-table.py "$root/heldout.csv" > "$root/table.md"
  cat "$root/table.md"
  echo "heldout: $(( $(date +%s) - t0 )) s; rows in $root/heldout.csv (copied to docs/heldout-results.csv), tables in $root/table.md"
}

if [ "$heldout" = 1 ]; then
  run_heldout
  exit 0
fi

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
