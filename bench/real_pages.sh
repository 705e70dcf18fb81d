#!/usr/bin/env bash
# Real pages: N pages (default 20) rendered at 300 dpi from allowed Debian PDFs (DESIGN.md) that were not
# used in training, read by `ocrkit infer` and by `tesseract --psm 3` from the same PNGs. Reports CER
# against the PDF's text layer (lines matched by box overlap) and pages/s on this machine, into
# OUT/results.md (with commit and hardware).
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
    *) sed -n '2,16p' "$0"; exit 2 ;;
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

# 3. CER against the text layer, lines matched by box overlap.
DEGRADE=$DEGRADE SPACES=$SPACES python3 - "$OUT" "$count" "$t0" "$t1" "$t2" "$MODEL" "$ROOT" <<'PY'
import glob, html, json, os, re, statistics, subprocess, sys, unicodedata
out, n, t0, t1, t2, model, root = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:6]), sys.argv[6], sys.argv[7]
SPACES = os.environ.get("SPACES", "visual")
S = 300 / 72

def norm(s):
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", s)).strip()

def edit(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]

BOX = r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</'

def truth_lines(path):
    """pdftotext's lines; its words are joined by a space only where the page shows one: a gap of more
    than 0.1 of the smaller word's height, harvest's rule for the training labels (`--spaces text`:
    pdftotext's own word breaks, which also split touching glyphs of other sizes or fonts: "L A TEX" for
    the LaTeX logo, "hand. 7" for a footnote mark, "dbx ," after typewriter text)."""
    lines = []
    for m in re.finditer(r"<line " + BOX + "line>", open(path).read(), re.S):
        text, prev = "", None
        for w in re.finditer(r"<word " + BOX + "word>", m.group(5), re.S):
            x0, y0, x1, y1 = (float(w.group(i)) for i in range(1, 5))
            space = prev is not None and (SPACES == "text" or x0 - prev[0] > 0.1 * min(y1 - y0, prev[1]))
            text += (" " if space else "") + html.unescape(w.group(5))
            prev = (x1, y1 - y0)
        lines.append(([float(m.group(i)) * S for i in range(1, 5)], norm(text)))
    return [l for l in lines if l[1]]

def ocrkit_lines(path):
    if not os.path.exists(path): return None
    doc = json.load(open(path))
    return [(l["bbox"], norm(l["text"])) for p in doc["pages"] for l in p["lines"]]

def tesseract_lines(path):
    if not os.path.exists(path): return None
    groups = {}
    for row in open(path).read().splitlines()[1:]:
        f = row.split("\t")
        if len(f) < 12 or f[0] != "5" or not f[11].strip(): continue
        key = tuple(f[1:5])
        x, y, w, h = map(int, f[6:10])
        g = groups.setdefault(key, [[x, y, x + w, y + h], []])
        g[0] = [min(g[0][0], x), min(g[0][1], y), max(g[0][2], x + w), max(g[0][3], y + h)]
        g[1].append(f[11])
    return [(b, norm(" ".join(ws))) for b, ws in groups.values()]

def score(truth, pred):
    """Each predicted line goes to the truth line it overlaps most; errors = edits of every truth line
    against its predictions (left to right) + characters of unmatched predictions."""
    assigned = {i: [] for i in range(len(truth))}
    extra = 0
    for box, text in pred:
        area = max(1, (box[2] - box[0]) * (box[3] - box[1]))
        best, best_ov = None, 0
        for i, (tb, _) in enumerate(truth):
            ov = max(0, min(box[2], tb[2]) - max(box[0], tb[0])) * max(0, min(box[3], tb[3]) - max(box[1], tb[1]))
            if ov > best_ov: best, best_ov = i, ov
        if best is None or best_ov < 0.3 * area: extra += len(text)
        else: assigned[best].append((box[0], text))
    errors = extra + sum(edit(t, " ".join(s for _, s in sorted(assigned[i]))) for i, (_, t) in enumerate(truth))
    return errors, sum(len(t) for _, t in truth)

rows = []
for engine, reader, ext, secs in (("ocrkit", ocrkit_lines, ".json", t1 - t0), ("tesseract --psm 3", tesseract_lines, ".tsv", t2 - t1)):
    err = chars = missing = 0
    page_cers = []
    for png in sorted(glob.glob(f"{out}/pages/*.png")):
        stem = os.path.basename(png)[:-4]
        truth = truth_lines(f"{out}/truth/{stem}.html")
        pred = reader(f"{out}/{engine.split()[0]}/{stem}{ext}")
        if pred is None: missing += 1; pred = []
        e, c = score(truth, pred)
        err, chars = err + e, chars + c
        if c: page_cers.append(e / c)
    rows.append((engine, chars, err / max(1, chars), statistics.median(page_cers) if page_cers else 0, n / secs if secs > 0 else 0, missing))

commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip() or "uncommitted"
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
variant = "degraded (rotation 0.3 deg, blur 0.8, noise, JPEG 40)" if os.environ.get("DEGRADE") == "1" else "clean"
md = [f"# Real pages: {n} pages at 300 dpi, {variant}", "", f"commit {commit}, model {model}, {os.cpu_count()} x {cpu}, truth spaces: {SPACES}", "",
      "| engine | truth chars | CER | median page CER | pages/s | pages without output |", "|---|---|---|---|---|---|"]
md += [f"| {e} | {c} | {cer:.4f} | {med:.4f} | {r:.2f} | {m} |" for e, c, cer, med, r, m in rows]
if rows[1][4] > 0: md += ["", f"ocrkit / tesseract pages/s: {rows[0][4] / rows[1][4]:.2f}x"]
open(f"{out}/results.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
