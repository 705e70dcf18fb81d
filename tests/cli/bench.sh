#!/usr/bin/env bash
# `ocrkit bench infer|train` end to end on tiny fixtures: a 2-step transformer checkpoint trained on
# synth-lines, two one-page PDFs; one row per batch size in the SQLite table, CSV and JSON that parse,
# a missing --model named in the error. No timing is asserted.
# Usage: bench.sh OCRKIT_BINARY SOURCE_DIR
set -u
BIN=$(realpath "$1")
SRC=$2
source "$(dirname "$0")/infer_common.sh"
rows() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM bench WHERE command=?", (sys.argv[2],)).fetchone()[0])' "$@"; }

expect_rc 0 "$BIN" -q data synth-lines --count 64 --out "$T/lines" --seed 1 --jobs 2
tiny=(--set model.channels=[8,16,16,32] --set model.hidden=32 --set model.layers=1 --set model.heads=2 --set model.ffn=64
      --set data.train=["$T/lines"] --set data.train_ratios=[1] --set data.val=[] --set data.workers=1
      --set augment.enabled=false --set runtime.threads=2)
expect_rc 0 "$BIN" -q train --config "$SRC/configs/printed.yaml" "${tiny[@]}" --set train.batch_size=8 \
  --set train.max_steps=2 --out "$T/run"
[ -f "$T/run/last.ckpt" ] || fail "no checkpoint from the 2-step run"
mkdir -p "$T/pages"
make_pdf "$T/pages/a.pdf" "Hello from ocrkit" "The quick brown fox jumps over the lazy dog"
make_pdf "$T/pages/b.pdf" "Benchmarks print tables" "one row per batch size"

cd "$T"  # the default --db is bench.sqlite in the current folder
export TMPDIR=$T/tmp  # where the benches put (and remove) their run and output folders
mkdir -p "$TMPDIR"
expect_rc 0 "$BIN" -q bench infer --model "$T/run/last.ckpt" --in "$T/pages" --batch-sizes 8,16 --dpi 100 --jobs 2 --device cpu
[ "$(rows bench.sqlite infer)" -eq 2 ] || fail "infer rows: $(rows bench.sqlite infer)"
grep -q "| infer | last.ckpt | cpu" "$T/stdout" || fail "markdown table: $(cat "$T/stdout")"
grep -q "pages/s" "$T/stdout" || fail "no pages/s column: $(cat "$T/stdout")"

expect_rc 0 "$BIN" -q bench train --config "$SRC/configs/printed.yaml" "${tiny[@]}" --batch-sizes 4,8 --steps 2 --warmup 1 --device cpu \
  --db "$T/b.sqlite" --format csv
[ "$(rows "$T/b.sqlite" train)" -eq 2 ] || fail "train rows: $(rows "$T/b.sqlite" train)"
python3 - "$T/stdout" <<'EOF' || fail "CSV: $(cat "$T/stdout")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [r["batch_size"] for r in rows] == ["4", "8"], rows
assert all(r["command"] == "train" and float(r["samples_s"]) > 0 and r["steps"] == "2" for r in rows), rows
EOF
[ -z "$(ls "$TMPDIR")" ] || fail "temporary folders left behind: $(ls "$TMPDIR")"

expect_rc 0 "$BIN" -q bench infer --model "$T/run/last.ckpt" --in "$T/pages/a.pdf" --batch-sizes 4 --dpi 100 --device cpu \
  --db "$T/b.sqlite" --format json
python3 - "$T/stdout" <<'EOF' || fail "JSON: $(cat "$T/stdout")"
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 1 and rows[0]["command"] == "infer" and rows[0]["batch_size"] == 4, rows
assert rows[0]["pages"] == 1 and rows[0]["rss_mb"] > 0 and rows[0].get("cuda_mb") is None, rows
assert rows[0]["commit"] and rows[0]["torch"] and rows[0]["cores"] >= 1, rows
EOF
[ "$(rows "$T/b.sqlite" infer)" -eq 1 ] || fail "rows appended to b.sqlite: $(rows "$T/b.sqlite" infer)"

# A '|' in a name is escaped in the Markdown table, so the row keeps its columns.
cp "$T/run/last.ckpt" "$T/odd|name.ckpt"
expect_rc 0 "$BIN" -q bench infer --model "$T/odd|name.ckpt" --in "$T/pages/a.pdf" --batch-sizes 4 --dpi 100 --device cpu \
  --db "$T/c.sqlite"
grep -qF '| infer | odd\|name.ckpt | cpu |' "$T/stdout" || fail "'|' not escaped: $(cat "$T/stdout")"

# Bad input: a missing checkpoint is named; bad batch sizes are a usage error.
"$BIN" -q bench infer --model "$T/nope.ckpt" --in "$T/pages" >"$T/stdout" 2>"$T/stderr"
rc=$?
[ $rc -ne 0 ] || fail "missing --model: exit 0"
grep -q "nope.ckpt" "$T/stderr" || fail "missing model not named: $(cat "$T/stderr")"
expect_rc 2 "$BIN" -q bench infer --model "$T/run/last.ckpt" --in "$T/pages" --batch-sizes 8,x
echo "ok"
