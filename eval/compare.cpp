#include "eval/compare.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <sstream>
#include <stdexcept>

#include "eval/report.h"

namespace ocrkit::eval {

CompareResult compare_runs(const Store& store, const std::string& run_a, const std::string& run_b) {
  CompareResult c;
  c.a = store.find_run(run_a);
  c.b = store.find_run(run_b);
  std::map<std::string, Sample> b_by_path;
  for (auto& s : store.samples(c.b.id))
    if (s.error.empty()) b_by_path.emplace(s.path, std::move(s));
  for (const auto& a : store.samples(c.a.id)) {
    if (!a.error.empty()) continue;
    auto it = b_by_path.find(a.path);
    if (it == b_by_path.end()) {
      ++c.only_a;
      continue;
    }
    const Sample& b = it->second;
    ++c.common;
    c.fixed += a.distance > 0 && b.distance == 0;
    c.broken += a.distance == 0 && b.distance > 0;
    if (a.prediction != b.prediction || a.truth != b.truth)
      c.changed.push_back({a.path, a.truth, a.prediction, b.prediction, a.distance, b.distance, a.truth != b.truth});
    b_by_path.erase(it);
  }
  c.only_b = static_cast<int64_t>(b_by_path.size());
  std::stable_sort(c.changed.begin(), c.changed.end(), [](const ChangedSample& x, const ChangedSample& y) {
    return std::abs(x.distance_b - x.distance_a) > std::abs(y.distance_b - y.distance_a);
  });
  return c;
}

namespace {

struct MetricRow {
  const char* name;
  double a, b;
  bool is_percent;
};

std::vector<MetricRow> metric_rows(const CompareResult& c) {
  const Metrics &a = c.a.metrics, &b = c.b.metrics;
  return {{"cer", a.cer, b.cer, true},         {"cer_macro", a.cer_macro, b.cer_macro, true},
          {"wer", a.wer, b.wer, true},         {"seq_acc", a.seq_acc, b.seq_acc, true},
          {"ned", a.ned, b.ned, false},        {"n", double(a.n), double(b.n), false},
          {"n_errors", double(a.n_errors), double(b.n_errors), false}};
}

std::string number(double v, bool is_percent, bool sign) {
  char buf[48];
  if (is_percent) std::snprintf(buf, sizeof buf, sign ? "%+.2f pp" : "%.2f%%", v * 100);
  else std::snprintf(buf, sizeof buf, sign ? "%+.4g" : "%.4g", v);
  return buf;
}

}  // namespace

std::string format_compare(const CompareResult& c, const std::string& format, int max_changed) {
  if (format == "json") {
    nlohmann::json j;
    j["a"] = run_to_json(c.a);
    j["b"] = run_to_json(c.b);
    for (const auto& m : metric_rows(c)) j["delta"][m.name] = m.b - m.a;
    j["common"] = c.common;
    j["only_a"] = c.only_a;
    j["only_b"] = c.only_b;
    j["fixed"] = c.fixed;
    j["broken"] = c.broken;
    j["changed"] = nlohmann::json::array();
    for (const auto& s : c.changed)
      j["changed"].push_back({{"path", s.path}, {"truth", s.truth}, {"pred_a", s.pred_a}, {"pred_b", s.pred_b},
                              {"distance_a", s.distance_a}, {"distance_b", s.distance_b},
                              {"truth_differs", s.truth_differs}});
    return j.dump(2) + "\n";
  }
  if (format != "text") throw std::runtime_error("unknown compare format '" + format + "' (text, json)");
  std::ostringstream out;
  out << "A: run " << c.a.id << " '" << c.a.name << "' (" << c.a.engine << ", " << c.a.normalization << ")\n"
      << "B: run " << c.b.id << " '" << c.b.name << "' (" << c.b.engine << ", " << c.b.normalization << ")\n";
  if (c.a.normalization != c.b.normalization)
    out << "note: the runs used different normalisations; their metrics are not directly comparable\n";
  if (c.a.data_sha256 != c.b.data_sha256) out << "note: the runs scored different label files (sha256 differs)\n";
  out << "\n  metric           A           B       B - A\n";
  for (const auto& m : metric_rows(c)) {
    char line[160];
    std::snprintf(line, sizeof line, "  %-10s %10s  %10s  %10s\n", m.name, number(m.a, m.is_percent, false).c_str(),
                  number(m.b, m.is_percent, false).c_str(), number(m.b - m.a, m.is_percent, true).c_str());
    out << line;
  }
  out << "\n  samples: " << c.common << " in both, " << c.only_a << " only in A, " << c.only_b << " only in B; "
      << c.changed.size() << " predictions changed: " << c.fixed << " fixed, " << c.broken << " broken\n";
  if (!c.changed.empty()) {
    out << "\n  dist A>B  path\n";
    const size_t shown = std::min(c.changed.size(), static_cast<size_t>(std::max(0, max_changed)));
    for (size_t i = 0; i < shown; ++i) {
      const auto& s = c.changed[i];
      out << "  " << s.distance_a << " > " << s.distance_b << "  " << s.path << "\n"
          << "      truth  " << s.truth << (s.truth_differs ? "   (labels differ between runs)" : "") << "\n"
          << "      A      " << (s.pred_a.empty() ? "(empty)" : s.pred_a) << "\n"
          << "      B      " << (s.pred_b.empty() ? "(empty)" : s.pred_b) << "\n";
    }
    if (shown < c.changed.size()) out << "  ... " << c.changed.size() - shown << " more (use --format json)\n";
  }
  return out.str();
}

}  // namespace ocrkit::eval
