#!/usr/bin/env bash
# End-to-end: train a tiny VIN checkpoint on generated crops, `ocrkit eval` it, check that the stored run
# matches a recomputation from its own samples table and the file hashes, that an unreadable crop becomes
# an error sample (exit 3) while the rest is scored, then score Tesseract on the same crops and see both
# runs side by side in `eval report` and `eval compare`.
# usage: eval_model_e2e.sh OCRKIT_BINARY SOURCE_DIR
set -euo pipefail
source "$(dirname "$0")/eval_lib.sh"
ocrkit=$1 src=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
db=$T/results.sqlite
export OPENBLAS_NUM_THREADS=1

"$ocrkit" -q data synth-vin --count 256 --out "$T/train" --seed 11 --jobs 1
"$ocrkit" -q data synth-vin --count 24 --out "$T/val" --seed 12 --jobs 1
"$ocrkit" -q train --config "$src/configs/vin.yaml" --out "$T/run" --device cpu --threads 1 \
  --set "data.train=[$T/train]" --set "data.val=[$T/val]" --set train.max_steps=40 --set train.batch_size=16 \
  --set train.val_every=40 --set train.warmup_steps=5 --set train.log_every=20 --set augment.enabled=false \
  --set "model.channels=[8,16,32,32]" --set model.hidden=32 --set model.layers=1 > "$T/train.out"
ckpt=$T/run/best.ckpt
[[ -f $ckpt ]] || ckpt=$T/run/last.ckpt
[[ -f $ckpt ]] || fail "training wrote no checkpoint: $(cat "$T/train.out")"

"$ocrkit" -q eval --model "$ckpt" --data "$T/val" --db "$db" --name tiny --vin --device cpu --threads 1 \
  --batch-size 8 > "$T/eval.out" || fail "eval failed: $(cat "$T/eval.out")"
grep -q "samples      24 scored, 0 errors" "$T/eval.out" || fail "eval summary: $(cat "$T/eval.out")"
q() { sqlite3 -batch -noheader "$db" "$1"; }
[[ $(q "SELECT kind || ' ' || engine || ' ' || n FROM runs WHERE name = 'tiny'") == "model ocrkit 24" ]] || fail "run row"
[[ $(q "SELECT model_sha256 FROM runs WHERE name = 'tiny'") == $(sha256sum "$ckpt" | cut -d' ' -f1) ]] ||
  fail "model sha256 differs from sha256sum"
[[ $(q "SELECT data_sha256 FROM runs WHERE name = 'tiny'") == $(sha256sum "$T/val/labels.tsv" | cut -d' ' -f1) ]] ||
  fail "data sha256 differs from sha256sum of labels.tsv"
[[ -n $(q "SELECT device FROM runs WHERE name = 'tiny'") && -n $(q "SELECT config FROM runs WHERE name = 'tiny'") ]] ||
  fail "device or config not stored"
[[ $(q "SELECT COUNT(*) FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.name = 'tiny' AND s.confidence IS NULL") -eq 0 ]] ||
  fail "model samples without confidence"

# An unreadable crop is an error sample; the other items are still scored; exit status 3.
cp -r "$T/val" "$T/val_bad"
printf 'not a png at all' > "$T/val_bad/img/broken.png"
printf 'img/broken.png\t1M8GDM9AXKP042788\n' >> "$T/val_bad/labels.tsv"
set +e
"$ocrkit" -q eval --model "$ckpt" --data "$T/val_bad" --db "$db" --name tiny-bad --device cpu --threads 1 > "$T/bad.out"
rc=$?
set -e
[[ $rc -eq 3 ]] || fail "eval with an unreadable crop should exit 3, got $rc"
[[ $(q "SELECT n || ' ' || n_errors FROM runs WHERE name = 'tiny-bad'") == "24 1" ]] || fail "tiny-bad counts"
[[ $(q "SELECT COUNT(*) FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.name = 'tiny-bad' AND s.error LIKE '%broken.png%'") -eq 1 ]] ||
  fail "the unreadable crop's error does not name it"

# Tesseract on the same crops, scored into the same database.
bash "$src/bench/tesseract_crops.sh" "$T/val" "$T/tess.tsv" --vin 2> "$T/tess.err" || fail "tesseract: $(cat "$T/tess.err")"
"$ocrkit" -q eval score --truth "$T/val" --pred "$T/tess.tsv" --engine tesseract --vin --db "$db" > /dev/null
eval_check_recompute "$db"

"$ocrkit" -q eval report --db "$db" --html "$T/report.html" > "$T/report.txt"
grep -q "tiny " "$T/report.txt" && grep -q "tesseract" "$T/report.txt" || fail "report: $(cat "$T/report.txt")"
grep -q "data:image/png;base64," "$T/report.html" || fail "HTML has no embedded crops"
"$ocrkit" -q eval compare --db "$db" tiny tesseract --format json > "$T/cmp.json"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert c["common"]==24 and c["a"]["name"]=="tiny" and c["b"]["engine"]=="tesseract", c' \
  "$T/cmp.json" || fail "compare"
if [[ -n ${EVAL_E2E_KEEP:-} ]]; then cp "$db" "$T/report.html" "$EVAL_E2E_KEEP/"; fi
echo "eval_model_e2e: OK"
