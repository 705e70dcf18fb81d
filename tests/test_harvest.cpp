// `ocrkit data harvest` on PDFs written here: two columns of known text in Helvetica and Times (the
// standard-14 fonts render through fontconfig substitutes), a corrupt PDF, and determinism.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "core/fs.h"
#include "datasets/harvest.h"
#include "test_infer_fixtures.h"

namespace fs = std::filesystem;
using namespace ocrkit;

namespace {

struct PdfText {
  std::string font;  // F1 = Helvetica, F2 = Times-Roman
  double x, y, size; // baseline start, PDF user space (origin bottom-left)
  std::string text;
};

// A one-page US-letter PDF (612 x 792 pt) drawing `items`, fonts not embedded.
std::string make_pdf(const std::vector<PdfText>& items) {
  std::ostringstream content;
  for (auto& t : items)
    content << "BT /" << t.font << " " << t.size << " Tf " << t.x << " " << t.y << " Td " << test::pdf_string(t.text) << " Tj ET\n";
  std::string stream = content.str();
  std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
      "/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
      "<< /Length " + std::to_string(stream.size()) + " >>\nstream\n" + stream + "endstream",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding /WinAnsiEncoding >>"};
  return test::assemble_pdf(objects);
}

const std::vector<std::string> kLeft = {"The quick brown fox", "jumps over the lazy dog.", "Pack my box with five",
                                        "dozen liquor jugs: 42%."};
const std::vector<std::string> kRight = {"Sphinx of black quartz,", "judge my vow (1999).", "How vexingly quick",
                                         "daft zebras jump!"};

std::vector<PdfText> two_columns() {
  std::vector<PdfText> items;
  for (size_t i = 0; i < kLeft.size(); ++i) items.push_back({"F1", 72, 700 - 24.0 * double(i), 14, kLeft[i]});
  for (size_t i = 0; i < kRight.size(); ++i) items.push_back({"F2", 340, 700 - 24.0 * double(i), 14, kRight[i]});
  return items;
}

std::string temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("ocrkit_test_harvest_" + name + "_" + std::to_string(::getpid()));
  ocrkit::remove_tree(p);
  fs::create_directories(p);
  return p.string();
}

std::vector<std::pair<std::string, std::string>> read_tsv(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto tab = line.find('\t');
    rows.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
  return rows;
}

HarvestOptions fixed_dpi(int dpi, int jobs) {
  HarvestOptions o;
  o.dpi_min = o.dpi_max = dpi;
  o.jobs = jobs;
  return o;
}

}  // namespace

TEST(HarvestText, PopplerBoxesArePointsFromTheTopLeft) {
  std::string dir = temp_dir("boxes");
  std::string pdf = dir + "/a.pdf";
  write_file_atomically(pdf, make_pdf(two_columns()));
  auto words = pdf_text_words(pdf, 1);
  ASSERT_GE(words.size(), 8u);
  const TextWord& the = words[0];
  EXPECT_EQ(the.text, "The");
  EXPECT_NEAR(the.box.x, 72, 1.0);
  // Baseline at y = 700 from the bottom = 92 pt from the top: the box spans it (ascent above, descent below).
  EXPECT_LT(the.box.y, 92 - 8);
  EXPECT_GT(the.box.y + the.box.height, 92);
  EXPECT_LT(the.box.y + the.box.height, 92 + 6);
  EXPECT_GT(the.box.height, 10);
  EXPECT_LT(the.box.height, 20);
  EXPECT_TRUE(the.space_after);
  EXPECT_EQ(the.rotation, 0);
}

TEST(HarvestText, GroupsWordsIntoLinesWithoutCrossingColumns) {
  auto word = [](const std::string& t, double x, double y, double w, bool space = true) {
    return TextWord{t, cv::Rect2d(x, y, w, 12), space, 0, false};
  };
  std::vector<TextWord> words = {word("left", 72, 100, 20),       word("one", 95, 100, 18, false),
                                 word("right", 300, 100, 25),     word("two", 328, 100, 18, false),
                                 word("fi", 72, 114, 8, false),   word("sh", 80, 114, 10, false),
                                 word("x", 200, 300, 6)};
  words.push_back({"up", cv::Rect2d(400, 400, 12, 20), false, 1, false});  // rotated: left out
  auto lines = group_text_lines(words);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].text, "left one");
  EXPECT_EQ(lines[1].text, "right two");
  EXPECT_EQ(lines[2].text, "fish");  // no space flag and no gap: one word
  EXPECT_EQ(lines[3].text, "x");
}

TEST(HarvestText, LatexLogoIsOneWordButOverlappingLettersStayRejected) {
  // Boxes as poppler gives them for "in \LaTeX." at 10 pt: the A is a smaller letter raised to the
  // top of the L and kerned into it, T kerned back under the A.
  std::vector<TextWord> words = {{"in", cv::Rect2d(215.55, 336.97, 7.68, 7.96), true},
                                 {"L", cv::Rect2d(226.19, 336.97, 5.76, 7.96), true},
                                 {"A", cv::Rect2d(228.63, 337.00, 5.36, 5.31), true},
                                 {"TEX.", cv::Rect2d(232.60, 336.97, 19.71, 9.89), true}};
  auto lines = group_text_lines(words);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "in LATEX.");
  EXPECT_FALSE(lines[0].overlapping);
  // The same overlap between letters of one size (text printed over text, accents as separate glyphs)
  // is still flagged, and so is a small letter that is not at the top (a subscript).
  for (const cv::Rect2d& second : {cv::Rect2d(228.63, 336.97, 5.36, 7.96), cv::Rect2d(228.63, 340.0, 5.36, 5.31)}) {
    std::vector<TextWord> other = {{"L", cv::Rect2d(226.19, 336.97, 5.76, 7.96), true}, {"A", second, true}};
    auto l = group_text_lines(other);
    ASSERT_EQ(l.size(), 1u);
    EXPECT_TRUE(l[0].overlapping) << second;
  }
}

TEST(Harvest, TwoColumnPdfGivesItsLinesAndSkipsACorruptPdf) {
  std::string dir = temp_dir("two_columns");
  write_file_atomically(dir + "/in/a.pdf", make_pdf(two_columns()));
  write_file_atomically(dir + "/in/broken.pdf", "%PDF-1.4\nthis is not a PDF at all\n%%EOF\n");
  auto pdfs = collect_pdfs({dir + "/in"});
  ASSERT_EQ(pdfs.size(), 2u);
  HarvestReport r = harvest_pdfs(pdfs, dir + "/out", fixed_dpi(200, 2));

  EXPECT_EQ(r.pdfs_failed, 1);
  ASSERT_EQ(r.pdfs.size(), 2u);
  EXPECT_TRUE(r.pdfs[0].error.empty()) << r.pdfs[0].error;
  EXPECT_NE(r.pdfs[1].error.find("broken.pdf"), std::string::npos);

  auto rows = read_tsv(dir + "/out/labels.tsv");
  std::vector<std::string> got, want = kLeft;
  want.insert(want.end(), kRight.begin(), kRight.end());
  for (auto& [img, label] : rows) got.push_back(label);
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);  // every line, and no line spanning both columns
  EXPECT_EQ(r.lines, 8);

  for (auto& [img, label] : rows) {
    cv::Mat m = cv::imread(dir + "/out/" + img, cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(m.empty()) << img;
    EXPECT_EQ(m.channels(), 1);
    // 14 pt at 200 dpi is a 39 px em: ink of ~27-37 px plus padding.
    EXPECT_GE(m.rows, 25) << label;
    EXPECT_LE(m.rows, 60) << label;
    EXPECT_GT(m.cols, 4 * m.rows) << label;
    double lo, hi;
    cv::minMaxLoc(m, &lo, &hi);
    EXPECT_LT(lo, 100) << label;  // ink
    EXPECT_GT(hi, 200) << label;  // paper
  }

  auto report = nlohmann::json::parse(read_file(dir + "/out/report.json"));
  EXPECT_EQ(report["lines"], 8);
  EXPECT_EQ(report["pdfs_failed"], 1);
  EXPECT_TRUE(report["per_pdf"][1].contains("error"));
  std::string sources = read_file(dir + "/out/sources.txt");
  EXPECT_NE(sources.find("a.pdf"), std::string::npos);
  EXPECT_EQ(sources.find("broken.pdf"), std::string::npos);
  EXPECT_EQ(read_tsv(dir + "/out/meta.tsv").size(), 9u);  // header + 8
}

TEST(Harvest, BlankRenderIsRejected) {
  // Text drawn in render mode 3 (invisible, like an OCR layer over nothing): a text layer, no ink.
  std::string dir = temp_dir("blank");
  std::vector<PdfText> items = {{"F1", 72, 700, 14, "invisible words here"}};
  std::string pdf = make_pdf(items);
  pdf.replace(pdf.find("BT "), 3, "BT 3 Tr ");
  // The stream length grew by 5: fix it (and every later offset) by rebuilding through a plain edit.
  size_t len_at = pdf.find("/Length ") + 8;
  size_t len_end = pdf.find(' ', len_at);
  int len = std::stoi(pdf.substr(len_at, len_end - len_at)) + 5;
  pdf.replace(len_at, len_end - len_at, std::to_string(len));
  write_file_atomically(dir + "/b.pdf", pdf);  // xref offsets are now a little off: poppler reconstructs
  HarvestReport r = harvest_pdfs({dir + "/b.pdf"}, dir + "/out", fixed_dpi(150, 1));
  EXPECT_EQ(r.lines, 0);
  EXPECT_EQ(r.rejects["blank_render"], 1);
}

TEST(Harvest, OutputIsDeterministicForAnyJobs) {
  std::string dir = temp_dir("determinism");
  std::vector<PdfText> page2 = two_columns();
  for (auto& t : page2) t.y -= 300;
  write_file_atomically(dir + "/in/a.pdf", make_pdf(two_columns()));
  write_file_atomically(dir + "/in/b.pdf", make_pdf(page2));
  HarvestOptions o1 = fixed_dpi(150, 1), o3 = fixed_dpi(150, 3);
  o1.dpi_max = o3.dpi_max = 300;
  o1.seed = o3.seed = 42;
  harvest_pdfs(collect_pdfs({dir + "/in"}), dir + "/o1", o1);
  harvest_pdfs(collect_pdfs({dir + "/in"}), dir + "/o3", o3);
  std::string l1 = read_file(dir + "/o1/labels.tsv");
  EXPECT_EQ(l1, read_file(dir + "/o3/labels.tsv"));
  EXPECT_EQ(read_file(dir + "/o1/meta.tsv"), read_file(dir + "/o3/meta.tsv"));
  auto rows = read_tsv(dir + "/o1/labels.tsv");
  EXPECT_EQ(rows.size(), 16u);
  for (auto& [img, label] : rows) EXPECT_EQ(read_file(dir + "/o1/" + img), read_file(dir + "/o3/" + img)) << img;

  // --max-lines cuts in output order.
  HarvestOptions o5 = o1;
  o5.max_lines = 5;
  o5.jobs = 2;
  HarvestReport r5 = harvest_pdfs(collect_pdfs({dir + "/in"}), dir + "/o5", o5);
  EXPECT_EQ(r5.lines, 5);
  auto rows5 = read_tsv(dir + "/o5/labels.tsv");
  ASSERT_EQ(rows5.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(rows5[i], rows[i]);
}

TEST(Harvest, SameFileUnderTwoNamesIsHarvestedOnce) {
  std::string dir = temp_dir("duplicates");
  std::string pdf = make_pdf(two_columns());
  write_file_atomically(dir + "/in/a.pdf", pdf);
  write_file_atomically(dir + "/in/copy.pdf", pdf);
  HarvestReport r = harvest_pdfs(collect_pdfs({dir + "/in"}), dir + "/out", fixed_dpi(200, 2));
  EXPECT_EQ(r.lines, 8);
  ASSERT_EQ(r.pdfs.size(), 2u);
  EXPECT_NE(r.pdfs[1].duplicate_of.find("a.pdf"), std::string::npos);
  EXPECT_EQ(r.pdfs_failed, 0);
  EXPECT_EQ(read_file(dir + "/out/sources.txt").find("copy.pdf"), std::string::npos);
}
