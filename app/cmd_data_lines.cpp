// `ocrkit data synth-lines`: synthetic printed text lines (datasets/synth_lines.h) for the printed-text
// recognizer.
#include <cstdio>
#include <memory>
#include <set>
#include <stdexcept>

#include "app/commands.h"
#include "core/log.h"
#include "datasets/synth_lines.h"
#include "datasets/synth_vin.h"

namespace ocrkit::app {

namespace {

struct SynthLinesArgs {
  std::vector<std::string> text;   // corpus files (plain text or Paddle TSV)
  int count = 0;
  std::string out;
  uint64_t seed = 1;
  std::vector<std::string> fonts;  // font folders or files; empty: the default search
  int jobs = 0;                    // 0: all cores
  int min_height = 20, max_height = 64;
  double synthetic_share = 0.3;
};

void run_synth_lines(const SynthLinesArgs& a) {
  if (a.min_height < 12 || a.max_height < a.min_height)
    throw std::runtime_error("synth-lines: need 12 <= --min-height <= --max-height");
  LineCorpus corpus;
  if (a.text.empty()) {
    log_line("synth", "warning: no --text given: using generated pseudo-words (poor training text; pass a "
                      "corpus such as a harvested labels.tsv)");
    corpus = LineCorpus::builtin();
  } else {
    corpus = LineCorpus::from_files(a.text);  // throws naming an unreadable file
    log_line("synth", std::to_string(corpus.size()) + " text lines from " + std::to_string(a.text.size()) +
                          " file(s)" +
                          (corpus.skipped() ? " (" + std::to_string(corpus.skipped()) + " empty or unusable skipped)" : ""));
  }
  SynthLinesOptions options;
  if (a.fonts.empty()) {
    options.fonts = default_fonts();
  } else {
    options.fonts = find_fonts(a.fonts);
    if (options.fonts.empty()) {
      std::string where;
      for (const auto& d : a.fonts) where += (where.empty() ? "" : ", ") + d;
      throw std::runtime_error("no usable .ttf/.otf font with the characters 0-9 A-Z in --fonts {" + where + "}");
    }
  }
  options.min_height = a.min_height;
  options.max_height = a.max_height;
  options.synthetic_share = a.synthetic_share;
  log_line("synth", std::to_string(options.fonts.size()) + " font files");
  Progress progress("synth-lines", a.count, "line");
  SynthLinesReport report = write_synth_lines(a.out, corpus, a.count, a.seed, options, a.jobs,
                                              [&](int done) { progress.update(done); });
  progress.finish();
  char rate[96];
  std::snprintf(rate, sizeof rate, "%.2f s (%.0f lines/s)", report.seconds,
                report.seconds > 0 ? report.count / report.seconds : 0.0);
  log_line("synth", "wrote " + std::to_string(report.count) + " lines (" + std::to_string(report.gray) +
                        " gray, " + std::to_string(report.fonts) + " usable fonts" +
                        (report.dropped_chars ? ", " + std::to_string(report.dropped_chars) +
                                                    " characters no font has left out of the labels"
                                              : "") +
                        ") and " + a.out + "/labels.tsv in " + rate);
}

}  // namespace

void add_data_synth_lines(CLI::App* data) {
  auto args = std::make_shared<SynthLinesArgs>();
  auto* cmd = data->add_subcommand(
      "synth-lines",
      "write synthetic printed text lines: OUT/img/000000.png ... and OUT/labels.tsv (img/000000.png<TAB>text); "
      "the same seed gives the same files for any --jobs");
  cmd->add_option("--text", args->text,
                  "UTF-8 corpus files, one line per line (a labels.tsv counts from after its TAB); "
                  "none: generated words (warned)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--count", args->count, "number of lines")->required()->check(CLI::NonNegativeNumber);
  cmd->add_option("--out", args->out, "output folder (created)")->required();
  cmd->add_option("--seed", args->seed, "data set seed")->required();
  cmd->add_option("--fonts", args->fonts,
                  "font folders or files to use instead of the default search ($OCRKIT_FONTS_DIR, "
                  "/usr/share/fonts, $OCRKIT_DEPS/usr/share/fonts)");
  cmd->add_option("--jobs", args->jobs, "worker threads (0: all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--min-height", args->min_height, "smallest crop height before degradation (px)")
      ->capture_default_str();
  cmd->add_option("--max-height", args->max_height, "largest crop height before degradation (px)")
      ->capture_default_str();
  cmd->add_option("--synthetic-share", args->synthetic_share,
                  "share of generated lines (numbers, dates, prices, codes, URLs, capitals, accents, symbols)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->callback([args] { run_synth_lines(*args); });
}

}  // namespace ocrkit::app
