#!/usr/bin/env bash
# Runs Tesseract 5 (one text line per crop, --psm 7) over the crops of a label file and writes the
# prediction TSV that `ocrkit eval score` reads: absolute-path<TAB>prediction<TAB>confidence, in label
# order. Confidence = mean word confidence / 100 (empty when Tesseract found no word).
#
# usage: bench/tesseract_crops.sh LABELS OUT.tsv [--vin] [--psm N] [--lang L] [--jobs N]
#   LABELS  Paddle TSV (path<TAB>label), JSONL ({"image","text"}) or a folder with labels.tsv/labels.jsonl
#   --vin   restrict Tesseract to the VIN alphabet (tessedit_char_whitelist)
#   --jobs  parallel Tesseract processes (each with OMP_THREAD_LIMIT=1); default 1
# Then: ocrkit eval score --truth LABELS --pred OUT.tsv --engine tesseract [--vin]
# Prints to stderr the settings, the crop count and the throughput (lines/s).
set -euo pipefail

usage() { sed -n 2,12p "$0" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
labels=$1 out=$2
shift 2
psm=7 lang=eng jobs=1 whitelist=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --vin) whitelist=0123456789ABCDEFGHJKLMNPRSTUVWXYZ ;;
    --psm) psm=$2; shift ;;
    --lang) lang=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    *) usage ;;
  esac
  shift
done
command -v tesseract >/dev/null || { echo "tesseract_crops: tesseract is not installed" >&2; exit 1; }

if [[ -d $labels ]]; then
  if [[ -f $labels/labels.tsv ]]; then labels=$labels/labels.tsv
  elif [[ -f $labels/labels.jsonl ]]; then labels=$labels/labels.jsonl
  else echo "tesseract_crops: $labels has no labels.tsv or labels.jsonl" >&2; exit 1; fi
fi
[[ -f $labels ]] || { echo "tesseract_crops: $labels: label file not found" >&2; exit 1; }
base=$(cd "$(dirname "$labels")" && pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The image paths, absolute, one per line, in label order.
if [[ $labels == *.jsonl || $labels == *.json ]]; then
  python3 -c 'import json,sys
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip(): print(json.loads(line)["image"])' "$labels"
else
  sed 's/\r$//; s/^\xEF\xBB\xBF//' "$labels" | awk -F'\t' 'NF >= 2 && $1 != "" {print $1}'
fi | while IFS= read -r p; do
  [[ $p == /* ]] && echo "$p" || echo "$base/$p"
done > "$work/paths"
count=$(wc -l < "$work/paths")
[[ $count -gt 0 ]] || { echo "tesseract_crops: no items in $labels" >&2; exit 1; }

opts=(--psm "$psm" -l "$lang")
[[ -n $whitelist ]] && opts+=(-c "tessedit_char_whitelist=$whitelist")
echo "[bench] tesseract $(tesseract --version 2>&1 | head -1 | awk '{print $2}') ${opts[*]} on $count crops, $jobs job(s), OMP_THREAD_LIMIT=1" >&2

# One crop: its TSV line into $work/NNNNNN (words of level 5 joined by spaces, mean confidence).
export OMP_THREAD_LIMIT=1 work
one() {
  local idx=$1 path=$2 tsv
  shift 2
  if tsv=$(tesseract "$path" stdout "$@" tsv 2>/dev/null); then
    printf '%s\n' "$tsv" | awk -F'\t' -v path="$path" '
      NR > 1 && $1 == 5 && $11 >= 0 && $12 != "" { text = text (n ? " " : "") $12; conf += $11; n++ }
      END { if (n) printf "%s\t%s\t%.4f\n", path, text, conf / n / 100; else printf "%s\t\t\n", path }'
  else
    printf '%s\t\t\n' "$path"  # unreadable crop: empty prediction (eval score counts it as wrong)
  fi > "$work/$(printf %06d "$idx")"
}
export -f one
start=$(date +%s.%N)
nl -ba -nln -w1 -s$'\t' "$work/paths" | tr '\n' '\0' |
  xargs -0 -P "$jobs" -I{} bash -c 'IFS=$'"'"'\t'"'"' read -r i p <<< "$1"; shift; one "$i" "$p" "$@"' _ {} "${opts[@]}"
end=$(date +%s.%N)
cat "$work"/[0-9]* > "$out.tmp" && mv "$out.tmp" "$out"
awk -v n="$count" -v s="$start" -v e="$end" 'BEGIN { printf "[bench] %d crops in %.2f s: %.1f lines/s\n", n, e - s, n / (e - s) }' >&2
