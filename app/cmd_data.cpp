// `ocrkit data`: data set tools. `data synth-vin` writes synthetic VIN crops and their labels;
// `data fonts` lists the fonts the generators would use.
#include <cstdio>
#include <iostream>
#include <memory>
#include <set>
#include <stdexcept>

#include "app/commands.h"
#include "core/log.h"
#include "datasets/synth_vin.h"

namespace ocrkit::app {

namespace {

struct SynthVinArgs {
  int count = 0;
  std::string out;
  uint64_t seed = 1;
  double invalid_share = 0.1;
  std::vector<std::string> fonts;  // font folders or files; empty: the default search
  int jobs = 0;                    // 0: all cores
  int min_height = 24, max_height = 64;
};

// --fonts given: only those; otherwise the default search. Throws when nothing usable is found.
std::vector<std::string> resolve_fonts(const std::vector<std::string>& dirs) {
  if (dirs.empty()) return default_fonts();
  std::vector<std::string> fonts = find_fonts(dirs);
  if (fonts.empty()) {
    std::string where;
    for (const auto& d : dirs) where += (where.empty() ? "" : ", ") + d;
    throw std::runtime_error("no usable .ttf/.otf font with the characters 0-9 A-Z in --fonts {" + where + "}");
  }
  return fonts;
}

size_t family_count(const std::vector<std::string>& fonts) {
  std::set<std::string> families;
  for (const auto& f : fonts) families.insert(f.substr(0, f.find_last_of('/')));
  return families.size();
}

void run_synth_vin(const SynthVinArgs& a) {
  if (a.min_height < 12 || a.max_height < a.min_height)
    throw std::runtime_error("synth-vin: need 12 <= --min-height <= --max-height");
  SynthVinOptions options;
  options.fonts = resolve_fonts(a.fonts);
  options.invalid_share = a.invalid_share;
  options.min_height = a.min_height;
  options.max_height = a.max_height;
  log_line("synth", std::to_string(options.fonts.size()) + " fonts from " +
                        std::to_string(family_count(options.fonts)) + " families");
  Progress progress("synth-vin", a.count, "crop");
  SynthVinReport report =
      write_synth_vin(a.out, a.count, a.seed, options, a.jobs, [&](int done) { progress.update(done); });
  progress.finish();
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.2f s (%.0f crops/s)", report.seconds,
                report.seconds > 0 ? report.count / report.seconds : 0.0);
  log_line("synth", "wrote " + std::to_string(report.count) + " crops (" + std::to_string(report.invalid) +
                        " with a wrong check digit) and " + a.out + "/labels.tsv in " + rate);
}

}  // namespace

void add_data_command(CLI::App& app) {
  auto* data = app.add_subcommand("data", "data set tools: synthetic VIN crops and text lines, PDF line harvest, font listing");
  data->require_subcommand(1);

  auto args = std::make_shared<SynthVinArgs>();
  auto* synth = data->add_subcommand(
      "synth-vin",
      "write synthetic VIN crops: OUT/img/000000.png ... and OUT/labels.tsv (img/000000.png<TAB>VIN); "
      "the same seed gives the same files for any --jobs");
  synth->add_option("--count", args->count, "number of crops")->required()->check(CLI::NonNegativeNumber);
  synth->add_option("--out", args->out, "output folder (created)")->required();
  synth->add_option("--seed", args->seed, "data set seed")->required();
  synth->add_option("--invalid-share", args->invalid_share, "share of VINs with a wrong check digit")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  synth->add_option("--fonts", args->fonts,
                    "font folders or files to use instead of the default search ($OCRKIT_FONTS_DIR, "
                    "/usr/share/fonts, $OCRKIT_DEPS/usr/share/fonts)");
  synth->add_option("--jobs", args->jobs, "worker threads (0: all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  synth->add_option("--min-height", args->min_height, "smallest crop height before degradation (px)")
      ->capture_default_str();
  synth->add_option("--max-height", args->max_height, "largest crop height before degradation (px)")
      ->capture_default_str();
  synth->callback([args] { run_synth_vin(*args); });

  add_data_synth_lines(data);
  add_data_harvest(data);

  auto font_dirs = std::make_shared<std::vector<std::string>>();
  auto* fonts = data->add_subcommand("fonts", "list the usable fonts the generators would use, one per line");
  fonts->add_option("--fonts", *font_dirs, "font folders or files (default: the default search)");
  fonts->callback([font_dirs] {
    for (const auto& f : resolve_fonts(*font_dirs)) std::cout << f << "\n";
  });
}

}  // namespace ocrkit::app
