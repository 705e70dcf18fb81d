#!/usr/bin/env bash
# On the GPU host: train the printed-text model and fine-tune the VIN model side by side, in the
# background, so that one machine lease (several calls of at most 10 minutes) holds both runs.
#
#   MODE=start   build, make the data, start both trainings (setsid: they outlive the call), then watch
#   MODE=watch   watch for WATCH_S seconds (default 540)
#   MODE=collect stop both trainings (SIGINT: last.ckpt + last.state), pack runs/ into $OUT
#
# Carried in: .gpu/deps.tar.xz (make-prefix.sh) and the training PDFs, PDF_DIR (default .gpu/pdfs:
# bench/pack_training_pdfs.sh .gpu/pdfs 11).
# Runs carried back in (.gpu/runs.tgz.*) are resumed. Sizes: VIN_COUNT, SYNTH_COUNT, VIN_STEPS, VIN_LR,
# data seeds VIN_SEED, SYNTH_SEED, PRINTED_ARGS (e.g. --init models/printed-v1.ckpt) and PRINTED_SET
# (more --set) for a fresh printed run, CALL_S (seconds the start call may take), TRAIN=vin or printed
# for one run alone (default both; a VIN run alone needs no PDFs).
set -eo pipefail
MODE=${MODE:-start}
if [ -z "$OCRKIT_BIN" ]; then . scripts/gpu-host/build.sh; fi  # OCRKIT_BIN: a dry run with a local build
B=${OCRKIT_BIN:-build-cuda/ocrkit}

report() {  # last validation of each run and the trainer's latest progress line
  for r in printed vin; do
    [ -f runs/$r/train.log ] || continue
    echo "== $r"
    grep '"val_' runs/$r/metrics.jsonl | tail -3 || true
    tail -c 400 runs/$r/train.log | tr '\r' '\n' | tail -2
  done
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader || true
}

watch_for() {  # seconds
  local end=$(( $(date +%s) + $1 ))
  while [ "$(date +%s)" -lt "$end" ]; do sleep 60; report | tail -4; done
}

if [ "$MODE" = start ]; then
  T0=$(date +%s)
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  if ls .gpu/runs.tgz.* >/dev/null 2>&1; then cat .gpu/runs.tgz.* | tar -xzf -; fi
  TRAIN=${TRAIN:-both}
  # Alone, the VIN run gets every core for its data and loader; beside the printed run, a share.
  VIN_JOBS=6 VIN_WORKERS=5; [ "$TRAIN" = vin ] && VIN_JOBS=0 VIN_WORKERS=14
  if [ "$TRAIN" != printed ]; then
    [ -f data/vin-train/labels.tsv ] || $B -q data synth-vin --count ${VIN_COUNT:-300000} --out data/vin-train --seed ${VIN_SEED:-4} --jobs $VIN_JOBS &
    [ -f data/vin-val/labels.tsv ] || $B -q data synth-vin --count 2000 --out data/vin-val --seed 2 --jobs 2 &
  fi
  if [ "$TRAIN" != vin ]; then
    # Printed: 9 of every 10 packed PDFs for training, the 10th for validation (whole PDFs apart).
    mapfile -t pdfs < <(find "${PDF_DIR:-.gpu/pdfs}" -name '*.pdf*' | LC_ALL=C sort)
    train=() val=()
    for i in "${!pdfs[@]}"; do if (( i % 10 == 9 )); then val+=("${pdfs[$i]}"); else train+=("${pdfs[$i]}"); fi; done
    echo "[gpu-host] ${#train[@]} training PDFs, ${#val[@]} validation PDFs"
    [ -f data/printed-harvest/labels.tsv ] || $B -q data harvest --pdf "${train[@]}" --out data/printed-harvest --jobs 8 | tail -3
    [ -f data/printed-val/labels.tsv ] || $B -q data harvest --pdf "${val[@]}" --out data/printed-val --max-lines 2000 --seed 2 --jobs 8 | tail -3
  fi
  wait
  echo "[gpu-host] data in $(( $(date +%s) - T0 ))s"
  mkdir -p runs/vin runs/printed
  if [ "$TRAIN" != printed ]; then
    VIN_ARGS="--init models/vin-v1.ckpt --set train.lr=${VIN_LR:-0.0007} --set train.warmup_steps=300 --set train.max_steps=${VIN_STEPS:-12000}"
    [ -f runs/vin/last.state ] && VIN_ARGS="--resume runs/vin"
    setsid nohup $B train --config configs/vin.yaml $VIN_ARGS --set data.workers=$VIN_WORKERS \
      --set train.seed=${VIN_SEED:-4} > runs/vin/train.log 2>&1 < /dev/null &
  fi
  if [ "$TRAIN" != vin ]; then  # the synthetic lines are made while the VIN run trains
    [ -f data/printed-synth/labels.tsv ] || $B -q data synth-lines --text data/printed-harvest/labels.tsv \
      --count ${SYNTH_COUNT:-400000} --out data/printed-synth --seed ${SYNTH_SEED:-1} --jobs 12 | tail -2
    echo "[gpu-host] all data in $(( $(date +%s) - T0 ))s"
    P_ARGS=${PRINTED_ARGS:-}; [ -f runs/printed/last.state ] && P_ARGS="--resume runs/printed"
    setsid nohup $B train --config configs/printed.yaml $P_ARGS --set data.workers=10 ${PRINTED_SET:-} \
      > runs/printed/train.log 2>&1 < /dev/null &
  fi
  sleep 5
  head -5 runs/*/train.log 2>/dev/null || true
  watch_for $(( ${CALL_S:-570} - ($(date +%s) - T0) ))
elif [ "$MODE" = watch ]; then
  watch_for ${WATCH_S:-540}
  mkdir -p $OUT/snap
  cp runs/printed/best.ckpt $OUT/snap/printed-best.ckpt 2>/dev/null || true
  cp runs/vin/best.ckpt $OUT/snap/vin-best.ckpt 2>/dev/null || true
elif [ "$MODE" = collect ]; then
  pkill -INT -f "ocrkit train" || true
  for _ in $(seq 60); do pgrep -f "ocrkit train" >/dev/null || break; sleep 2; done
  report
  tail -n 5 runs/*/train.log 2>/dev/null || true
  tar -czf - --exclude='*.tmp.*' runs/printed runs/vin | split -b 15M - $OUT/runs.tgz.
  ls -la $OUT
fi
