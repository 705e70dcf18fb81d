// Presenting runs: the one-run summary printed after `eval`/`eval score`, run listings (table, md, csv,
// json) and the self-contained HTML report. Functions return text; the CLI decides where it goes.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/evaluate.h"
#include "eval/store.h"

namespace ocrkit::eval {

// Multi-line human summary of one run (metrics, counts, throughput, problems).
std::string format_summary(const EvalRun& result);

// Run listing. format: table (aligned text) | md (Markdown table) | csv (RFC 4180, raw fractions) |
// json (array of full run objects). Throws on an unknown format.
std::string format_runs(const std::vector<RunRecord>& runs, const std::string& format);
nlohmann::json run_to_json(const RunRecord& run);

struct HtmlReportOptions {
  int max_runs = 8;         // newest runs that get a detailed section (all runs are in the table/chart)
  int worst_samples = 12;   // worst samples shown per run, with their images
  int top_confusions = 24;  // confusion pairs that choose the heatmap's rows and columns
  size_t max_image_bytes = 1 << 20;  // larger images are not embedded
};

// One self-contained HTML page (inline CSS and SVG, images as data URIs): runs table, CER chart,
// and per run the metrics, position accuracy, confidence buckets, confusion heatmap and worst samples.
std::string html_report(const Store& store, const HtmlReportOptions& options = {});

// Helpers shared by the text and HTML writers (and the bench tables).
// A CSV field per RFC 4180: quoted when it holds a comma, quote or line break, quotes doubled.
std::string csv_field(const std::string& s);
// A Markdown table cell: '|' escaped, so a name holding one keeps the table's columns.
std::string md_cell(const std::string& s);
std::string percent(double fraction, int decimals = 2);
std::string base64_encode(const std::string& bytes);
size_t display_chars(const std::string& text);  // code points (bytes when not UTF-8)
// A confusion symbol as shown: "∅" for the missing side of an insertion/deletion, "␣" for a space.
std::string visible_symbol(const std::string& symbol);

}  // namespace ocrkit::eval
