// Reports, compare and `eval score` on small fixtures: parseable CSV/JSON, a self-contained HTML page,
// changed samples, prediction matching by path.
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "eval/compare.h"
#include "eval/evaluate.h"
#include "eval/report.h"
#include "test_eval_util.h"

using namespace ocrkit::eval;
using namespace ocrkit::eval::testing;
namespace fs = std::filesystem;

namespace {

// RFC 4180 CSV into rows of fields (quotes, doubled quotes, commas and newlines inside quotes).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows{{}};
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field), field.clear();
    } else if (c == '\n') {
      rows.back().push_back(field), field.clear();
      rows.emplace_back();
    } else {
      field += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

void write_png(const fs::path& path, const std::string& text) {
  cv::Mat img(32, 16 + 14 * static_cast<int>(text.size()), CV_8UC1, cv::Scalar(255));
  cv::putText(img, text, {4, 24}, cv::FONT_HERSHEY_SIMPLEX, 0.6, cv::Scalar(0), 1);
  ASSERT_TRUE(cv::imwrite(path.string(), img));
}

// Two runs over the same three images; run B fixes b.png and breaks c.png.
void fill_store(Store& store, const fs::path& dir) {
  for (const char* n : {"a", "b", "c"}) write_png(dir / (std::string(n) + ".png"), n);
  const std::string a = (dir / "a.png").string(), b = (dir / "b.png").string(), c = (dir / "c.png").string();
  std::vector<Sample> samples;
  RunRecord ra = make_run("base, \"quoted\"", {{a, "HELLO", "HELLO", 0.9}, {b, "WORLD", "W0RLD", 0.4}, {c, "OCR", "OCR", 0.8}}, samples);
  store.add_run(ra, samples);
  RunRecord rb = make_run("better", {{a, "HELLO", "HELLO", 0.9}, {b, "WORLD", "WORLD", 0.9}, {c, "OCR", "0CR", 0.3}}, samples);
  store.add_run(rb, samples);
}

}  // namespace

TEST(EvalReport, CsvAndJsonParse) {
  const auto dir = fresh_dir();
  Store store((dir / "r.sqlite").string());
  fill_store(store, dir);
  const auto runs = store.runs();

  const auto rows = parse_csv(format_runs(runs, "csv"));
  ASSERT_EQ(rows.size(), 3u);  // header + 2 runs
  for (const auto& row : rows) EXPECT_EQ(row.size(), rows[0].size());
  EXPECT_EQ(rows[0][0], "id");
  EXPECT_EQ(rows[1][1], "base, \"quoted\"");
  const size_t cer_col = std::find(rows[0].begin(), rows[0].end(), "cer") - rows[0].begin();
  ASSERT_LT(cer_col, rows[0].size());
  EXPECT_NEAR(std::stod(rows[1][cer_col]), 1.0 / 13, 1e-6);  // 1 error in HELLO+WORLD+OCR

  const auto j = nlohmann::json::parse(format_runs(runs, "json"));
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["name"], "better");
  EXPECT_NEAR(j[0]["cer"].get<double>(), 1.0 / 13, 1e-12);
  EXPECT_EQ(j[0]["n"], 3);

  const std::string md = format_runs(runs, "md");
  EXPECT_NE(md.find("| id | name |"), std::string::npos);
  EXPECT_NE(md.find("better"), std::string::npos);
  const std::string table = format_runs(runs, "table");
  EXPECT_NE(table.find("7.69%"), std::string::npos) << table;
  EXPECT_THROW(format_runs(runs, "xml"), std::runtime_error);
}

TEST(EvalReport, HtmlIsSelfContained) {
  const auto dir = fresh_dir();
  Store store((dir / "r.sqlite").string());
  fill_store(store, dir);
  const std::string html = html_report(store);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("src=\"data:image/png;base64,"), std::string::npos);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("class=\"heat\""), std::string::npos);  // the confusion heatmap
  EXPECT_NE(html.find("base, &quot;quoted&quot;"), std::string::npos);  // escaped name
  EXPECT_EQ(base64_encode("Man"), "TWFu");
  EXPECT_EQ(base64_encode("Ma"), "TWE=");
  EXPECT_EQ(base64_encode("M"), "TQ==");
}

TEST(EvalCompare, ListsChangedSamples) {
  const auto dir = fresh_dir();
  Store store((dir / "r.sqlite").string());
  fill_store(store, dir);
  CompareResult c = compare_runs(store, "1", "better");
  EXPECT_EQ(c.common, 3);
  EXPECT_EQ(c.fixed, 1);
  EXPECT_EQ(c.broken, 1);
  ASSERT_EQ(c.changed.size(), 2u);
  std::set<std::string> paths{c.changed[0].path, c.changed[1].path};
  EXPECT_TRUE(paths.count((dir / "b.png").string()));
  EXPECT_TRUE(paths.count((dir / "c.png").string()));
  const std::string text = format_compare(c, "text");
  EXPECT_NE(text.find("W0RLD"), std::string::npos) << text;
  EXPECT_NE(text.find("1 fixed, 1 broken"), std::string::npos) << text;
  const auto j = nlohmann::json::parse(format_compare(c, "json"));
  EXPECT_EQ(j["changed"].size(), 2u);
  EXPECT_NEAR(j["delta"]["cer"].get<double>(), 0.0, 1e-12);  // one error each
}

TEST(EvalScore, MatchesPredictionsByPath) {
  const auto dir = fresh_dir();
  fs::create_directories(dir / "img");
  for (const char* n : {"a", "b", "c", "d"}) write_png(dir / "img" / (std::string(n) + ".png"), n);
  std::ofstream(dir / "labels.tsv") << "img/a.png\tHELLO\nimg/b.png\tWORLD\nimg/c.png\tOCR\nimg/d.png\tKIT\n";
  // a: relative to the label folder (after a BOM); b: absolute; c: missing; z: matches nothing; a again:
  // a duplicate.
  std::ofstream(dir / "pred.tsv") << "\xEF\xBB\xBFimg/a.png\tHELLO\t0.9\n" << (dir / "img/b.png").string() << "\tW0RLD\n"
                                  << "img/d.png\tKIT\tnot-a-number\nimg/z.png\tZZZ\t0.1\nimg/a.png\tHELL\t0.2\n";
  ScoreOptions opt;
  opt.truth_path = (dir / "labels.tsv").string();
  opt.pred_path = (dir / "pred.tsv").string();
  opt.engine = "tesseract";
  EvalRun r = score_predictions(opt);
  ASSERT_EQ(r.samples.size(), 4u);
  EXPECT_EQ(r.samples[0].prediction, "HELLO");
  ASSERT_TRUE(r.samples[0].confidence.has_value());
  EXPECT_DOUBLE_EQ(*r.samples[0].confidence, 0.9);
  EXPECT_EQ(r.samples[1].prediction, "W0RLD");
  EXPECT_FALSE(r.samples[1].confidence.has_value());
  EXPECT_EQ(r.samples[2].error, "no prediction");
  EXPECT_EQ(r.samples[3].prediction, "KIT");
  EXPECT_EQ(r.run.metrics.n, 3);
  EXPECT_EQ(r.run.metrics.n_errors, 1);
  EXPECT_NEAR(r.run.metrics.cer, 1.0 / 13, 1e-12);  // HELLO, WORLD (1 error), KIT
  EXPECT_EQ(r.run.extra["unmatched_predictions"], 1);
  EXPECT_EQ(r.run.extra["missing_predictions"], 1);
  EXPECT_EQ(r.problems.size(), 4u);  // bad confidence, unmatched, duplicate, missing
  EXPECT_EQ(r.run.name, "tesseract");
  EXPECT_EQ(r.run.kind, "score");
  EXPECT_EQ(r.run.data_sha256.size(), 64u);
  EXPECT_NE(format_summary(r).find("7.69%"), std::string::npos) << format_summary(r);
}
