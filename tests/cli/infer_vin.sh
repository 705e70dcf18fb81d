#!/usr/bin/env bash
# Crop mode on generated VIN crops: `ocrkit data synth-vin` -> `ocrkit infer --lines` with the shipped VIN
# model ($OCRKIT_TEST_VIN_MODEL or models/vin-v1.ckpt; skipped, exit 77, without one). Predictions come
# back in label order and at least 90% of 200 crops read exactly (the pipeline is under test here; the model is measured in models/README.md).
# Usage: infer_vin.sh OCRKIT_BINARY SOURCE_DIR
set -u
BIN=$1
SRC=${2:-.}
source "$(dirname "$0")/infer_common.sh"
MODEL=${OCRKIT_TEST_VIN_MODEL:-$SRC/models/vin-v1.ckpt}
[ -f "$MODEL" ] || { echo "SKIP: no VIN model at $MODEL"; exit 77; }
expect_rc 0 "$BIN" -q data synth-vin --count 200 --out "$T/vin" --seed 90417
expect_rc 0 "$BIN" -q infer --lines "$T/vin/labels.tsv" --out "$T/pred.tsv" --model "$MODEL"
[ "$(wc -l <"$T/pred.tsv")" -eq 200 ] || fail "pred.tsv has $(wc -l <"$T/pred.tsv") rows"
paste "$T/vin/labels.tsv" "$T/pred.tsv" | awk -F'\t' '
  { n++; if (index($3, $1) == 0) { print "FAIL: row " n " is " $3 ", expected " $1; bad = 1; exit 1 } }
  $2 == $4 { ok++ }
  END { if (bad) exit 1; printf "sequence accuracy %.4f (%d/%d)\n", ok / n, ok, n; exit (ok / n >= 0.90 ? 0 : 1) }' ||
  fail "order or accuracy"
echo "ok"
