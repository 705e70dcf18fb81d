#!/usr/bin/env bash
# End-to-end: `ocrkit data synth-vin` writes N PNGs and a Paddle-style labels.tsv of valid-looking VINs,
# identical for any --jobs, and refuses bad arguments with a usage error.
# Usage: synth_vin.sh OCRKIT_BINARY
set -euo pipefail
ocrkit=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$ocrkit" -q data synth-vin --count 30 --out "$work/a" --seed 7 --jobs 1
"$ocrkit" -q data synth-vin --count 30 --out "$work/b" --seed 7 --jobs 2 --invalid-share 0.1

[ "$(wc -l < "$work/a/labels.tsv")" -eq 30 ] || fail "expected 30 label lines"
[ "$(ls "$work/a/img" | wc -l)" -eq 30 ] || fail "expected 30 images"
[ ! -e "$work/a/labels.tsv.tmp" ] || fail "temporary label file left behind"
# img/NNNNNN.png<TAB>17 VIN characters (never I, O, Q).
grep -Evq $'^img/[0-9]{6}\\.png\t[0-9A-HJ-NPR-Z]{17}$' "$work/a/labels.tsv" && fail "malformed label line"
diff -r "$work/a" "$work/b" >/dev/null || fail "output differs between --jobs 1 and --jobs 2"

"$ocrkit" -q data synth-vin --count 5 --out "$work/c" --seed 8 >/dev/null
cmp -s "$work/a/labels.tsv" "$work/c/labels.tsv" && fail "different seeds gave the same labels"

# Usage errors exit 2; a folder without fonts is a clear error (exit 1).
set +e
"$ocrkit" -q data synth-vin --count 5 --seed 1 2>/dev/null; [ $? -eq 2 ] || fail "missing --out should exit 2"
"$ocrkit" -q data synth-vin --count 5 --out "$work/d" --seed 1 --invalid-share 2 2>/dev/null
[ $? -eq 2 ] || fail "--invalid-share 2 should exit 2"
msg=$("$ocrkit" -q data synth-vin --count 5 --out "$work/e" --seed 1 --fonts "$work/a/img" 2>&1); rc=$?
set -e
[ $rc -eq 1 ] || fail "--fonts without fonts should exit 1 (got $rc)"
echo "$msg" | grep -q "no usable" || fail "unclear font error: $msg"
echo "ok"
