// `ocrkit eval`: score a checkpoint on labelled crops (eval), score predictions made elsewhere (eval
// score), list stored runs (eval report) and diff two runs (eval compare). Results go to stdout; the
// run goes to the SQLite store.
#include <fstream>
#include <iostream>
#include <memory>

#include "app/commands.h"
#include "core/log.h"
#include "eval/compare.h"
#include "eval/evaluate.h"
#include "eval/report.h"
#include "eval/store.h"

namespace ocrkit::app {

namespace {

// Options shared by the commands that create a run.
struct RunArgs {
  std::string db = "results.sqlite";  // results store
  std::string name;                   // run name
  std::string normalize;              // casefold,whitespace,nfkc
  bool vin = false;                   // VIN check-digit statistics
  int buckets = 10;                   // confidence buckets
};

void add_run_options(CLI::App* cmd, RunArgs& a) {
  cmd->add_option("--db", a.db, "SQLite results file (created when missing)")->capture_default_str();
  cmd->add_option("--name", a.name, "run name (default: the checkpoint's file name / the engine)");
  cmd->add_option("--normalize", a.normalize,
                  "extra normalisation of truth and prediction: comma list of casefold, whitespace, nfkc (NFC always)")
      ->check([](const std::string& spec) {
        try {
          eval::Normalization::parse(spec);
          return std::string();
        } catch (const std::exception& e) {
          return std::string(e.what());
        }
      });
  cmd->add_flag("--vin", a.vin, "VIN mode: check-digit validity and alphabet statistics");
  cmd->add_option("--confidence-buckets", a.buckets, "equal-width confidence buckets")
      ->capture_default_str()->check(CLI::PositiveNumber);
}

// Opens the results store for a new run, saying so when it is the default file.
eval::Store open_store(const RunArgs& a, const CLI::App* cmd) {
  if (cmd->count("--db") == 0) log_line("eval", "no --db given: storing the run in ./" + a.db);
  return eval::Store(a.db);
}

eval::MetricsOptions metrics_options(const RunArgs& a) {
  eval::MetricsOptions m;
  m.normalization = eval::Normalization::parse(a.normalize);
  m.vin = a.vin;
  m.confidence_buckets = a.buckets;
  return m;
}

// Stores the run, prints its summary and picks the exit status (3 when items were skipped or failed).
void store_and_print(eval::Store& store, eval::EvalRun& result) {
  store.add_run(result.run, result.samples);
  std::cout << eval::format_summary(result) << std::flush;
  if (result.run.metrics.n == 0) throw std::runtime_error("no sample could be scored");
  if (!result.problems.empty()) throw ExitCode{3};
}

struct EvalArgs {
  RunArgs run;
  eval::ModelEvalOptions model;
  eval::ScoreOptions score;
  std::string report_format = "table", html;
  eval::HtmlReportOptions html_options;
  std::string compare_a, compare_b, compare_format = "text";
  int max_changed = 50;
};

}  // namespace

void add_eval_command(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* ev = app.add_subcommand("eval", "score character accuracy and store every run and sample in SQLite");
  ev->require_subcommand(0, 1);
  ev->add_option("--model", a->model.model_path, "checkpoint to evaluate");
  ev->add_option("--data", a->model.data_path, "labels: Paddle TSV, JSONL or a tesstrain folder");
  ev->add_option("--batch-size", a->model.batch_size, "crops per recognition call")
      ->capture_default_str()->check(CLI::PositiveNumber);
  add_run_options(ev, a->run);
  add_runtime_options(ev, a->model.recognizer.runtime);

  CLI::App* score = ev->add_subcommand("score", "score predictions made elsewhere (path<TAB>text[<TAB>conf])");
  score->add_option("--truth", a->score.truth_path, "labels (any supported format)")->required();
  score->add_option("--pred", a->score.pred_path, "prediction TSV: path<TAB>prediction[<TAB>confidence]")->required();
  score->add_option("--engine", a->score.engine, "engine that made the predictions")->capture_default_str();
  score->add_option("--engine-config", a->score.config, "engine settings to store with the run");
  add_run_options(score, a->run);

  CLI::App* report = ev->add_subcommand("report", "list stored runs; --html writes a self-contained page");
  report->add_option("--db", a->run.db, "SQLite results file")->capture_default_str();
  report->add_option("--format", a->report_format, "table | md | csv | json | html (the HTML page on stdout)")
      ->capture_default_str()->check(CLI::IsMember({"table", "md", "csv", "json", "html"}));
  report->add_option("--html", a->html, "also write the HTML report to this file");
  report->add_option("--max-runs", a->html_options.max_runs, "newest runs with a detailed HTML section")
      ->capture_default_str();
  report->add_option("--worst", a->html_options.worst_samples, "worst samples shown per run")->capture_default_str();

  CLI::App* compare = ev->add_subcommand("compare", "metric deltas and changed predictions between two runs");
  compare->add_option("--db", a->run.db, "SQLite results file")->capture_default_str();
  compare->add_option("run_a", a->compare_a, "run id or name (A)")->required();
  compare->add_option("run_b", a->compare_b, "run id or name (B)")->required();
  compare->add_option("--format", a->compare_format, "text | json")
      ->capture_default_str()->check(CLI::IsMember({"text", "json"}));
  compare->add_option("--max-changed", a->max_changed, "changed samples listed in text output")->capture_default_str();

  ev->callback([a, ev] {
    if (!ev->get_subcommands().empty()) return;  // a nested command does the work
    if (a->model.model_path.empty() || a->model.data_path.empty())
      throw CLI::RequiredError("--model and --data (or one of: score, report, compare)");
    a->model.name = a->run.name;
    a->model.metrics = metrics_options(a->run);
    eval::Store store = open_store(a->run, ev);  // opened first: a bad --db fails before the model runs
    eval::EvalRun result = eval::evaluate_model(a->model);
    store_and_print(store, result);
  });
  score->callback([a, score] {
    a->score.name = a->run.name;
    a->score.metrics = metrics_options(a->run);
    eval::Store store = open_store(a->run, score);
    eval::EvalRun result = eval::score_predictions(a->score);
    store_and_print(store, result);
  });
  report->callback([a] {
    eval::StoreOptions ro;
    ro.read_only = true;
    eval::Store store(a->run.db, ro);
    if (a->report_format == "html") std::cout << eval::html_report(store, a->html_options) << std::flush;
    else std::cout << eval::format_runs(store.runs(), a->report_format) << std::flush;
    if (!a->html.empty()) {
      const std::string page = eval::html_report(store, a->html_options);
      std::ofstream out(a->html, std::ios::binary);
      if (!(out << page)) throw std::runtime_error(a->html + ": cannot write HTML report");
      log_line("eval", "wrote " + a->html + " (" + std::to_string(page.size() / 1024) + " KiB)");
    }
  });
  compare->callback([a] {
    eval::StoreOptions ro;
    ro.read_only = true;
    eval::Store store(a->run.db, ro);
    const auto result = eval::compare_runs(store, a->compare_a, a->compare_b);
    std::cout << eval::format_compare(result, a->compare_format, a->max_changed) << std::flush;
  });
}

}  // namespace ocrkit::app
