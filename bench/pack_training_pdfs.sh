#!/usr/bin/env bash
# Copies a diverse subset of the TRAIN PDFs (bench/harvest_sources.sh) into OUT_DIR, at most MAX_MB in
# all, for carrying to the GPU host: packages take turns (round robin), each giving its smallest
# remaining PDF first, so many packages and documents fit. Files keep their compression (.pdf.gz) and go
# to OUT_DIR/PACKAGE/NAME; OUT_DIR/MANIFEST.tsv lists sha256, bytes, package and the original path.
#
#   bench/pack_training_pdfs.sh OUT_DIR MAX_MB [USED_MANIFEST...]
# PDFs listed in the USED_MANIFESTs (an earlier pack's MANIFEST.tsv) are left out: a later training
# lease then sees documents it has not seen.
#   ocrkit data harvest --pdf OUT_DIR --out harvest/ --jobs 16
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 OUT_DIR MAX_MB [USED_MANIFEST...]" >&2; exit 2; }
out=$1 max_bytes=$(( $2 * 1024 * 1024 ))
shift 2
used=$(if (( $# )); then cut -f4 "$@"; fi)
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"

# PACKAGE<TAB>BYTES<TAB>PATH for the TRAIN split, smallest first within a package.
# PDFs in non-Latin scripts (ja, zh, ru, ...) would give almost only outside-charset rejects: skipped.
list=$(bash "$here/harvest_sources.sh" all | awk -F'\t' '$1=="TRAIN"{print $2"\t"$3}' |
  grep -Ev '[._-](ja|ru|zh|zh[-_][a-zA-Z]+|ko|el|uk|bg|sr)\.pdf(\.gz)?$' |
  while IFS=$'\t' read -r pkg f; do grep -qxF "$f" <<<"$used" && continue; printf '%s\t%s\t%s\n' "$pkg" "$(stat -L -c %s "$f")" "$f"; done |
  LC_ALL=C sort -t$'\t' -k1,1 -k2,2n -k3,3)
mapfile -t pkgs < <(cut -f1 <<<"$list" | uniq)
declare -A pos
total=0 copied=0
: > "$out/MANIFEST.tsv.tmp"
progress=1
while (( progress )); do
  progress=0
  for pkg in "${pkgs[@]}"; do
    mapfile -t files < <(awk -F'\t' -v p="$pkg" '$1==p{print $2"\t"$3}' <<<"$list")
    i=${pos[$pkg]:-0}
    while (( i < ${#files[@]} )); do
      size=${files[$i]%%$'\t'*} f=${files[$i]#*$'\t'}
      i=$((i + 1))
      (( total + size <= max_bytes )) || continue  # too big for what is left: try this package's next
      mkdir -p "$out/$pkg"
      dest="$out/$pkg/$(basename "$f")"
      [[ -e "$dest" ]] && dest="$out/$pkg/$(printf '%s' "$f" | sha256sum | cut -c1-8)-$(basename "$f")"
      cp "$f" "$dest"
      printf '%s\t%s\t%s\t%s\n' "$(sha256sum < "$f" | cut -c1-64)" "$size" "$pkg" "$f" >> "$out/MANIFEST.tsv.tmp"
      total=$((total + size)) copied=$((copied + 1)) progress=1
      break
    done
    pos[$pkg]=$i
  done
done
mv "$out/MANIFEST.tsv.tmp" "$out/MANIFEST.tsv"
echo "copied $copied PDFs from ${#pkgs[@]} packages, $((total / 1024)) KiB, into $out" >&2
