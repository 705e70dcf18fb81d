# Helpers for the infer CLI tests (sourced).
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_rc CODE CMD...: runs CMD (stdout/stderr kept in $T/stdout, $T/stderr) and checks its exit code.
expect_rc() {
  local want=$1
  shift
  "$@" >"$T/stdout" 2>"$T/stderr"
  local rc=$?
  [ "$rc" -eq "$want" ] || { cat "$T/stderr" >&2; fail "expected exit $want, got $rc: $*"; }
}
# make_pdf FILE LINE...: a one-page US-letter PDF with the lines in Helvetica 14 pt (correct xref).
make_pdf() {
  local file=$1
  shift
  local content="BT /F1 14 Tf 22 TL 72 706 Td"
  for line in "$@"; do content+=" ($line) Tj T*"; done
  content+=" ET"
  local objs=(
    "<< /Type /Catalog /Pages 2 0 R >>"
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
    "<< /Length ${#content} >>
stream
$content
endstream"
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
  local out="%PDF-1.4"$'\n' offsets=() i
  for i in "${!objs[@]}"; do
    offsets+=("${#out}")
    out+="$((i + 1)) 0 obj"$'\n'"${objs[$i]}"$'\n'"endobj"$'\n'
  done
  local xref=${#out}
  out+="xref"$'\n'"0 6"$'\n'"0000000000 65535 f "$'\n'
  for i in "${offsets[@]}"; do out+=$(printf '%010d 00000 n ' "$i")$'\n'; done
  out+="trailer"$'\n'"<< /Size 6 /Root 1 0 R >>"$'\n'"startxref"$'\n'"$xref"$'\n'"%%EOF"$'\n'
  printf '%s' "$out" >"$file"
}
