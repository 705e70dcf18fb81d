#!/usr/bin/env bash
# End-to-end: `ocrkit data synth-lines` writes N PNGs and a Paddle-style labels.tsv of text from the
# given corpus, identical for any --jobs, and refuses a missing text file naming it.
# Usage: synth_lines.sh OCRKIT_BINARY
set -euo pipefail
ocrkit=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

printf 'img/1.png\tPeppercorn aardvarks juggle quietly beneath the observatory dome.\n' > "$work/corpus.tsv"
printf 'Peppercorn aardvarks juggle quietly beneath the observatory dome.\n' > "$work/corpus.txt"
"$ocrkit" -q data synth-lines --text "$work/corpus.tsv" "$work/corpus.txt" --count 20 --out "$work/a" --seed 3 --jobs 1
"$ocrkit" -q data synth-lines --text "$work/corpus.tsv" "$work/corpus.txt" --count 20 --out "$work/b" --seed 3 --jobs 2

[ "$(wc -l < "$work/a/labels.tsv")" -eq 20 ] || fail "expected 20 label lines"
[ "$(ls "$work/a/img" | wc -l)" -eq 20 ] || fail "expected 20 images"
[ ! -e "$work/a/labels.tsv.tmp" ] || fail "temporary label file left behind"
grep -Evq $'^img/[0-9]{6}\\.png\t.+$' "$work/a/labels.tsv" && fail "malformed label line"
grep -q "aardvarks\|observatory\|Peppercorn\|juggle" "$work/a/labels.tsv" || fail "corpus text not in the labels"
diff -r "$work/a" "$work/b" >/dev/null || fail "output differs between --jobs 1 and --jobs 2"

set +e
msg=$("$ocrkit" -q data synth-lines --text "$work/missing.txt" --count 5 --out "$work/c" --seed 1 2>&1); rc=$?
set -e
[ $rc -ne 0 ] || fail "a missing --text file should fail"
echo "$msg" | grep -q "missing.txt" || fail "error does not name the missing file: $msg"
echo "ok"
