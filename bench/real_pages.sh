#!/usr/bin/env bash
# Real pages: N pages (default 20) rendered at 300 dpi from allowed Debian PDFs (DESIGN.md) that were not
# used in training, read by `ocrkit infer` and by `tesseract --psm 3` from the same PNGs. Reports CER
# against the PDF's text layer (lines matched by box overlap; lines where the page shows a glyph the
# text layer lacks are left out) and pages/s on this machine, into OUT/results.md (with commit and
# hardware). bench/score_pages.py OUT rescores, also per page or line by line (--help).
#
# Usage: bench/real_pages.sh [-m CKPT] [-n PAGES] [-o OUT] [-j JOBS] [-d] [-s visual|text] [PDF ...]
#   -s  spaces in the truth: visual (default) where the page shows a gap between pdftotext's words, as
#       harvest labels training lines; text: at every pdftotext word break
#   -d  scan-like degradation of every page before both engines read it (ImageMagick): rotation 0.3
#       degrees about the centre, Gaussian blur sigma 0.8, Gaussian noise, JPEG quality 40.
#   Without PDFs it fetches debian-refcard, packaging-tutorial and debmake-doc with `apt-get download`
#   (make sure the training set did not use them) and takes their English PDFs (a two-page landscape
#   reference card with tables, slides, a book).
# Needs poppler-utils (pdftoppm, pdftotext, pdfinfo), tesseract-ocr + tesseract-ocr-eng, python3.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${OCRKIT_BIN:-$ROOT/build/ocrkit}
MODEL=$ROOT/models/printed-v1.ckpt
PAGES=20
OUT=${TMPDIR:-/tmp}/ocrkit-real-pages
JOBS=$(nproc)
DEGRADE=0
SPACES=visual
CONVERT=$(command -v convert-im6.q16 || command -v convert || true)  # ImageMagick, for -d
while getopts "m:n:o:j:ds:" opt; do
  case $opt in
    m) MODEL=$OPTARG ;;
    n) PAGES=$OPTARG ;;
    o) OUT=$OPTARG ;;
    j) JOBS=$OPTARG ;;
    d) DEGRADE=1 ;;
    s) SPACES=$OPTARG ;;
    *) sed -n '2,17p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
mkdir -p "$OUT"/{pdf,pages,truth,ocrkit,tesseract}
PDFS=("$@")
if [ ${#PDFS[@]} -eq 0 ]; then
  (cd "$OUT" && apt-get download debian-refcard packaging-tutorial debmake-doc >/dev/null 2>&1)
  for d in "$OUT"/*.deb; do dpkg-deb -x "$d" "$OUT/debs"; done
  PDFS=("$OUT/debs/usr/share/doc/debian-refcard/refcard-en-a4.pdf.gz"
        "$OUT/debs/usr/share/doc/packaging-tutorial/packaging-tutorial.pdf"
        "$OUT/debs/usr/share/doc/debmake-doc/debmake-doc.en.pdf")
fi

# 1. Pages spread evenly over the PDFs (a short PDF leaves its share to the next ones), rendered at
#    300 dpi, with the text layer beside them.
count=0
left=${#PDFS[@]}
for src in "${PDFS[@]}"; do
  name=$(basename "$src" .gz)
  name=${name%.pdf}
  pdf="$OUT/pdf/$name.pdf"
  case $src in *.gz) gzip -dc "$src" >"$pdf" ;; *) cp "$src" "$pdf" ;; esac
  total=$(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')
  want=$(( (PAGES - count + left - 1) / left ))
  left=$((left - 1))
  step=$(( total / (want > 0 ? want : 1) )); [ "$step" -ge 1 ] || step=1
  start=$count
  for ((p = 1; p <= total && count < PAGES && count - start < want; p += step)); do
    png="$OUT/pages/$name-p$(printf %03d "$p").png"
    # The clean render stays beside the text layer (PGM: stdlib Python reads it): the scorer looks there
    # for glyphs the text layer lacks, which -d's noise would fake.
    pdftoppm -r 300 -gray -f "$p" -l "$p" -singlefile "$pdf" "$OUT/truth/$(basename "${png%.png}")"
    pdftoppm -r 300 -gray -png -f "$p" -l "$p" -singlefile "$pdf" "${png%.png}"
    if [ "$DEGRADE" = 1 ]; then
      $CONVERT "$png" -distort SRT 0.3 -blur 0x0.8 -attenuate 0.6 +noise Gaussian -quality 40 "jpg:$png.jpg"
      $CONVERT "$png.jpg" -colorspace Gray "$png" && rm "$png.jpg"
    fi
    pdftotext -bbox-layout -f "$p" -l "$p" "$pdf" "$OUT/truth/$(basename "${png%.png}").html"
    count=$((count + 1))
  done
done
echo "[bench] $count pages in $OUT/pages"

# 2. Both engines on the same PNGs, timed.
t0=$(date +%s.%N)
"$BIN" -q infer --in "$OUT/pages" --out "$OUT/ocrkit" --format json,txt --model "$MODEL" --jobs "$JOBS" --overwrite --device cpu || true
t1=$(date +%s.%N)
ls "$OUT"/pages/*.png | xargs -P "$JOBS" -I{} sh -c \
  'OMP_THREAD_LIMIT=1 tesseract "$1" "$2/$(basename "$1" .png)" --psm 3 -l eng tsv >/dev/null 2>&1' _ {} "$OUT/tesseract"
t2=$(date +%s.%N)

# 3. CER against the text layer, lines matched by box overlap (bench/score_pages.py, which also rescores).
DEGRADE=$DEGRADE SPACES=$SPACES python3 "$ROOT/bench/score_pages.py" "$OUT" "$count" "$t0" "$t1" "$t2" "$MODEL" "$ROOT"
