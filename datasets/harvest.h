// `ocrkit data harvest`: labelled line crops cut from born-digital PDFs. Each page is rendered with
// poppler at a dpi drawn from a range (deterministic per seed and page), its text layer is grouped into
// lines, infer's layout analysis (infer/layout.h) runs on the render, and every layout line that matches
// exactly one text-layer line (and vice versa) by box overlap becomes a crop: the layout line's own crop
// (what `ocrkit infer` feeds the recognizer) with the text layer's label. Everything else is rejected and
// counted by reason in DIR/report.json. No torch headers.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace ocrkit {

// One word of a PDF text layer (poppler text box), in points: 72 per inch, origin top-left of the page
// as rendered (page rotation applied).
struct TextWord {
  std::string text;         // UTF-8 as poppler gives it (not normalised)
  cv::Rect2d box;           // points
  bool space_after = false; // poppler saw a space after this word on its line
  int rotation = 0;         // 0 = horizontal left to right; 1..3 = rotated by 90/180/270 degrees
  bool vertical = false;    // vertical writing mode
  bool monospace = false;   // its glyph boxes (3 or more) all have one width
  std::string font;         // font name of the first glyph ("ABCDEF+CMEX10"), when poppler knows it
};

// A text-layer line: words on one baseline, adjacent, in one column.
struct TextLine {
  std::string text;         // normalize_label()ed label
  cv::Rect2d box;           // union of the word boxes, points
  std::vector<int> words;   // indices into the word list, left to right
  bool overlapping = false; // two words overprint each other (not counting exact duplicates)
  bool math_symbols = false; // a word is set in a TeX math extension/symbol font (cmex, msam, msbm, ...),
                             // whose text layer often maps glyphs to wrong letters (the sum sign as "P")
};

struct GroupOptions {
  double max_gap = 0.8;      // a larger horizontal gap (in line heights) starts a new line (column gap)
  double space_gap = 0.19;   // a gap wider than this (in heights of the smaller word) is a space
  double flagged_space_gap = 0.1;  // ... or wider than this when poppler flags a space after the word,
                                   // except on monospaced lines (code listings placed token by token,
                                   // where poppler flags spaces between glyphs of one word)
  double min_v_overlap = 0.6;  // vertical overlap over the smaller height to share a line
};

// Groups horizontal words into lines (words that are rotated or vertical are left out; the caller
// counts them). Lines come in the order of their first word.
std::vector<TextLine> group_text_lines(const std::vector<TextWord>& words, const GroupOptions& options = {});

// The text layer of one page of a PDF (or .pdf.gz), in points; throws std::runtime_error.
std::vector<TextWord> pdf_text_words(const std::string& path, int page);

struct HarvestOptions {
  int dpi_min = 150, dpi_max = 300;  // each page renders at a dpi drawn from this range (inclusive)
  int64_t max_lines = 0;             // stop after this many accepted lines, in output order (0 = all)
  int max_pages_per_pdf = 0;         // use at most this many pages of a PDF, drawn by seed (0 = all)
  uint64_t seed = 1;                 // drives the dpi and page draws
  int jobs = 0;                      // worker threads (0 = all cores); output is the same for any value
  std::string charset = "printed";   // labels with characters outside it are rejected
  int min_chars = 2;                 // shorter labels are rejected ...
  double keep_short = 0.05;          // ... except this share of them (drawn by seed)
  int max_repeats = 3;               // a label seen this many times in one PDF (running heads, page
                                     // numbers) is rejected after that
  int min_height_px = 8;             // text-layer line heights outside [min, max_height_frac * page
  double max_height_frac = 0.08;     // height] are implausible
  GroupOptions group;
  std::function<void(int64_t done, int64_t total)> progress;  // pages done (called from the caller's thread)
};

struct HarvestPdfReport {
  std::string path;
  std::string sha256;
  int pages = 0;        // pages in the PDF
  int pages_used = 0;   // pages harvested (after --max-pages-per-pdf)
  int64_t lines = 0;    // accepted lines
  int64_t text_lines = 0;  // text-layer lines seen
  std::map<std::string, int64_t> rejects;  // reason -> count
  int64_t unlabelled_layout_lines = 0;     // layout lines that no text-layer line overlaps (figures, rules,
                                           // text drawn as graphics)
  std::string error;    // non-empty: the PDF was skipped (corrupt, encrypted, ...)
  std::string duplicate_of;  // non-empty: same bytes as this earlier PDF, skipped
};

struct HarvestReport {
  int64_t lines = 0;           // accepted lines written
  int64_t text_lines = 0;      // text-layer lines seen
  int64_t pages = 0;           // pages harvested
  int64_t pdfs_failed = 0;
  std::map<std::string, int64_t> rejects;        // reason -> count (all PDFs)
  std::map<std::string, int64_t> missing_chars;  // characters outside the charset -> lines rejected for it
  std::vector<HarvestPdfReport> pdfs;
  double seconds = 0;
};

// Expands PDFs, .pdf.gz files and folders (recursively, sorted) into PDF paths; throws
// std::invalid_argument for a missing path.
std::vector<std::string> collect_pdfs(const std::vector<std::string>& paths);

// Harvests `pdfs` into out_dir: img/NNNNNNN.png (gray), labels.tsv (img/...png<TAB>label), meta.tsv
// (image, pdf, page, dpi, box in page pixels), report.json and sources.txt (sha256 and path of every
// PDF read), all written atomically. Bad PDFs are reported and skipped; throws only for unusable
// options or an unwritable out_dir.
HarvestReport harvest_pdfs(const std::vector<std::string>& pdfs, const std::string& out_dir, const HarvestOptions& options);

}  // namespace ocrkit
