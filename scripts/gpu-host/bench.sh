#!/usr/bin/env bash
# On the GPU host: the GPU half of bench/RESULTS.md in one call (about 8 minutes on an H100 with 16 cores).
#
#   infer   models/printed-v1.ckpt on the held-out PDFs of the CPU tables (.gpu/bench-pdfs), rendered at
#           200 dpi by all host cores, recognised on CUDA, per batch size
#   train   configs/printed.yaml on 20,000 synthetic lines, per batch size: `ocrkit bench train` with
#           and without on-the-fly augmentation, and bench/reference_train.py (the same model, batch and
#           lines in PyTorch-in-Python) beside it
#
# Carried in: .gpu/deps.tar.xz (make-prefix.sh; not needed once the machine has /opt/ocrkit-deps) and
# .gpu/bench-pdfs. Results to $OUT: bench.sqlite, bench-*.md, reference-*.jsonl, the logs.
set -eo pipefail
. scripts/gpu-host/build.sh
B=build-cuda/ocrkit
OUT=${OUT:-out}
mkdir -p "$OUT"
DB=$OUT/bench.sqlite
BATCHES=${TRAIN_BATCHES:-64,128,256,512}
STEPS=${TRAIN_STEPS:-200}
WARMUP=${TRAIN_WARMUP:-100}  # batch widths vary, so the first ~100 steps still pick kernels for new shapes
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c 'import torch; print("python torch", torch.__version__, torch.cuda.get_device_name(0))'

if [ -z "$SKIP_INFER" ]; then
  $B bench infer --model models/printed-v1.ckpt --in .gpu/bench-pdfs --dpi 200 --device cuda --jobs 0 \
    --batch-sizes ${INFER_BATCHES:-64,256,1024} --db "$DB" --format md 2>&1 | tee "$OUT/bench-infer.md"
fi

[ -n "$SKIP_TRAIN" ] && exit 0
[ -f data/bench-lines/labels.tsv ] || $B -q data synth-lines --count 20000 --out data/bench-lines --seed 1 --jobs 0
LINES=(--set data.train=[data/bench-lines] --set data.train_ratios=[1] --set data.val=[])
$B bench train --config configs/printed.yaml "${LINES[@]}" --set augment.enabled=false \
  --batch-sizes $BATCHES --steps $STEPS --warmup $WARMUP --device cuda --db "$DB" --format md 2>&1 | tee "$OUT/bench-train.md"
PYTHONUNBUFFERED=1 python3 bench/reference_train.py --config configs/printed.yaml "${LINES[@]}" --expect-params 553563 \
  --batch-sizes $BATCHES --steps $STEPS --warmup $WARMUP --json "$OUT/reference-train.jsonl" 2>&1 | tee "$OUT/reference-train.md"
# The shipped config's on-the-fly augmentation (CPU work per sample): does the loader still keep up?
$B bench train --config configs/printed.yaml "${LINES[@]}" \
  --batch-sizes $BATCHES --steps $STEPS --warmup $WARMUP --device cuda --db "$DB" --format md 2>&1 | tee "$OUT/bench-train-augment.md"
cp build-cuda.log "$OUT/" 2>/dev/null || true
