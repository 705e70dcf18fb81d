// `ocrkit data harvest`: labelled line crops from born-digital PDFs (datasets/harvest.h).
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/commands.h"
#include "core/log.h"
#include "datasets/harvest.h"

namespace ocrkit::app {

namespace {

struct HarvestArgs {
  std::vector<std::string> pdfs;
  std::string out;
  std::string dpi = "150-300";
  HarvestOptions options;
};

// "200" or "150-300".
void parse_dpi(const std::string& text, HarvestOptions& o) {
  auto number = [&](const std::string& s) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 5)
      throw CLI::ValidationError("--dpi", "expected DPI or LO-HI, got '" + text + "'");
    return std::stoi(s);
  };
  size_t dash = text.find('-');
  o.dpi_min = number(text.substr(0, dash));
  o.dpi_max = dash == std::string::npos ? o.dpi_min : number(text.substr(dash + 1));
  if (o.dpi_min < 36 || o.dpi_max > 1200 || o.dpi_min > o.dpi_max)
    throw CLI::ValidationError("--dpi", "need 36 <= LO <= HI <= 1200, got '" + text + "'");
}

void run_harvest(HarvestArgs& a) {
  parse_dpi(a.dpi, a.options);
  std::vector<std::string> pdfs;
  try {
    pdfs = collect_pdfs(a.pdfs);
  } catch (const std::invalid_argument& e) {
    throw CLI::ValidationError("--pdf", e.what());
  }
  if (pdfs.empty()) throw CLI::ValidationError("--pdf", "no .pdf or .pdf.gz file found");
  log_line("harvest", std::to_string(pdfs.size()) + " PDFs, dpi " + std::to_string(a.options.dpi_min) + "-" +
                          std::to_string(a.options.dpi_max) + ", seed " + std::to_string(a.options.seed));
  std::unique_ptr<Progress> progress;
  a.options.progress = [&](int64_t done, int64_t total) {
    if (!progress) progress = std::make_unique<Progress>("harvest", total, "page");
    progress->update(done);
  };
  HarvestReport r = harvest_pdfs(pdfs, a.out, a.options);
  if (progress) progress->finish();
  char rate[96];
  std::snprintf(rate, sizeof rate, "%.1f s (%.1f lines/s, %.2f pages/s)", r.seconds,
                r.seconds > 0 ? r.lines / r.seconds : 0.0, r.seconds > 0 ? r.pages / r.seconds : 0.0);
  log_line("harvest", "wrote " + std::to_string(r.lines) + " lines from " + std::to_string(r.pages) + " pages (" +
                          std::to_string(r.text_lines) + " text-layer lines) to " + a.out + "/labels.tsv in " + rate);
  std::string rejects;
  for (auto& [k, v] : r.rejects) rejects += (rejects.empty() ? "" : ", ") + k + "=" + std::to_string(v);
  log_line("harvest", "rejects: " + (rejects.empty() ? std::string("none") : rejects));
  if (r.pdfs_failed > 0)
    log_line("harvest", std::to_string(r.pdfs_failed) + " PDF(s) skipped (see " + a.out + "/report.json)");
  if (r.pdfs_failed > 0 && r.pdfs_failed == int64_t(r.pdfs.size())) throw ExitCode{1};
  if (r.pdfs_failed > 0) throw ExitCode{3};
}

}  // namespace

void add_data_harvest(CLI::App* data) {
  auto args = std::make_shared<HarvestArgs>();
  auto* cmd = data->add_subcommand(
      "harvest",
      "cut labelled line crops from born-digital PDFs: poppler renders each page, its text layer gives the "
      "labels, infer's layout analysis gives the crops (lines matched by box overlap); writes OUT/img/*.png, "
      "OUT/labels.tsv, OUT/meta.tsv, OUT/report.json (rejects by reason) and OUT/sources.txt");
  cmd->add_option("--pdf", args->pdfs, "PDFs, .pdf.gz files or folders (searched recursively)")->required();
  cmd->add_option("--out", args->out, "output folder (created)")->required();
  cmd->add_option("--dpi", args->dpi, "render dpi, or a range LO-HI drawn per page")->capture_default_str();
  cmd->add_option("--max-lines", args->options.max_lines, "stop after this many lines (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--max-pages-per-pdf", args->options.max_pages_per_pdf,
                  "use at most this many pages of each PDF, drawn by seed (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--seed", args->options.seed, "seed of the dpi, page and short-line draws")->capture_default_str();
  cmd->add_option("--jobs", args->options.jobs, "worker threads (0: all cores); output does not depend on it")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--charset", args->options.charset, "labels must fit this charset (preset or characters)")
      ->capture_default_str();
  cmd->add_option("--min-chars", args->options.min_chars, "shorter labels are rejected (but see --keep-short)")
      ->capture_default_str();
  cmd->add_option("--keep-short", args->options.keep_short, "share of the short lines kept anyway")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--max-repeats", args->options.max_repeats,
                  "keep a label at most this many times per PDF (running heads, page numbers)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([args] { run_harvest(*args); });
}

}  // namespace ocrkit::app
