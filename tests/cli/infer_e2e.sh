#!/usr/bin/env bash
# `ocrkit infer` end to end with a real checkpoint ($OCRKIT_TEST_MODEL or models/printed-v1.ckpt;
# skipped, exit 77, without one): a folder with a good PDF and bad files -> outputs for the good one,
# errors.json for the rest, exit 3; --skip-existing resumes; crop mode keeps input order.
# Usage: infer_e2e.sh OCRKIT_BINARY SOURCE_DIR
set -u
BIN=$1
SRC=${2:-.}
source "$(dirname "$0")/infer_common.sh"
MODEL=${OCRKIT_TEST_MODEL:-$SRC/models/printed-v1.ckpt}
[ -f "$MODEL" ] || { echo "SKIP: no model at $MODEL"; exit 77; }

mkdir -p "$T/in"
make_pdf "$T/in/doc.pdf" "Hello from ocrkit" "The quick brown fox jumps over the lazy dog"
: >"$T/in/empty.pdf"
printf '%%PDF-1.4\nnot really a pdf\n' >"$T/in/corrupt.pdf"
printf '\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x75\x30\0\0\x75\x30\x08\0\0\0\0\0\0\0\0' >"$T/in/huge.png"
printf '\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x64\0\0\0\x64\x08\0\0\0\0\0\0\0\0IDAT' >"$T/in/truncated.png"

expect_rc 3 "$BIN" -q infer --in "$T/in" --out "$T/out" --model "$MODEL" --format txt,json,md,hocr --jobs 2
for ext in txt json md hocr; do [ -s "$T/out/doc.$ext" ] || fail "doc.$ext missing"; done
grep -q '"dpi":300' "$T/out/doc.json" || fail "page JSON without dpi 300"
[ "$(grep -o '"reason"' "$T/out/errors.json" | wc -l)" -eq 4 ] || fail "errors.json: $(cat "$T/out/errors.json")"
for bad in empty corrupt huge truncated; do
  grep -q "$bad" "$T/out/errors.json" || fail "$bad not in errors.json"
  [ ! -e "$T/out/$bad.txt" ] || fail "$bad.txt written"
done
grep -q "files 5 (4 failed), pages 1" "$T/stdout" || fail "summary: $(cat "$T/stdout")"
grep -qi "quick" "$T/out/doc.txt" || echo "note: model did not read 'quick': $(cat "$T/out/doc.txt")"

# Resume: only the missing output's input is redone.
rm "$T/out/doc.json"
touch -d '2000-01-01' "$T/out/doc.txt"
expect_rc 3 "$BIN" -q infer --in "$T/in/doc.pdf" "$T/in/empty.pdf" --out "$T/out" --model "$MODEL" --format txt,json,md,hocr --skip-existing
[ -s "$T/out/doc.json" ] || fail "doc.json not redone"
expect_rc 0 "$BIN" -q infer --in "$T/in/doc.pdf" --out "$T/out" --model "$MODEL" --format txt,json --skip-existing
grep -q "skipped" "$T/stdout" || fail "nothing skipped: $(cat "$T/stdout")"
expect_rc 3 "$BIN" -q infer --in "$T/in/doc.pdf" --out "$T/out" --model "$MODEL" --format txt
grep -q "overwrite" "$T/stderr" || fail "existing outputs not refused"

# Crop mode: a folder of images, one unreadable; rows in sorted order, the bad one empty.
mkdir -p "$T/crops"
cp "$T/in/truncated.png" "$T/crops/b.png"
expect_rc 0 "$BIN" -q infer --in "$T/in/doc.pdf" --out "$T/vis" --model "$MODEL" --format txt --visualize
cp "$T/vis/doc.page-001.png" "$T/crops/a.png"
cp "$T/vis/doc.page-001.png" "$T/crops/c.png"
expect_rc 3 "$BIN" -q infer --lines "$T/crops" --out "$T/pred.tsv" --model "$MODEL"
[ "$(wc -l <"$T/pred.tsv")" -eq 3 ] || fail "pred.tsv rows: $(cat "$T/pred.tsv")"
[ "$(cut -f1 "$T/pred.tsv" | xargs -n1 basename | tr '\n' ' ')" = "a.png b.png c.png " ] || fail "order: $(cat "$T/pred.tsv")"
[ "$(sed -n 2p "$T/pred.tsv" | cut -f2,3)" = "$(printf '\t0.0000')" ] || fail "bad crop row: $(sed -n 2p "$T/pred.tsv")"
echo "ok"
