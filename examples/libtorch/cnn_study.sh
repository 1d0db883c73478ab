#!/usr/bin/env bash
# The LibTorch CNN study (docs/reproduction.md, "LibTorch CNN"): cnn_ood once per cell of
#   network {plain, bn} x epochs {5, 20} x seed {1, 2, 3},
# each run training cross-entropy and LogitNorm at tau = 0.1, 0.2, 0.5 and 1.0 from the same
# initial weights and batches, on the first 6,000 Fashion-MNIST training images, with one
# LibTorch intra-op thread. One JSON per cell goes into OUT_DIR, with the program's output beside
# it; cnn_study_table.py turns the folder into the tables of the doc.
#
#   examples/libtorch/cnn_study.sh BUILD/examples/libtorch/cnn_ood OUT_DIR [cnn_ood options...]
#
# Cells whose JSON already exists are skipped, so an interrupted study resumes where it stopped;
# a cell's JSON appears only when its run succeeded. The extra options (e.g. --mnist-dir) go to
# every run. SEEDS, EPOCHS and TRAIN_LIMIT in the environment replace the recipe's values: SEEDS
# to share the study between two copies of the script on the 2 cores (each with its own seeds and
# folder; gather the JSONs into one folder for the summariser), EPOCHS and TRAIN_LIMIT only for a
# quick check of the script.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 CNN_OOD OUT_DIR [cnn_ood options...]" >&2
  exit 2
fi
exe="$1"
out="$2"
shift 2
seeds="${SEEDS:-1 2 3}"
epochs_list="${EPOCHS:-5 20}"
train_limit="${TRAIN_LIMIT:-6000}"
taus=0.1,0.2,0.5,1.0
mkdir -p "$out"

# Seeds outermost: a study stopped early still has every network and length at the first seeds.
for seed in $seeds; do
  for net in plain bn; do
    for epochs in $epochs_list; do
      cell="$net-e$epochs-s$seed"
      if [ -f "$out/$cell.json" ]; then
        echo "$cell: done before, skipped"
        continue
      fi
      start=$(date +%s)
      if ! "$exe" --net "$net" --epochs "$epochs" --seed "$seed" --taus "$taus" --train-limit "$train_limit" \
           --threads 1 --json "$out/$cell.json.part" "$@" > "$out/$cell.log" 2>&1; then
        echo "$cell: cnn_ood failed; see $out/$cell.log" >&2
        exit 1
      fi
      mv "$out/$cell.json.part" "$out/$cell.json"
      echo "$cell: $(($(date +%s) - start)) s"
    done
  done
done
