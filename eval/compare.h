// `eval compare`: metric deltas between two runs and the samples whose prediction changed (matched by
// image path).
#pragma once
#include <string>
#include <vector>

#include "eval/store.h"

namespace ocrkit::eval {

struct ChangedSample {
  std::string path;
  std::string truth;         // run A's truth (B's when they differ is flagged by truth_differs)
  std::string pred_a, pred_b;
  int distance_a = 0, distance_b = 0;
  bool truth_differs = false;  // the runs used different labels for this image
};

struct CompareResult {
  RunRecord a, b;
  int64_t common = 0;     // paths scored in both runs
  int64_t only_a = 0;     // paths only run A scored
  int64_t only_b = 0;     // paths only run B scored
  int64_t fixed = 0;      // wrong in A, exact in B
  int64_t broken = 0;     // exact in A, wrong in B
  std::vector<ChangedSample> changed;  // predictions that differ, biggest distance change first
};

// Runs by id or name (Store::find_run).
CompareResult compare_runs(const Store& store, const std::string& run_a, const std::string& run_b);

// format: text | json. At most max_changed changed samples are listed in text (all in json).
std::string format_compare(const CompareResult& result, const std::string& format, int max_changed = 50);

}  // namespace ocrkit::eval
