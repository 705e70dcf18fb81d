#!/usr/bin/env python3
"""Scores bench/real_pages.sh's output: CER of ocrkit and Tesseract against the PDF's text layer, lines
matched by box overlap. Python stdlib only.

  score_pages.py OUT N T0 T1 T2 MODEL ROOT   as real_pages.sh calls it (env DEGRADE, SPACES): writes
                                             OUT/results.md with pages/s from the timestamps
  score_pages.py OUT [--ocrkit-dir ok_X]     rescores existing outputs (prints, writes nothing)
      [--pages]                              per-page table
      [--show STEM [--engine tesseract]]     each truth line (T:) with its predictions (P:) and edits

Truth lines whose text layer lacks a glyph the page shows are left out for both engines, with the
predictions matched to them (see unknown_gaps); this needs the clean 300-dpi render OUT/truth/STEM.pgm
(--clean-dir), as -d degrades pages/STEM.png."""
import argparse, glob, html, json, mmap, os, re, statistics, subprocess, sys, unicodedata

S = 300 / 72  # PDF points -> pixels at 300 dpi
BOX = r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</'


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


class Pgm:
    """A binary 8-bit PGM (pdftoppm -gray), mapped rather than read: the checks touch few of its rows."""
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        m = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", self.data)
        if not m: raise ValueError(f"{path}: not an 8-bit binary PGM")
        self.w, self.h, self.off = int(m[1]), int(m[2]), m.end()

    def rows(self, x0, y0, x1, y1):
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(self.w, x1), min(self.h, y1)
        return [self.data[self.off + y * self.w + x0:self.off + y * self.w + x1] for y in range(y0, y1)] if x1 > x0 else []


def unknown_gaps(img, line, words):
    """Gaps between consecutive words where the clean page has ink: a glyph the text layer does not
    hold (dvips Type 3 fonts name their fi/ff/fl ligatures by control bytes, pdftotext drops them:
    "speci ed"), so the line's true text is unknown. The gap's rows are the line's middle 70% (no
    neighbouring line's ascenders or descenders), its columns lose 2 px a side (anti-aliasing of the
    words' own edges). Ink = a column with gray < 128 over 40% of those rows: a glyph's stem; a normal
    space never has it, even next to an italic overhang or a rule crossing the gap (<= 28% on the 30
    reference pages, the dropped ligatures 52-64%)."""
    y0, y1 = round(line[1] + 0.15 * (line[3] - line[1])), round(line[3] - 0.15 * (line[3] - line[1]))
    gaps = []
    for (_, _, a, _), (b, _, _, _) in zip(words, words[1:]):
        rows = img.rows(round(a) + 2, y0, round(b) - 2, y1)
        if rows and min(map(min, rows)) < 128 and \
                max(sum(v < 128 for v in col) for col in zip(*rows)) >= 0.4 * len(rows):
            gaps.append((a, b))
    return gaps


def truth_lines(path, img, spaces):
    """pdftotext's lines as (box, text, unknown); its words are joined by a space only where the page
    shows one: a gap of more than 0.1 of the smaller word's height, harvest's rule for the training
    labels (`spaces == "text"`: pdftotext's own word breaks, which also split touching glyphs of other
    sizes or fonts: "L A TEX" for the LaTeX logo, "hand. 7" for a footnote mark, "dbx ," after
    typewriter text). unknown: the line has a glyph the text layer lacks (unknown_gaps; False
    without a clean render)."""
    lines = []
    for m in re.finditer(r"<line " + BOX + "line>", open(path).read(), re.S):
        text, prev, words = "", None, []
        for w in re.finditer(r"<word " + BOX + "word>", m.group(5), re.S):
            x0, y0, x1, y1 = (float(w.group(i)) for i in range(1, 5))
            space = prev is not None and (spaces == "text" or x0 - prev[0] > 0.1 * min(y1 - y0, prev[1]))
            text += (" " if space else "") + html.unescape(w.group(5))
            prev = (x1, y1 - y0)
            words.append((x0 * S, y0 * S, x1 * S, y1 * S))
        box = [float(m.group(i)) * S for i in range(1, 5)]
        lines.append((box, norm(text), bool(img and unknown_gaps(img, box, words))))
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


def match(truth, pred):
    """Each predicted line goes to the truth line it overlaps most (at least 0.3 of its own area),
    else it is extra. Returns each truth line's predictions joined left to right, and the extras."""
    assigned, extra = [[] for _ in truth], []
    for box, text in pred:
        area = max(1, (box[2] - box[0]) * (box[3] - box[1]))
        best, best_ov = None, 0
        for i, (tb, _, _) in enumerate(truth):
            ov = max(0, min(box[2], tb[2]) - max(box[0], tb[0])) * max(0, min(box[3], tb[3]) - max(box[1], tb[1]))
            if ov > best_ov: best, best_ov = i, ov
        if best is None or best_ov < 0.3 * area: extra.append(text)
        else: assigned[best].append((box[0], text))
    return [" ".join(s for _, s in sorted(a)) for a in assigned], extra


def score(truth, pred):
    """errors = edits of every known truth line against its predictions + characters of the extras;
    an unknown line and its predictions count neither way."""
    got, extra = match(truth, pred)
    known = [i for i, l in enumerate(truth) if not l[2]]
    return sum(map(len, extra)) + sum(edit(truth[i][1], got[i]) for i in known), sum(len(truth[i][1]) for i in known)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("run", nargs="*", help="N T0 T1 T2 MODEL ROOT (real_pages.sh): write OUT/results.md")
    ap.add_argument("--ocrkit-dir", default="ocrkit", help="ocrkit's STEM.json, under OUT")
    ap.add_argument("--clean-dir", help="clean renders STEM.pgm (default OUT/truth)")
    ap.add_argument("--spaces", default=os.environ.get("SPACES", "visual"), choices=("visual", "text"))
    ap.add_argument("--pages", action="store_true", help="per-page table")
    ap.add_argument("--show", metavar="STEM", help="line by line edits of one page")
    ap.add_argument("--engine", default="ocrkit", choices=("ocrkit", "tesseract"), help="whose lines --show shows")
    a = ap.parse_args()
    if a.run and len(a.run) != 6: ap.error("give all of N T0 T1 T2 MODEL ROOT or none")
    out, clean = a.out, a.clean_dir or f"{a.out}/truth"
    engines = (("ocrkit" + (f" ({a.ocrkit_dir})" if a.ocrkit_dir != "ocrkit" else ""), ocrkit_lines, f"{out}/{a.ocrkit_dir}/{{}}.json"),
               ("tesseract --psm 3", tesseract_lines, f"{out}/tesseract/{{}}.tsv"))

    stems = [os.path.basename(p)[:-4] for p in sorted(glob.glob(f"{out}/pages/*.png"))]
    if a.show: stems = [a.show]
    per_page, unchecked = [], []  # per_page: (stem, truth, [(errors, chars, missing) per engine])
    for stem in stems:
        pgm = f"{clean}/{stem}.pgm"
        if not os.path.exists(pgm): unchecked.append(stem)
        truth = truth_lines(f"{out}/truth/{stem}.html", Pgm(pgm) if os.path.exists(pgm) else None, a.spaces)
        res = []
        for _, reader, path in engines:
            pred = reader(path.format(stem))
            res.append((*score(truth, pred or []), pred is None))
        per_page.append((stem, truth, res))
    if unchecked:
        print(f"[score] no clean render in {clean} for {len(unchecked)} pages ({unchecked[0]} ...): "
              "their lines missing a glyph in the text layer are scored", file=sys.stderr)

    if a.show:
        stem, truth, _ = per_page[0]
        name, reader, path = engines[a.engine == "tesseract"]
        got, extra = match(truth, reader(path.format(stem)) or [])
        for (_, t, unknown), p in zip(truth, got):
            print(f"T: {t}\nP: {p}\n   " + ("left out: glyph missing from the text layer" if unknown else f"{edit(t, p)} edits"))
        for t in extra: print(f"EXTRA: {t}\n   {len(t)} edits")
        return

    if a.pages:
        print("| page | truth chars | left-out lines | " + " | ".join(f"{e[0]} CER" for e in engines) + " |")
        print("|---|---|---|" + "---|" * len(engines))
        for stem, truth, res in per_page:
            c = res[0][1]
            print(f"| {stem} | {c} | {sum(l[2] for l in truth)} | " + " | ".join(f"{e / max(1, c):.4f}" for e, _, _ in res) + " |")
        print()

    n = int(a.run[0]) if a.run else len(stems)
    secs = [float(a.run[2]) - float(a.run[1]), float(a.run[3]) - float(a.run[2])] if a.run else [0, 0]
    rows = []
    for k, (name, _, _) in enumerate(engines):
        err = sum(r[k][0] for _, _, r in per_page)
        chars = sum(r[k][1] for _, _, r in per_page)
        cers = [r[k][0] / r[k][1] for _, _, r in per_page if r[k][1]]
        rows.append((name, chars, err / max(1, chars), statistics.median(cers) if cers else 0,
                     n / secs[k] if secs[k] > 0 else 0, sum(r[k][2] for _, _, r in per_page)))
    left = [l for _, truth, _ in per_page for l in truth if l[2]]

    model, root = (a.run[4], a.run[5]) if a.run else ("?", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip() or "uncommitted"
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    variant = "degraded (rotation 0.3 deg, blur 0.8, noise, JPEG 40)" if os.environ.get("DEGRADE") == "1" else "clean"
    md = [f"# Real pages: {n} pages at 300 dpi, {variant}", "", f"commit {commit}, model {model}, {os.cpu_count()} x {cpu}, truth spaces: {a.spaces}", "",
          "| engine | truth chars | CER | median page CER | pages/s | pages without output |", "|---|---|---|---|---|---|"]
    md += [f"| {e} | {c} | {cer:.4f} | {med:.4f} | {f'{r:.2f}' if r else '-'} | {m} |" for e, c, cer, med, r, m in rows]
    md += ["", f"Left out as unknown (the page shows a glyph between two words that the text layer lacks): "
               f"{len(left)} truth lines, {sum(len(l[1]) for l in left)} chars"
               + (f"; not checked on {len(unchecked)} pages without a clean render" if unchecked else "")]
    if rows[1][4] > 0: md += ["", f"ocrkit / tesseract pages/s: {rows[0][4] / rows[1][4]:.2f}x"]
    if a.run: open(f"{out}/results.md", "w").write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
