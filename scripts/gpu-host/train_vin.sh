#!/usr/bin/env bash
# On the GPU host: build, make synthetic VIN data, train configs/vin.yaml (resuming runs/vin when it is
# carried in), run the GPU tests, and copy the results to $OUT.
#   STEPS (default from the config), TRAIN_COUNT (200000), EXTRA_SET (more --set arguments)
set -eo pipefail
. scripts/gpu-host/build.sh
B=build-cuda/ocrkit
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
(build-cuda/tests/test_model --gtest_filter='Attention*:Runtime*:Checkpoint.SaveLoad*:Model.*' 2>&1 | tail -25) || true
T0=$(date +%s)
[ -f data/vin-train/labels.tsv ] || $B data synth-vin --count ${TRAIN_COUNT:-200000} --out data/vin-train --seed 1
[ -f data/vin-val/labels.tsv ] || $B data synth-vin --count 2000 --out data/vin-val --seed 2
echo "[gpu-host] data in $(( $(date +%s) - T0 ))s"
RESUME=""; [ -f runs/vin/last.ckpt ] && RESUME="--resume runs/vin"
T1=$(date +%s)
timeout ${TRAIN_TIMEOUT:-420} $B train --config configs/vin.yaml $RESUME ${STEPS:+--set train.max_steps=$STEPS} ${EXTRA_SET:-} 2>&1 | grep -v '^\[train\] \[' | tail -40 || true
echo "[gpu-host] train wall $(( $(date +%s) - T1 ))s"
mkdir -p $OUT/vin
cp runs/vin/metrics.jsonl runs/vin/config.yaml $OUT/vin/ 2>/dev/null || true
cp runs/vin/best.ckpt runs/vin/last.ckpt runs/vin/last.state $OUT/vin/ 2>/dev/null || true
ls -la $OUT/vin
