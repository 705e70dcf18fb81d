#!/usr/bin/env bash
# Sets up ocrkit (packages + build) and runs the main jobs on the shipped default models:
#  1. pages: the bundled samples (samples/sample.pdf, a born-digital page; samples/sample-scan.jpg, a
#     degraded 200-dpi scan of it) -> ocrkit infer with models/printed-v1.ckpt -> txt, md, page JSON, hOCR;
#  2. VIN: generated VIN crops -> ocrkit infer (crop mode) -> predictions TSV -> ocrkit eval into SQLite
#     -> HTML report.
# Outputs land in demo-out/ (override with OUT=...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
OUT=${OUT:-demo-out}
BIN=build/ocrkit
mkdir -p "$OUT"
export OPENBLAS_NUM_THREADS=1
$BIN infer --in samples/sample.pdf samples/sample-scan.jpg --out "$OUT/pages" --format txt,md,json,hocr --overwrite
# Sample inputs made here (nothing is downloaded): 100 VIN crops of many styles, seed 424242.
[ -f "$OUT/crops/labels.tsv" ] || $BIN data synth-vin --count 100 --out "$OUT/crops" --seed 424242
$BIN infer --lines "$OUT/crops" --out "$OUT/predictions.tsv" --model models/vin-v1.ckpt --overwrite
$BIN eval --model models/vin-v1.ckpt --data "$OUT/crops" --db "$OUT/results.sqlite" --name demo-vin-v1 --vin
$BIN eval report --db "$OUT/results.sqlite" --html "$OUT/report.html"
echo
echo "pages (text, markdown, page JSON, hOCR): $OUT/pages/sample.txt, sample.md, sample.json, sample.hocr (and sample-scan.*)"
echo "predictions (path, text, confidence): $OUT/predictions.tsv"
echo "every run and sample:                 $OUT/results.sqlite   (ocrkit eval report --db $OUT/results.sqlite)"
echo "report with worst samples:            $OUT/report.html"
