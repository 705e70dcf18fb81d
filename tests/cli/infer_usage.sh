#!/usr/bin/env bash
# `ocrkit infer` argument handling without a model: usage errors exit 2, a missing model exits 1 with
# a message naming it. Usage: infer_usage.sh OCRKIT_BINARY
set -u
BIN=$1
source "$(dirname "$0")/infer_common.sh"
mkdir -p "$T/in"
make_pdf "$T/in/a.pdf" "hello"
expect_rc 2 "$BIN" infer --out "$T/o"
grep -q -- "--lines" "$T/stderr" || fail "no hint about --in/--lines"
expect_rc 2 "$BIN" infer --in "$T/in" --lines "$T/in" --out "$T/o"
expect_rc 2 "$BIN" infer --in "$T/in" --out "$T/o" --pages 3-1
expect_rc 2 "$BIN" infer --in "$T/in" --out "$T/o" --format txt,pdf
expect_rc 2 "$BIN" infer --in "$T/missing" --out "$T/o"
mkdir -p "$T/empty"
expect_rc 2 "$BIN" infer --in "$T/empty" --out "$T/o"
expect_rc 2 "$BIN" infer --in "$T/in" --out "$T/o" --skip-existing --overwrite
expect_rc 1 "$BIN" infer --in "$T/in" --out "$T/o" --model "$T/none.ckpt"
grep -q "none.ckpt.*not found" "$T/stderr" || fail "missing model not named: $(cat "$T/stderr")"
[ ! -e "$T/o/a.txt" ] || fail "outputs written without a model"
echo "ok"
