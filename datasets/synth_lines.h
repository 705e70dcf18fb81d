// Synthetic printed text lines for the printed-text recognizer: text sampled from a corpus (plus
// generated numbers, dates, prices, codes, URLs, capitals, accented words, typographic punctuation),
// set in many fonts like a document line scanned at ~300 dpi, cropped the way infer's layout analysis
// crops lines (ink box plus a small padding), then degraded like scans and photos (augment.h).
// Torch-free and deterministic: a sample depends only on (seed, index), the corpus and the font files,
// never on the thread that made it.
#pragma once
#include <cstdint>
#include <functional>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "datasets/augment.h"

namespace ocrkit {

// Scan/photo degradations for document lines: applied to ~60% of the lines, milder than synth-vin's
// (rotation <= 1.5 degrees, little shear), bounded so the text stays legible.
AugmentOptions synth_lines_degrade_defaults();

struct SynthLinesOptions {
  std::vector<std::string> fonts;  // usable font files (from find_fonts); empty: default_fonts()
  int min_height = 20;             // crop height in pixels before degradation, drawn in [min, max]
  int max_height = 64;
  double synthetic_share = 0.3;    // share of lines generated (numbers, dates, codes...) rather than sampled
  AugmentOptions degrade = synth_lines_degrade_defaults();
};

// The characters lines may contain: Charset::preset_characters("printed").
const std::string& printed_characters();

// The text source: corpus lines (normalised with normalize_label, characters outside the printed
// charset removed, empty lines dropped).
class LineCorpus {
 public:
  // Reads UTF-8 text files, one sentence or line per line; a line with a TAB (Paddle labels.tsv) counts
  // from after its first TAB. Throws std::runtime_error naming a file that cannot be read, is not
  // UTF-8, or holds no usable text.
  static LineCorpus from_files(const std::vector<std::string>& files);
  // Lines given directly (tests); same cleaning as from_files.
  static LineCorpus from_lines(const std::vector<std::string>& lines);
  // Generated pseudo-English words: the fallback when no --text is given (poor data: warn).
  static LineCorpus builtin();
  // Lines skipped while reading (not UTF-8, or nothing left after cleaning).
  size_t skipped() const { return skipped_; }

  size_t size() const { return lines_.size(); }
  bool empty() const { return lines_.empty(); }
  const std::vector<std::u32string>& lines() const { return lines_; }

 private:
  std::vector<std::u32string> lines_;
  size_t skipped_ = 0;
};

// Cleans one label candidate: normalize_label, characters outside the printed charset removed,
// whitespace collapsed. May return an empty string.
std::string clean_line_text(const std::string& text);

// The text of a line: a span of 1-80 characters from the corpus (mostly 20-70, usually starting and
// ending at word boundaries) or, with probability synthetic_share, a generated string. Never empty,
// always within the printed charset. Deterministic for `seed`.
std::string sample_line_text(const LineCorpus& corpus, uint64_t seed, double synthetic_share = 0.3);

// True when the font file has a real glyph (not .notdef, not empty) for every character of `text`
// (spaces aside). Cached per font; throws std::runtime_error when the font does not load.
bool font_covers(const std::string& font, const std::string& text);

struct LineRender {
  cv::Mat image;     // 8-bit, 1 channel (gray print) or 3 channels (coloured print or paper)
  std::string text;  // the label: `text` less the characters no font could render (normally all of it)
  std::string font;  // the font file used
  int dropped = 0;   // characters of `text` left out (no font has them)
};

// Renders `text` as one cropped, possibly degraded, document line. The font is drawn at random among
// options.fonts and replaced by another one when it lacks a glyph of the line; characters that no font
// has are dropped from the returned label (never drawn as a box). Throws std::runtime_error when no
// font is usable or nothing of the text can be rendered.
LineRender render_line(const std::string& text, uint64_t seed, const SynthLinesOptions& options);

struct SynthLineSample {
  std::string text;
  cv::Mat image;
  std::string font;
  int dropped = 0;
};
// Sample `index` of the data set `seed` (sample_seed as synth-vin): its text and its crop.
SynthLineSample synth_line_sample(const LineCorpus& corpus, uint64_t seed, uint64_t index,
                                  const SynthLinesOptions& options);

struct SynthLinesReport {
  int count = 0;
  int fonts = 0;             // fonts in use
  int dropped_chars = 0;     // characters left out of labels because no font had them
  int gray = 0;              // crops written as 1-channel PNGs
  double seconds = 0;        // wall time
};

// Writes out_dir/img/000000.png ... (gray PNG when the crop is gray) and out_dir/labels.tsv
// ("img/000000.png<TAB>text", written to a temporary file and renamed last) with `jobs` threads (0: all
// cores). The output is identical for any number of jobs. `progress` (optional) is called from the
// calling thread with the samples done.
SynthLinesReport write_synth_lines(const std::string& out_dir, const LineCorpus& corpus, int count, uint64_t seed,
                                   const SynthLinesOptions& options, int jobs = 0,
                                   const std::function<void(int)>& progress = {});

}  // namespace ocrkit
