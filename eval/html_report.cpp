// The self-contained HTML report (report.h): inline CSS, inline SVG charts, images as data URIs.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/log.h"
#include "core/text.h"
#include "eval/report.h"

namespace fs = std::filesystem;

namespace ocrkit::eval {

namespace {

const char* kStyle = R"(
body{font:14px/1.4 -apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d8dde6;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px} .meta{color:#5b6475;font-size:12px}
table{border-collapse:collapse;margin:6px 0} th,td{padding:3px 8px;border:1px solid #d8dde6;text-align:left}
th{background:#f2f4f8;font-weight:600} td.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;gap:10px;flex-wrap:wrap;margin:8px 0}
.card{border:1px solid #d8dde6;border-radius:6px;padding:6px 12px;min-width:90px}
.card b{display:block;font-size:18px} .card span{color:#5b6475;font-size:12px}
.mono{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;white-space:pre}
.sub{background:#fde2b8;color:#8a4b00} .ins{background:#c9efcf;color:#0b6b1d} .del{background:#f8c9c9;color:#9b1c1c;text-decoration:line-through}
.heat td{width:26px;height:22px;text-align:center;padding:0;font-size:11px} .heat th{font-family:"DejaVu Sans Mono",monospace;padding:0 4px}
img.crop{max-width:360px;max-height:64px;image-rendering:auto;border:1px solid #d8dde6;background:#fff}
.warn{color:#9b1c1c} section{margin-bottom:24px} .tag{color:#8a93a3;font-size:11px;margin-right:6px} .nowrap{white-space:nowrap} .scroll{overflow-x:auto;max-width:100%}
)";

std::string fmt(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// "2026-11-22T17:03:23Z" -> "2026-11-22 17:03" (the full time is the cell's title).
std::string short_time(const std::string& iso) {
  std::string t = iso.substr(0, 16);
  if (t.size() > 10 && t[10] == 'T') t[10] = ' ';
  return t;
}

std::string data_uri(const std::string& path, size_t max_bytes) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec || size == 0 || size > max_bytes) return "";
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  const std::string mime = ext == ".png" ? "image/png" : (ext == ".jpg" || ext == ".jpeg") ? "image/jpeg"
                           : ext == ".bmp" ? "image/bmp" : ext == ".webp" ? "image/webp" : ext == ".gif" ? "image/gif" : "";
  if (mime.empty()) return "";  // TIFF/PNM do not display in browsers
  return "data:" + mime + ";base64," + base64_encode(bytes);
}

// Truth and prediction as the alignment sees them: substitutions, insertions and deletions marked.
std::string diff_html(const std::string& truth, const std::string& pred, const Normalization& norm) {
  const Alignment a = align(utf8_to_u32(norm.apply(truth)), utf8_to_u32(norm.apply(pred)));
  std::string out;
  auto sym = [](char32_t c) { return xml_escape(visible_symbol(u32_to_utf8(std::u32string(1, c)))); };
  for (const EditOp& op : a.ops) {
    switch (op.kind) {
      case EditKind::match: out += xml_escape(u32_to_utf8(std::u32string(1, op.hyp))); break;
      case EditKind::substitution:
        out += "<span class=\"sub\" title=\"truth " + sym(op.ref) + "\">" + sym(op.hyp) + "</span>";
        break;
      case EditKind::insertion: out += "<span class=\"ins\" title=\"inserted\">" + sym(op.hyp) + "</span>"; break;
      case EditKind::deletion: out += "<span class=\"del\" title=\"missing\">" + sym(op.ref) + "</span>"; break;
    }
  }
  return out;
}

// Horizontal bar chart of CER (micro) per run, one row per run, value printed after the bar.
std::string cer_chart(const std::vector<RunRecord>& runs) {
  const int row = 26, label_w = 300, bar_w = 560, top = 24;
  double max_cer = 0;
  for (const auto& r : runs) max_cer = std::max(max_cer, r.metrics.cer);
  // Axis: the smallest tick of 1, 2, 2.5 or 5 x 10^k that covers the largest CER in at most 5 ticks.
  double tick = 0.0025;
  int ticks = 4;
  if (max_cer > 0) {
    bool found = false;
    for (int k = static_cast<int>(std::floor(std::log10(max_cer))) - 2; !found; ++k)
      for (double m : {1.0, 2.0, 2.5, 5.0}) {
        const double t = m * std::pow(10.0, k);
        const int n = static_cast<int>(std::ceil(max_cer / t - 1e-9));
        if (n <= 5) {
          tick = t, ticks = std::max(n, 1), found = true;
          break;
        }
      }
  }
  const double scale_max = tick * ticks;
  const int height = top + row * static_cast<int>(runs.size()) + 10;
  std::ostringstream s;
  const int width = label_w + bar_w + 90;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height << "\" viewBox=\"0 0 "
    << width << " " << height << "\" style=\"max-width:100%;height:auto\" font-family=\"DejaVu Sans,sans-serif\" "
    << "font-size=\"12\" role=\"img\" aria-label=\"CER per run\">";
  int decimals = 0;  // enough to print the tick (in percent) exactly
  while (decimals < 4 && std::abs(tick * 100 * std::pow(10, decimals) - std::round(tick * 100 * std::pow(10, decimals))) > 1e-6)
    ++decimals;
  for (int t = 0; t <= ticks; ++t) {  // grid lines with percentages
    const double v = tick * t;
    const int x = label_w + static_cast<int>(bar_w * t / static_cast<double>(ticks));
    s << "<line x1=\"" << x << "\" y1=\"" << top - 6 << "\" x2=\"" << x << "\" y2=\"" << height - 6
      << "\" stroke=\"#e3e7ee\"/><text x=\"" << x << "\" y=\"" << top - 10 << "\" text-anchor=\"middle\" fill=\"#5b6475\">"
      << percent(v, decimals) << "</text>";
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunRecord& r = runs[i];
    const int y = top + row * static_cast<int>(i);
    const int w = std::max(1, static_cast<int>(bar_w * r.metrics.cer / scale_max));
    const char* colour = r.kind == "model" ? "#3b6fd8" : "#d88a3b";
    std::string label = "#" + std::to_string(r.id) + " " + r.name + " (" + r.engine + ")";
    if (display_chars(label) > 42) label = u32_to_utf8(utf8_to_u32(label).substr(0, 41)) + "…";
    s << "<text x=\"" << label_w - 8 << "\" y=\"" << y + 15 << "\" text-anchor=\"end\">" << xml_escape(label)
      << "</text><rect x=\"" << label_w << "\" y=\"" << y + 3 << "\" width=\"" << w << "\" height=\"" << row - 8
      << "\" fill=\"" << colour << "\"><title>" << xml_escape(r.name) << ": CER " << percent(r.metrics.cer)
      << "</title></rect><text x=\"" << label_w + w + 6 << "\" y=\"" << y + 15 << "\">" << percent(r.metrics.cer)
      << "</text>";
  }
  s << "</svg>";
  return s.str();
}

// Small column chart of per-position accuracy (VIN: 17 bars).
std::string position_chart(const std::vector<double>& acc) {
  const int bw = 26, h = 90, left = 34;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << left + bw * acc.size() + 10 << "\" height=\"" << h + 36
    << "\" font-family=\"DejaVu Sans,sans-serif\" font-size=\"11\">";
  for (int t : {0, 50, 100}) {
    const int y = 10 + h - h * t / 100;
    s << "<line x1=\"" << left << "\" y1=\"" << y << "\" x2=\"" << left + bw * acc.size() << "\" y2=\"" << y
      << "\" stroke=\"#e3e7ee\"/><text x=\"" << left - 4 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\" fill=\"#5b6475\">"
      << t << "%</text>";
  }
  for (size_t i = 0; i < acc.size(); ++i) {
    const int bh = static_cast<int>(h * acc[i]);
    const int x = left + bw * static_cast<int>(i);
    s << "<rect x=\"" << x + 3 << "\" y=\"" << 10 + h - bh << "\" width=\"" << bw - 6 << "\" height=\"" << bh
      << "\" fill=\"#3b6fd8\"><title>position " << i + 1 << ": " << percent(acc[i]) << "</title></rect><text x=\""
      << x + bw / 2 << "\" y=\"" << h + 26 << "\" text-anchor=\"middle\">" << i + 1 << "</text>";
  }
  s << "</svg>";
  return s.str();
}

// Truth x prediction table coloured by count, over the symbols of the most frequent confusion pairs.
std::string confusion_heatmap(const std::vector<ConfusionPair>& pairs, int top) {
  if (pairs.empty()) return "<p>No confusions.</p>";
  std::map<std::string, int64_t> row_total, col_total;
  const size_t k = std::min<size_t>(pairs.size(), static_cast<size_t>(std::max(1, top)));
  for (size_t i = 0; i < k; ++i) {
    row_total[pairs[i].truth] += pairs[i].count;
    col_total[pairs[i].pred] += pairs[i].count;
  }
  auto order = [](const std::map<std::string, int64_t>& totals) {
    std::vector<std::string> keys;
    for (const auto& [key, n] : totals) keys.push_back(key);
    std::stable_sort(keys.begin(), keys.end(),
                     [&](const std::string& a, const std::string& b) { return totals.at(a) > totals.at(b); });
    return keys;
  };
  const auto rows = order(row_total), cols = order(col_total);
  std::map<std::pair<std::string, std::string>, int64_t> count;
  int64_t max_count = 1;
  for (const auto& p : pairs) {
    count[{p.truth, p.pred}] += p.count;
    max_count = std::max(max_count, p.count);
  }
  std::ostringstream s;
  s << "<table class=\"heat\"><tr><th title=\"truth (rows) / prediction (columns)\">t\\p</th>";
  for (const auto& c : cols) s << "<th>" << xml_escape(visible_symbol(c)) << "</th>";
  s << "</tr>";
  for (const auto& r : rows) {
    s << "<tr><th>" << xml_escape(visible_symbol(r)) << "</th>";
    for (const auto& c : cols) {
      auto it = count.find({r, c});
      if (it == count.end()) {
        s << "<td></td>";
        continue;
      }
      const double t = std::sqrt(static_cast<double>(it->second) / max_count);  // sqrt: small counts stay visible
      const int g = static_cast<int>(235 - 175 * t), b = static_cast<int>(225 - 185 * t);
      s << "<td style=\"background:rgb(240," << g << "," << b << ");color:" << (t > 0.6 ? "#fff" : "#1d2330")
        << "\" title=\"" << xml_escape(visible_symbol(r)) << " &#8594; " << xml_escape(visible_symbol(c)) << ": "
        << it->second << "\">" << it->second << "</td>";
    }
    s << "</tr>";
  }
  s << "</table>";
  return s.str();
}

std::string card(const std::string& value, const std::string& label) {
  return "<div class=\"card\"><b>" + xml_escape(value) + "</b><span>" + xml_escape(label) + "</span></div>";
}

std::string run_section(const Store& store, const RunRecord& r, const HtmlReportOptions& opt) {
  const Metrics& m = r.metrics;
  const Normalization norm = Normalization::parse([&] {
    std::string spec = r.normalization;
    std::replace(spec.begin(), spec.end(), '+', ',');
    return spec;
  }());
  std::ostringstream s;
  s << "<section><h2>Run #" << r.id << " " << xml_escape(r.name) << "</h2><p class=\"meta\">" << xml_escape(r.kind)
    << " run by " << xml_escape(r.engine) << " at " << xml_escape(r.time) << "<br>data "
    << xml_escape(r.data_path) << " (sha256 " << xml_escape(r.data_sha256.substr(0, 12)) << ")<br>"
    << (r.kind == "model" ? "model " : "predictions ") << xml_escape(r.model_path) << " (sha256 "
    << xml_escape(r.model_sha256.substr(0, 12)) << ")" << (r.device.empty() ? "" : "<br>device " + xml_escape(r.device))
    << "<br>normalisation: " << xml_escape(r.normalization) << "</p>";
  s << "<div class=\"cards\">" << card(percent(m.cer), "CER (micro)") << card(percent(m.cer_macro), "CER (macro)")
    << card(percent(m.wer), "WER") << card(percent(m.seq_acc), "sequence accuracy") << card(fmt(m.ned, 4), "1-NED")
    << card(std::to_string(m.n), "samples scored") << card(std::to_string(m.n_errors), "errors");
  if (m.mean_confidence) s << card(fmt(*m.mean_confidence, 3), "mean confidence");
  if (r.extra.contains("lines_per_s")) s << card(fmt(r.extra["lines_per_s"].get<double>(), 1), "lines/s");
  s << "</div>";
  if (r.extra.value("problem_count", 0) > 0)
    s << "<p class=\"warn\">" << r.extra["problem_count"].get<int64_t>()
      << " problems (skipped labels, unmatched or missing predictions, unreadable images).</p>";
  if (m.vin)
    s << "<h3>VIN checks</h3><table><tr><th>truth check digit valid</th><th>prediction check digit valid</th>"
      << "<th>prediction outside VIN alphabet</th><th>prediction not 17 chars</th></tr><tr><td class=\"num\">"
      << percent(m.vin->truth_valid) << "</td><td class=\"num\">" << percent(m.vin->pred_valid)
      << "</td><td class=\"num\">" << percent(m.vin->pred_bad_chars) << "</td><td class=\"num\">"
      << percent(m.vin->pred_bad_length) << "</td></tr></table>";
  if (!m.position_accuracy.empty())
    s << "<h3>Accuracy per character position</h3>" << position_chart(m.position_accuracy);
  if (!m.buckets.empty()) {
    s << "<h3>Confidence buckets</h3><table><tr><th>confidence</th><th>samples</th><th>mean confidence</th>"
      << "<th>sequence accuracy</th></tr>";
    for (const auto& b : m.buckets)
      if (b.count > 0)
        s << "<tr><td>" << fmt(b.low, 1) << "–" << fmt(b.high, 1) << "</td><td class=\"num\">" << b.count
          << "</td><td class=\"num\">" << fmt(b.mean_confidence, 3) << "</td><td class=\"num\">" << percent(b.accuracy)
          << "</td></tr>";
    s << "</table>";
  }
  s << "<h3>Confusions (truth rows, prediction columns; ∅ = inserted or missing)</h3>"
    << confusion_heatmap(store.confusions(r.id), opt.top_confusions);

  std::vector<Sample> samples = store.samples(r.id);
  std::vector<const Sample*> worst, errors;
  for (const auto& x : samples) (x.error.empty() ? worst : errors).push_back(&x);
  std::stable_sort(worst.begin(), worst.end(), [](const Sample* a, const Sample* b) {
    return sample_cer(*a) != sample_cer(*b) ? sample_cer(*a) > sample_cer(*b) : a->distance > b->distance;
  });
  while (!worst.empty() && worst.back()->distance == 0) worst.pop_back();
  worst.resize(std::min(worst.size(), static_cast<size_t>(std::max(0, opt.worst_samples))));
  s << "<h3>Worst samples</h3>";
  if (worst.empty()) s << "<p>Every scored sample is exact.</p>";
  else {
    s << "<table><tr><th>image</th><th>truth / prediction</th><th>dist</th><th>CER</th><th>conf</th></tr>";
    for (const Sample* x : worst) {
      const std::string uri = data_uri(x->path, opt.max_image_bytes);
      s << "<tr><td>" << (uri.empty() ? "<span class=\"meta\">(image not embedded)</span>"
                                      : "<img class=\"crop\" alt=\"crop\" src=\"" + uri + "\">")
        << "<div class=\"meta\">" << xml_escape(fs::path(x->path).filename().string()) << "</div></td><td><div class=\"mono\"><span class=\"tag\">truth</span>"
        << xml_escape(x->truth) << "</div><div class=\"mono\"><span class=\"tag\">read </span>"
        << diff_html(x->truth, x->prediction, norm) << "</div></td><td class=\"num\">" << x->distance << "</td><td class=\"num\">" << percent(sample_cer(*x), 1)
        << "</td><td class=\"num\">" << (x->confidence ? fmt(*x->confidence, 3) : "-") << "</td></tr>";
    }
    s << "</table><p class=\"meta\">Prediction marks: <span class=\"sub\">substituted</span> "
      << "<span class=\"ins\">inserted</span> <span class=\"del\">missing</span> (hover for the truth character).</p>";
  }
  if (!errors.empty()) {
    s << "<h3>Unscored samples (" << errors.size() << ")</h3><table><tr><th>path</th><th>error</th></tr>";
    for (size_t i = 0; i < std::min<size_t>(errors.size(), 20); ++i)
      s << "<tr><td>" << xml_escape(errors[i]->path) << "</td><td>" << xml_escape(errors[i]->error) << "</td></tr>";
    s << "</table>";
  }
  s << "</section>";
  return s.str();
}

}  // namespace

std::string html_report(const Store& store, const HtmlReportOptions& opt) {
  const std::vector<RunRecord> runs = store.runs();
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
  std::ostringstream s;
  s << "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ocrkit eval report</title><style>"
    << kStyle << "</style></head><body><h1>ocrkit eval report</h1><p class=\"meta\">" << xml_escape(store.path())
    << " · " << runs.size() << " runs · generated " << when
    << "<br>CER = character edit distance / reference characters over Unicode code points after NFC and the "
       "run's normalisation; 1-NED = 1 − distance / max(length) averaged over samples.</p>";
  if (runs.empty()) return s.str() + "<p>No runs yet.</p></body></html>\n";

  s << "<h2>Runs</h2><div class=\"scroll\"><table><tr><th>id</th><th>name</th><th>kind</th><th>engine</th><th>data</th><th>normalisation</th>"
    << "<th>n</th><th>errors</th><th>CER</th><th>CER macro</th><th>WER</th><th>seq acc</th><th>1-NED</th><th>time</th></tr>";
  for (const auto& r : runs)
    s << "<tr><td class=\"num\">" << r.id << "</td><td>" << xml_escape(r.name) << "</td><td>" << xml_escape(r.kind)
      << "</td><td>" << xml_escape(r.engine) << "</td><td title=\"" << xml_escape(r.data_path) << "\">"
      << xml_escape(fs::path(r.data_path).filename().string()) << "</td><td>" << xml_escape(r.normalization)
      << "</td><td class=\"num\">" << r.metrics.n << "</td><td class=\"num\">" << r.metrics.n_errors
      << "</td><td class=\"num\">" << percent(r.metrics.cer) << "</td><td class=\"num\">" << percent(r.metrics.cer_macro)
      << "</td><td class=\"num\">" << percent(r.metrics.wer) << "</td><td class=\"num\">" << percent(r.metrics.seq_acc)
      << "</td><td class=\"num\">" << fmt(r.metrics.ned, 4) << "</td><td class=\"nowrap\" title=\"" << xml_escape(r.time)
      << "\">" << xml_escape(short_time(r.time)) << "</td></tr>";
  s << "</table></div>";
  s << "<h2>CER per run</h2><p class=\"meta\"><span style=\"color:#3b6fd8\">■</span> ocrkit model runs "
    << "<span style=\"color:#d88a3b\">■</span> scored predictions (other engines)</p>" << cer_chart(runs);

  const size_t first = runs.size() > static_cast<size_t>(std::max(0, opt.max_runs)) ? runs.size() - opt.max_runs : 0;
  if (first > 0)
    log_line("eval", "HTML report: detailed sections for the newest " + std::to_string(opt.max_runs) + " of " +
                         std::to_string(runs.size()) + " runs");
  for (size_t i = runs.size(); i-- > first;) s << run_section(store, runs[i], opt);
  s << "</body></html>\n";
  return s.str();
}

}  // namespace ocrkit::eval
