// Helpers shared by the eval tests: a fresh temporary folder and small scored runs.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/fs.h"
#include "eval/metrics.h"
#include "eval/store.h"

namespace ocrkit::eval::testing {

// A new empty folder under the system temp dir, named after the running test.
inline std::filesystem::path fresh_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::temp_directory_path() /
             ("ocrkit_eval_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" + std::to_string(getpid()));
  ocrkit::remove_tree(dir);
  std::filesystem::create_directories(dir);
  set_log_quiet(true);
  return dir;
}

// A scored run of (path, truth, prediction, confidence) rows.
struct Row {
  std::string path, truth, pred;
  double conf;
};

inline RunRecord make_run(const std::string& name, const std::vector<Row>& rows, std::vector<Sample>& samples,
                          const MetricsOptions& opt = {}) {
  samples.clear();
  for (const auto& r : rows) {
    Sample s;
    s.path = r.path;
    s.truth = r.truth;
    s.prediction = r.pred;
    if (r.conf >= 0) s.confidence = r.conf;
    score_sample(s, opt.normalization);
    samples.push_back(s);
  }
  RunRecord run;
  run.name = name;
  run.kind = "score";
  run.engine = "test";
  run.data_path = "/data/labels.tsv";
  run.data_sha256 = std::string(64, 'a');
  run.normalization = opt.normalization.to_string();
  run.metrics = compute_metrics(samples, opt);
  return run;
}

}  // namespace ocrkit::eval::testing
