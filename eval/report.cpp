#include "eval/report.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <sstream>
#include <stdexcept>

#include "core/text.h"

namespace ocrkit::eval {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string percent(double fraction, int decimals) {
  if (!std::isfinite(fraction)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f%%", decimals, fraction * 100.0);
  return buf;
}

std::string base64_encode(const std::string& bytes) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 2]);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? table[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? table[v & 63] : '=';
  }
  return out;
}

namespace {

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// A listing column: header, display value (table/md) and raw value (csv).
struct Column {
  std::string header;
  std::function<std::string(const RunRecord&)> display;
  std::function<std::string(const RunRecord&)> raw;
};

const std::vector<Column>& columns() {
  using R = const RunRecord&;
  auto metric = [](std::string h, double Metrics::*f) {
    return Column{h, [f](R r) { return percent(r.metrics.*f); }, [f](R r) { return fixed(r.metrics.*f, 6); }};
  };
  auto text = [](std::string h, std::function<std::string(R)> get) { return Column{h, get, get}; };
  static const std::vector<Column> cols = {
      text("id", [](R r) { return std::to_string(r.id); }),
      text("name", [](R r) { return r.name; }),
      text("kind", [](R r) { return r.kind; }),
      text("engine", [](R r) { return r.engine; }),
      Column{"data", [](R r) { return std::filesystem::path(r.data_path).filename().string(); },
             [](R r) { return r.data_path; }},
      text("norm", [](R r) { return r.normalization; }),
      text("n", [](R r) { return std::to_string(r.metrics.n); }),
      text("errors", [](R r) { return std::to_string(r.metrics.n_errors); }),
      metric("cer", &Metrics::cer),
      metric("cer_macro", &Metrics::cer_macro),
      metric("wer", &Metrics::wer),
      metric("seq_acc", &Metrics::seq_acc),
      Column{"1-ned", [](R r) { return fixed(r.metrics.ned, 4); }, [](R r) { return fixed(r.metrics.ned, 6); }},
      Column{"conf", [](R r) { return r.metrics.mean_confidence ? fixed(*r.metrics.mean_confidence, 3) : "-"; },
             [](R r) { return r.metrics.mean_confidence ? fixed(*r.metrics.mean_confidence, 6) : ""; }},
      Column{"lines/s", [](R r) { return r.extra.contains("lines_per_s") ? fixed(r.extra["lines_per_s"].get<double>(), 1) : "-"; },
             [](R r) { return r.extra.contains("lines_per_s") ? fixed(r.extra["lines_per_s"].get<double>(), 3) : ""; }},
      text("time", [](R r) { return r.time; }),
  };
  return cols;
}

}  // namespace

std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

size_t display_chars(const std::string& s) { return valid_utf8(s) ? utf8_to_u32(s).size() : s.size(); }

std::string visible_symbol(const std::string& s) {
  if (s.empty()) return "∅";
  if (s == " ") return "␣";
  return s;
}

nlohmann::json run_to_json(const RunRecord& r) {
  const Metrics& m = r.metrics;
  nlohmann::json j = {{"id", r.id}, {"name", r.name}, {"time", r.time}, {"kind", r.kind},
                      {"model_path", r.model_path}, {"model_sha256", r.model_sha256}, {"data_path", r.data_path},
                      {"data_sha256", r.data_sha256}, {"engine", r.engine}, {"device", r.device},
                      {"normalization", r.normalization}, {"n", m.n}, {"n_errors", m.n_errors}, {"chars", m.chars},
                      {"char_errors", m.char_errors}, {"words", m.words}, {"word_errors", m.word_errors},
                      {"cer", m.cer}, {"cer_macro", m.cer_macro}, {"wer", m.wer}, {"seq_acc", m.seq_acc},
                      {"ned", m.ned}, {"duration_s", r.duration_s}, {"extra", r.extra}};
  j["mean_confidence"] = m.mean_confidence ? nlohmann::json(*m.mean_confidence) : nlohmann::json(nullptr);
  return j;
}

std::string format_runs(const std::vector<RunRecord>& runs, const std::string& format) {
  const auto& cols = columns();
  std::ostringstream out;
  if (format == "json") {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : runs) arr.push_back(run_to_json(r));
    return arr.dump(2) + "\n";
  }
  if (format == "csv") {
    for (size_t c = 0; c < cols.size(); ++c) out << (c ? "," : "") << csv_field(cols[c].header);
    out << "\n";
    for (const auto& r : runs) {
      for (size_t c = 0; c < cols.size(); ++c) out << (c ? "," : "") << csv_field(cols[c].raw(r));
      out << "\n";
    }
    return out.str();
  }
  if (format == "md") {
    for (const auto& c : cols) out << "| " << c.header << " ";
    out << "|\n";
    for (size_t c = 0; c < cols.size(); ++c) out << (c < 6 ? "|---" : "|--:");
    out << "|\n";
    for (const auto& r : runs) {
      for (const auto& c : cols) out << "| " << md_cell(c.display(r)) << " ";
      out << "|\n";
    }
    return out.str();
  }
  if (format != "table") throw std::runtime_error("unknown report format '" + format + "' (table, md, csv, json)");
  std::vector<std::vector<std::string>> cells{{}};
  for (const auto& c : cols) cells[0].push_back(c.header);
  for (const auto& r : runs) {
    cells.emplace_back();
    for (const auto& c : cols) cells.back().push_back(c.display(r));
  }
  std::vector<size_t> width(cols.size(), 0);
  for (const auto& row : cells)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], display_chars(row[c]));
  for (const auto& row : cells) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string pad(width[c] - display_chars(row[c]), ' ');
      line += (c ? "  " : "") + (c < 6 ? row[c] + pad : pad + row[c]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
  if (runs.empty()) out << "(no runs)\n";
  return out.str();
}

std::string format_summary(const EvalRun& result) {
  const RunRecord& r = result.run;
  const Metrics& m = r.metrics;
  std::ostringstream out;
  out << "run " << (r.id ? std::to_string(r.id) + " " : "") << "'" << r.name << "' (" << r.engine << ", "
      << r.normalization << ")\n";
  out << "  samples      " << m.n << " scored, " << m.n_errors << " errors";
  if (r.extra.contains("label_issues")) out << ", " << r.extra["label_issues"].get<int64_t>() << " labels skipped";
  out << "\n";
  out << "  CER          " << percent(m.cer) << "  (" << m.char_errors << "/" << m.chars << " chars; macro "
      << percent(m.cer_macro) << ")\n";
  out << "  WER          " << percent(m.wer) << "  (" << m.word_errors << "/" << m.words << " words)\n";
  out << "  seq acc      " << percent(m.seq_acc) << "\n";
  out << "  1-NED        " << fixed(m.ned, 4) << "\n";
  if (m.mean_confidence) out << "  mean conf    " << fixed(*m.mean_confidence, 3) << "\n";
  if (!m.position_accuracy.empty()) {
    out << "  per position";
    for (double p : m.position_accuracy) out << " " << fixed(p * 100, 0);
    out << "  (% matched)\n";
  }
  if (m.vin)
    out << "  VIN          truth check ok " << percent(m.vin->truth_valid) << ", prediction check ok "
        << percent(m.vin->pred_valid) << ", outside alphabet " << percent(m.vin->pred_bad_chars)
        << ", wrong length " << percent(m.vin->pred_bad_length) << "\n";
  if (!m.confusions.empty()) {
    out << "  top confusions";
    for (size_t i = 0; i < std::min<size_t>(8, m.confusions.size()); ++i) {
      const auto& c = m.confusions[i];
      out << " " << visible_symbol(c.truth) << "->" << visible_symbol(c.pred) << " x" << c.count;
    }
    out << "\n";
  }
  if (result.lines_per_s > 0) out << "  speed        " << fixed(result.lines_per_s, 1) << " lines/s\n";
  out << "  duration     " << fixed(r.duration_s, 2) << " s\n";
  if (!result.problems.empty())
    out << "  WARNING      " << result.problems.size() << " problems (skipped labels, unmatched or missing "
        << "predictions, unreadable images); see the log above\n";
  return out.str();
}

}  // namespace ocrkit::eval
