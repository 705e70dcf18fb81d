#!/usr/bin/env bash
# End-to-end: `ocrkit eval score` on generated VIN crops with made-up predictions, then `eval report`
# (every format + HTML) and `eval compare`, checked against values computed here and against SQL over the
# samples table. usage: eval_score_e2e.sh OCRKIT_BINARY
set -euo pipefail
source "$(dirname "$0")/eval_lib.sh"
ocrkit=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
db=$T/results.sqlite

"$ocrkit" -q data synth-vin --count 12 --out "$T/vin" --seed 7 --jobs 1
labels=$T/vin/labels.tsv
[[ $(wc -l < "$labels") -eq 12 ]] || fail "expected 12 labels"

# Predictions A (absolute paths): every 3rd VIN gets its last character replaced -> 4 errors of 204 chars.
# Predictions B (paths relative to the label folder): every 4th VIN -> 3 errors.
mutate() {  # $1: period, $2: path prefix
  awk -F'\t' -v p="$1" -v pre="$2" 'BEGIN { OFS = "\t" }
    { t = $2; if (NR % p == 0) t = substr(t, 1, 16) (substr(t, 17, 1) == "Z" ? "Y" : "Z"); print pre $1, t, "0.9" }' "$labels"
}
mutate 3 "$T/vin/" > "$T/a.tsv"
mutate 4 "" > "$T/b.tsv"
"$ocrkit" -q eval score --truth "$labels" --pred "$T/a.tsv" --db "$db" --name A --engine fake-a --vin > "$T/a.out"
"$ocrkit" -q eval score --truth "$labels" --pred "$T/b.tsv" --db "$db" --name B --engine fake-b --vin > "$T/b.out"
grep -q "CER          1.96%" "$T/a.out" || fail "A summary: $(cat "$T/a.out")"
grep -q "CER          1.47%" "$T/b.out" || fail "B summary: $(cat "$T/b.out")"

# One prediction for an unknown image and one labelled image without a prediction: exit 3, loudly.
{ head -n 11 "$T/a.tsv"; printf 'img/nope.png\tXXX\t0.5\n'; } > "$T/c.tsv"
set +e
"$ocrkit" eval score --truth "$labels" --pred "$T/c.tsv" --db "$db" --name C > "$T/c.out" 2> "$T/c.err"
rc=$?
set -e
[[ $rc -eq 3 ]] || fail "partial score should exit 3, got $rc"
grep -q "matches no labelled item" "$T/c.err" || fail "unmatched prediction not reported: $(cat "$T/c.err")"
grep -q "has no prediction" "$T/c.err" || fail "missing prediction not reported"

# Stored values agree with the expected ones and with a recomputation from the samples table.
q() { sqlite3 -batch -noheader "$db" "$1"; }
[[ $(q "SELECT COUNT(*) FROM runs") -eq 3 ]] || fail "expected 3 runs"
[[ $(q "SELECT n || ' ' || n_errors || ' ' || char_errors || ' ' || chars FROM runs WHERE name = 'A'") == "12 0 4 204" ]] ||
  fail "run A counts: $(q "SELECT n, n_errors, char_errors, chars FROM runs WHERE name = 'A'")"
[[ $(q "SELECT n || ' ' || n_errors FROM runs WHERE name = 'C'") == "11 1" ]] || fail "run C counts"
eval_check_recompute "$db"

# Reports.
"$ocrkit" -q eval report --db "$db" --format csv > "$T/runs.csv"
python3 - "$T/runs.csv" <<'PY' || fail "CSV report"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [r["name"] for r in rows] == ["A", "B", "C"], rows
assert abs(float(rows[0]["cer"]) - 4 / 204) < 1e-6, rows[0]["cer"]
PY
"$ocrkit" -q eval report --db "$db" --format json > "$T/runs.json"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert len(r)==3 and r[1]["engine"]=="fake-b" and r[1]["extra"]["metrics"]["vin"]' "$T/runs.json" ||
  fail "JSON report"
"$ocrkit" -q eval report --db "$db" --format md | grep -q "^| id | name |" || fail "Markdown report"
"$ocrkit" -q eval report --db "$db" --html "$T/report.html" | grep -q "fake-a" || fail "table report"
grep -q "data:image/png;base64," "$T/report.html" || fail "HTML has no embedded crops"
grep -q "<svg" "$T/report.html" || fail "HTML has no chart"
! grep -Eq "(src|href)=\"(https?:|//|file:)" "$T/report.html" || fail "HTML refers to external resources"

# Compare: predictions differ on lines 3, 6, 9 (fixed in B), 4, 8 (broken in B); line 12 is wrong in both.
"$ocrkit" -q eval compare --db "$db" A B > "$T/cmp.txt"
grep -q "5 predictions changed: 3 fixed, 2 broken" "$T/cmp.txt" || fail "compare text: $(cat "$T/cmp.txt")"
"$ocrkit" -q eval compare --db "$db" 1 2 --format json > "$T/cmp.json"
python3 - "$T/cmp.json" "$T/vin" <<'PY' || fail "compare JSON"
import json, sys
c = json.load(open(sys.argv[1]))
names = sorted(x["path"].rsplit("/", 1)[1] for x in c["changed"])
assert names == ["000002.png", "000003.png", "000005.png", "000007.png", "000008.png"], names
assert abs(c["delta"]["cer"] - (3 - 4) / 204) < 1e-9, c["delta"]
PY

# A database from a newer ocrkit is refused with a clear message.
cp "$db" "$T/newer.sqlite"
sqlite3 "$T/newer.sqlite" "UPDATE schema_version SET version = 99"
if "$ocrkit" -q eval report --db "$T/newer.sqlite" 2> "$T/newer.err"; then fail "newer schema accepted"; fi
grep -q "newer than this ocrkit" "$T/newer.err" || fail "newer schema message: $(cat "$T/newer.err")"
echo "eval_score_e2e: OK"
