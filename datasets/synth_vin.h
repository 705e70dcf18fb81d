// Synthetic VIN crops: realistic-ish VINs rendered with many fonts on printed labels, dark plates,
// stamped metal, paper documents and dot-matrix print, then degraded like photos (augment.h).
// Torch-free and deterministic: a sample depends only on (seed, index) and the font files, never on
// the thread that made it.
#pragma once
#include <cstdint>
#include <functional>
#include <opencv2/core.hpp>
#include <random>
#include <string>
#include <vector>

#include "datasets/augment.h"

namespace ocrkit {

// The photo degradations applied after rendering: a little stronger and more frequent than the
// training-time defaults, still bounded so every character stays legible.
AugmentOptions synth_degrade_defaults();

struct SynthVinOptions {
  std::vector<std::string> fonts;  // usable font files (from find_fonts); empty: default_fonts()
  int min_height = 24;             // crop height in pixels before degradation, drawn in [min, max]
  int max_height = 64;
  double invalid_share = 0.1;      // share of samples whose check character is wrong (synth_vin_sample)
  AugmentOptions degrade = synth_degrade_defaults();
};

// Where fonts are looked for: $OCRKIT_FONTS_DIR, /usr/share/fonts, $OCRKIT_DEPS/usr/share/fonts (the GPU
// host's prefix), those that exist.
std::vector<std::string> default_font_dirs();

// Every usable .ttf/.otf under the given folders (recursively; plain font files are accepted too),
// one per file name (the same font under two roots counts once), sorted by family folder and name so
// the list, and so the data, is the same on every host with the same fonts. A font is usable when it
// loads and renders every VIN character with ink and distinct shapes (a missing glyph renders the
// font's empty or box .notdef); symbol, dingbat, math and script fonts are skipped by name.
std::vector<std::string> find_fonts(const std::vector<std::string>& dirs);

// find_fonts(default_font_dirs()), computed once. Throws std::runtime_error naming the folders searched
// when no usable font is found.
const std::vector<std::string>& default_fonts();

// A 17-character VIN: a world manufacturer prefix (often a real one), model-year character at position
// 10, digit-heavy serial, and a share of fully uniform VINs so no position's language model can be
// learnt. valid = false puts a wrong character at position 9 (a digit, X, or any VIN character).
std::string random_vin(std::mt19937& rng, bool valid);

// Renders `text` (normally a VIN; any characters of the fonts' atlases: A-Z a-z 0-9 and common
// punctuation) as one degraded 8-bit BGR crop, deterministic for `seed`. Throws std::runtime_error when
// no font is usable or a character cannot be rendered.
cv::Mat render_vin(const std::string& text, uint64_t seed, const SynthVinOptions& options);

// Dot-matrix print of an 8-bit glyph mask (255 = ink): round dots of `radius` on a grid of `pitch` px
// starting at `offset`, lit where the glyph covers more than `coverage` (0-1) of the dot's cell. The
// result is padded by the radius + 1 on every side.
cv::Mat dot_matrix_print(const cv::Mat& mask, double pitch, double radius, double coverage, cv::Point2d offset);

// The seed of sample `index` of a data set made with `seed` (a fixed 64-bit mix).
uint64_t sample_seed(uint64_t seed, uint64_t index);

struct SynthSample {
  std::string vin;
  cv::Mat image;
};
// Sample `index` of the data set `seed`: a VIN (invalid with probability options.invalid_share) and its crop.
SynthSample synth_vin_sample(uint64_t seed, uint64_t index, const SynthVinOptions& options);

struct SynthVinReport {
  int count = 0;
  int invalid = 0;     // samples with a wrong check character
  int fonts = 0;       // fonts in use
  double seconds = 0;  // wall time
};

// Writes out_dir/img/000000.png ... and out_dir/labels.tsv ("img/000000.png<TAB>VIN", written to a
// temporary file and renamed last) with `jobs` threads (0: all cores). The output is identical for any
// number of jobs. `progress` (optional) is called from the calling thread with the samples done.
SynthVinReport write_synth_vin(const std::string& out_dir, int count, uint64_t seed, const SynthVinOptions& options,
                               int jobs = 0, const std::function<void(int)>& progress = {});

}  // namespace ocrkit
