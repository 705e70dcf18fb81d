#include "eval/evaluate.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "core/log.h"
#include "core/sha256.h"
#include "datasets/labels.h"

namespace fs = std::filesystem;

namespace ocrkit::eval {

namespace {

constexpr size_t kProblemsKept = 200;  // problems stored in a run's extra JSON
constexpr size_t kProblemsLogged = 20; // problems logged one per line before a summary line

}  // namespace

void add_problem(EvalRun& r, const std::string& message) {
  if (r.problems.size() < kProblemsLogged) log_line("eval", message);
  else if (r.problems.size() == kProblemsLogged) log_line("eval", "more problems follow; see the run's extra.problems");
  r.problems.push_back(message);
}

std::vector<Sample> load_truth(const std::string& path, EvalRun& r) {
  LabelSet labels = read_labels(path, nullptr, /*allow_empty_text=*/true);
  for (const auto& issue : labels.issues) add_problem(r, issue.where() + ": " + issue.reason);
  std::vector<Sample> samples;
  samples.reserve(labels.items.size());
  for (const auto& item : labels.items) {
    Sample s;
    s.path = canonical_path(item.image);
    s.truth = item.text;
    samples.push_back(std::move(s));
  }
  r.run.extra["label_issues"] = labels.issues.size();
  log_line("eval", path + ": " + std::to_string(samples.size()) + " labelled items, " +
                       std::to_string(labels.issues.size()) + " skipped");
  return samples;
}

std::string canonical_path(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path), ec);
  return ec ? fs::absolute(path).lexically_normal().string() : p.string();
}

std::string label_source_sha256(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return sha256_file(path);
  for (const char* name : {"labels.tsv", "labels.jsonl"})
    if (fs::exists(fs::path(path) / name)) return sha256_file((fs::path(path) / name).string());
  std::vector<fs::path> gts;
  for (const auto& e : fs::directory_iterator(path)) {
    const std::string f = e.path().filename().string();
    if (f.size() > 7 && f.compare(f.size() - 7, 7, ".gt.txt") == 0) gts.push_back(e.path());
  }
  std::sort(gts.begin(), gts.end());
  std::string listing;  // "name sha256" per ground-truth file
  for (const auto& gt : gts) listing += gt.filename().string() + " " + sha256_file(gt.string()) + "\n";
  return sha256_hex(listing);
}

void finish_run(EvalRun& r, const MetricsOptions& options) {
  log_line("eval", "scoring " + std::to_string(r.samples.size()) + " samples with normalisation " +
                       options.normalization.to_string() + (options.vin ? ", VIN checks on" : ""));
  for (Sample& s : r.samples) score_sample(s, options.normalization);
  r.run.metrics = compute_metrics(r.samples, options);
  r.run.normalization = options.normalization.to_string();
  r.run.extra["vin_mode"] = options.vin;
  r.run.extra["problem_count"] = r.problems.size();
  r.run.extra["problems"] = std::vector<std::string>(
      r.problems.begin(), r.problems.begin() + std::min(r.problems.size(), kProblemsKept));
  if (r.lines_per_s > 0) r.run.extra["lines_per_s"] = r.lines_per_s;
}

EvalRun score_predictions(const ScoreOptions& opt) {
  const auto start = std::chrono::steady_clock::now();
  EvalRun r;
  r.samples = load_truth(opt.truth_path, r);
  std::map<std::string, size_t> by_path;
  for (size_t i = 0; i < r.samples.size(); ++i) by_path.emplace(r.samples[i].path, i);

  std::ifstream in(opt.pred_path);
  if (!in) throw std::runtime_error(opt.pred_path + ": cannot read predictions");
  const fs::path pred_dir = fs::absolute(opt.pred_path).parent_path();
  std::error_code ec;
  const fs::path truth_dir = fs::is_directory(opt.truth_path, ec) ? fs::absolute(opt.truth_path)
                                                                    : fs::absolute(opt.truth_path).parent_path();
  std::vector<bool> seen(r.samples.size(), false);
  int64_t unmatched = 0, lines = 0;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (n == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 BOM
    if (line.empty()) continue;
    const std::string where = opt.pred_path + ":" + std::to_string(n) + ": ";
    ++lines;
    const size_t t1 = line.find('\t');
    if (t1 == std::string::npos) {
      add_problem(r, where + "no TAB between path and prediction");
      continue;
    }
    const size_t t2 = line.find('\t', t1 + 1);
    const std::string path = line.substr(0, t1);
    const std::string pred = line.substr(t1 + 1, t2 == std::string::npos ? std::string::npos : t2 - t1 - 1);
    std::optional<double> conf;
    if (t2 != std::string::npos && t2 + 1 < line.size()) {
      try {
        size_t used = 0;
        conf = std::stod(line.substr(t2 + 1), &used);
        if (used != line.size() - t2 - 1) throw std::invalid_argument("trailing characters");
      } catch (const std::exception&) {
        add_problem(r, where + "confidence '" + line.substr(t2 + 1) + "' is not a number; ignored");
        conf.reset();
      }
    }
    // The first candidate that names a truth item wins.
    std::vector<fs::path> candidates{fs::path(path)};
    if (fs::path(path).is_relative()) candidates = {fs::absolute(path), pred_dir / path, truth_dir / path};
    auto it = by_path.end();
    for (const auto& c : candidates)
      if ((it = by_path.find(canonical_path(c.string()))) != by_path.end()) break;
    if (it == by_path.end()) {
      ++unmatched;
      add_problem(r, where + "prediction for '" + path + "' matches no labelled item");
      continue;
    }
    if (seen[it->second]) {
      add_problem(r, where + "second prediction for '" + path + "'; the first one is kept");
      continue;
    }
    seen[it->second] = true;
    Sample& s = r.samples[it->second];
    s.prediction = pred;
    s.confidence = conf;
  }
  int64_t missing = 0;
  for (size_t i = 0; i < r.samples.size(); ++i)
    if (!seen[i]) {
      r.samples[i].error = "no prediction";
      ++missing;
      add_problem(r, r.samples[i].path + ": labelled item has no prediction in " + opt.pred_path);
    }
  log_line("eval", opt.pred_path + ": " + std::to_string(lines) + " predictions, " + std::to_string(unmatched) +
                       " unmatched, " + std::to_string(missing) + " labelled items without a prediction");

  r.run.kind = "score";
  r.run.engine = opt.engine;
  r.run.name = opt.name.empty() ? opt.engine : opt.name;
  r.run.model_path = canonical_path(opt.pred_path);
  r.run.model_sha256 = sha256_file(opt.pred_path);
  r.run.data_path = canonical_path(opt.truth_path);
  r.run.data_sha256 = label_source_sha256(opt.truth_path);
  r.run.config = opt.config;
  r.run.extra["unmatched_predictions"] = unmatched;
  r.run.extra["missing_predictions"] = missing;
  finish_run(r, opt.metrics);
  r.run.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace ocrkit::eval
