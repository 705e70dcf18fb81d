#!/usr/bin/env bash
# Sets up ocrkit (packages + build) and runs the main job on the shipped default VIN model:
# generated VIN crops -> ocrkit infer (crop mode) -> predictions TSV -> ocrkit eval into SQLite -> HTML report.
# Outputs land in demo-out/ (override with OUT=...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
OUT=${OUT:-demo-out}
BIN=build/ocrkit
mkdir -p "$OUT"
export OPENBLAS_NUM_THREADS=1
# Sample inputs made here (nothing is downloaded): 100 VIN crops of many styles, seed 424242.
[ -f "$OUT/crops/labels.tsv" ] || $BIN data synth-vin --count 100 --out "$OUT/crops" --seed 424242
$BIN infer --lines "$OUT/crops" --out "$OUT/predictions.tsv" --model models/vin-v1.ckpt --overwrite
$BIN eval --model models/vin-v1.ckpt --data "$OUT/crops" --db "$OUT/results.sqlite" --name demo-vin-v1 --vin
$BIN eval report --db "$OUT/results.sqlite" --html "$OUT/report.html"
echo
echo "predictions (path, text, confidence): $OUT/predictions.tsv"
echo "every run and sample:                 $OUT/results.sqlite   (ocrkit eval report --db $OUT/results.sqlite)"
echo "report with worst samples:            $OUT/report.html"
