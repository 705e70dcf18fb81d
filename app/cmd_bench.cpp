// `ocrkit bench infer|train`: speed and memory per batch size, stored in SQLite and printed as a table.
#include <cstdio>
#include <opencv2/core/utils/logger.hpp>
#include <stdexcept>

#include "app/commands.h"
#include "bench/bench.h"

namespace ocrkit::app {

namespace {

struct BenchArgs {
  std::string batch_sizes, db = "bench.sqlite", format = "md";
  bench::InferBenchOptions infer;
  bench::TrainBenchOptions train;
};

void finish(const BenchArgs& a, std::vector<bench::Row> rows) {
  bench::store_rows(a.db, rows);
  std::fputs(bench::format_rows(rows, a.format).c_str(), stdout);
}

void run_infer(BenchArgs& a) {
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
  std::vector<bench::Row> rows;
  try {
    a.infer.batch_sizes = bench::parse_batch_sizes(a.batch_sizes);
    rows = bench::bench_infer(a.infer);
  } catch (const std::invalid_argument& e) {  // bad --batch-sizes, --in paths that do not exist
    std::fprintf(stderr, "error: %s\n", e.what());
    throw ExitCode{2};
  }
  finish(a, std::move(rows));
}

void run_train(BenchArgs& a) {
  std::vector<bench::Row> rows;
  try {
    a.train.batch_sizes = bench::parse_batch_sizes(a.batch_sizes);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    throw ExitCode{2};
  }
  finish(a, bench::bench_train(a.train));
}

void add_common(CLI::App* cmd, BenchArgs& a, const std::string& default_sizes) {
  a.batch_sizes = default_sizes;
  cmd->add_option("--batch-sizes", a.batch_sizes, "batch sizes to measure, comma separated")->capture_default_str();
  cmd->add_option("--db", a.db, "SQLite file the rows are appended to (table bench)")->capture_default_str();
  cmd->add_option("--format", a.format, "printed table: md | csv | json")
      ->capture_default_str()->check(CLI::IsMember({"md", "csv", "json"}));
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "measure infer and train speed and memory per batch size");
  bench->require_subcommand(1);

  auto ia = std::make_shared<BenchArgs>();
  auto* infer = bench->add_subcommand("infer", "time the infer pipeline on pages (optionally against Tesseract)");
  auto& io = ia->infer;
  infer->add_option("--model", io.model, "checkpoint")->required();
  infer->add_option("--in", io.inputs, "PDFs, images or folders")->required();
  add_common(infer, *ia, "16,64,256");
  infer->add_option("--jobs", io.jobs, "threads rendering and analysing pages (0 = all cores; on a GPU all but two, which feed it)")->check(CLI::NonNegativeNumber);
  infer->add_option("--dpi", io.dpi, "PDF render resolution")->capture_default_str()->check(CLI::Range(36, 1200));
  infer->add_flag("--tesseract", io.tesseract, "also time `tesseract PAGE out --psm 3 -l eng tsv` on the same pages");
  infer->add_option("--tesseract-procs", io.tesseract_procs, "parallel tesseract processes (0 = all cores)")
      ->check(CLI::NonNegativeNumber);
  add_runtime_options(infer, io.runtime);
  infer->callback([ia] { run_infer(*ia); });

  auto ta = std::make_shared<BenchArgs>();
  auto* train = bench->add_subcommand("train", "time training steps (temporary run folder, no validation)");
  auto& to = ta->train;
  train->add_option("-c,--config", to.config_path, "YAML config (see configs/)")->required()->check(CLI::ExistingFile);
  train->add_option("--set", to.sets, "override a config key: key.path=value (repeatable)");
  train->add_option("--steps", to.steps, "timed optimizer steps per batch size")->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--warmup", to.warmup, "untimed steps before them")->capture_default_str()->check(CLI::NonNegativeNumber);
  add_common(train, *ta, "32,64,128,256");
  add_runtime_options(train, to.runtime);
  train->callback([ta] { run_train(*ta); });
}

}  // namespace ocrkit::app
