// The infer pipeline end to end with a stand-in recognizer: page sources (PDF, .pdf.gz, TIFF, bad
// files), scheduling and result routing, writers and the page JSON contract, resume, crop mode.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-image.h>
#include <poppler/cpp/poppler-page-renderer.h>
#include <poppler/cpp/poppler-page.h>
#include <regex>
#include <thread>

#include "core/log.h"
#include "infer/pipeline.h"
#include "infer/writers.h"
#include "test_infer_fixtures.h"

using namespace ocrkit;
using namespace ocrkit::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

infer::InferOptions options_for(const std::string& out) {
  infer::InferOptions o;
  o.out_dir = out;
  o.formats = "txt,md,json,hocr";
  o.model = "fake.ckpt";
  o.jobs = 2;
  o.progress = false;
  return o;
}

infer::InferSummary run(const std::vector<std::string>& paths, const infer::InferOptions& o, FakeRecognizer& fake) {
  infer::RecognizeFn fn = [&](const std::vector<cv::Mat>& crops) { return fake(crops); };
  return infer::run_infer(infer::collect_inputs(paths), o, fn);
}

// Problems of a page JSON against the DESIGN.md contract (empty = valid).
std::vector<std::string> check_page_json(const json& j) {
  std::vector<std::string> p;
  auto need = [&](const json& o, const char* key, bool (json::*is)() const, const std::string& where) {
    if (!o.is_object() || !o.contains(key)) return p.push_back(where + ": missing '" + key + "'"), false;
    if (!(o.at(key).*is)()) return p.push_back(where + ": '" + key + "' has the wrong type"), false;
    return true;
  };
  auto check_bbox = [&](const json& o, const std::string& where, int w, int h) {
    if (!need(o, "bbox", &json::is_array, where)) return;
    const json& b = o["bbox"];
    if (b.size() != 4 || !std::all_of(b.begin(), b.end(), [](const json& v) { return v.is_number_integer(); }))
      return p.push_back(where + ": bbox must be 4 integers");
    int x0 = b[0], y0 = b[1], x1 = b[2], y1 = b[3];
    if (!(0 <= x0 && x0 < x1 && x1 <= w && 0 <= y0 && y0 < y1 && y1 <= h)) p.push_back(where + ": bbox outside the page or empty");
  };
  auto check_conf = [&](const json& o, const std::string& where) {
    if (need(o, "confidence", &json::is_number, where) && (o["confidence"] < 0 || o["confidence"] > 1))
      p.push_back(where + ": confidence outside [0, 1]");
  };
  need(j, "source", &json::is_string, "document");
  if (!j.contains("model") || !(j["model"].is_string() || j["model"].is_null())) p.push_back("document: bad 'model'");
  need(j, "errors", &json::is_array, "document");
  if (!need(j, "pages", &json::is_array, "document")) return p;
  int last_page = 0;
  for (auto& pg : j["pages"]) {
    std::string where = "page";
    if (!need(pg, "page", &json::is_number_integer, where)) continue;
    where += " " + std::to_string(int(pg["page"]));
    if (int(pg["page"]) <= last_page) p.push_back(where + ": pages out of order");
    last_page = pg["page"];
    if (!need(pg, "width", &json::is_number_integer, where) || !need(pg, "height", &json::is_number_integer, where)) continue;
    int w = pg["width"], h = pg["height"];
    if (!pg.contains("dpi") || !(pg["dpi"].is_number_integer() || pg["dpi"].is_null())) p.push_back(where + ": bad 'dpi'");
    need(pg, "angle", &json::is_number, where);
    for (const char* key : {"lines", "pictures", "tables"}) need(pg, key, &json::is_array, where);
    if (!pg.contains("lines") || !pg["lines"].is_array()) continue;
    for (size_t i = 0; i < pg["lines"].size(); ++i) {
      const json& l = pg["lines"][i];
      std::string lw = where + " line " + std::to_string(i);
      check_bbox(l, lw, w, h);
      need(l, "text", &json::is_string, lw);
      check_conf(l, lw);
      if (!need(l, "words", &json::is_array, lw)) continue;
      std::string joined;
      for (auto& word : l["words"]) {
        check_bbox(word, lw + " word", w, h);
        if (need(word, "text", &json::is_string, lw + " word")) joined += (joined.empty() ? "" : " ") + word["text"].get<std::string>();
        check_conf(word, lw + " word");
      }
      std::string text = l.value("text", "");
      text = std::regex_replace(text, std::regex("\\s+"), " ");
      if (joined != std::regex_replace(text, std::regex("^ | $"), "")) p.push_back(lw + ": words do not spell the line");
    }
    if (pg.contains("pictures") && pg["pictures"].is_array())
      for (auto& pic : pg["pictures"]) check_bbox(pic, where + " picture", w, h);
    if (pg.contains("tables") && pg["tables"].is_array())
      for (auto& t : pg["tables"]) {
        check_bbox(t, where + " table", w, h);
        need(t, "csv", &json::is_string, where + " table");
      }
  }
  return p;
}

// A PNG whose header claims 30000 x 30000 pixels (the data is garbage).
std::string huge_png_header() {
  std::string s = "\x89PNG\r\n\x1a\n";
  s += std::string("\0\0\0\x0dIHDR", 8);
  s += std::string("\0\0\x75\x30\0\0\x75\x30\x08\x00\x00\x00\x00", 13);
  s += std::string("\0\0\0\0", 4) + std::string(200, '\x42');
  return s;
}

std::string png_bytes(const cv::Mat& m) {
  std::vector<uint8_t> buf;
  cv::imencode(".png", m, buf);
  return std::string(buf.begin(), buf.end());
}

const std::vector<std::vector<std::string>> kPdfPages = {
    {"The quick brown fox jumps over the lazy dog.", "Pack my box with five dozen liquor jugs.", "Sphinx of black quartz, judge my vow."},
    {"How vexingly quick daft zebras jump!", "The five boxing wizards jump quickly."}};

}  // namespace

TEST(InferPages, PageSelection) {
  auto sel = infer::PageSelection::parse("1-3,7,10-");
  EXPECT_EQ(sel.select(12), (std::vector<int>{1, 2, 3, 7, 10, 11, 12}));
  EXPECT_EQ(infer::PageSelection().select(3), (std::vector<int>{1, 2, 3}));
  for (const char* bad : {"0", "3-1", "a", "1,,2", "-4"}) EXPECT_THROW(infer::PageSelection::parse(bad), std::invalid_argument) << bad;
}

TEST(InferPages, ImageHeaders) {
  cv::Mat m(37, 91, CV_8UC1, cv::Scalar(200));
  for (const char* ext : {".png", ".jpg", ".tif", ".bmp", ".webp"}) {
    std::vector<uint8_t> buf;
    ASSERT_TRUE(cv::imencode(ext, m, buf)) << ext;
    auto h = infer::read_image_header(buf);
    ASSERT_EQ(h.frames.size(), 1u) << ext;
    EXPECT_EQ(h.frames[0], cv::Size(91, 37)) << ext;
  }
  std::string huge = huge_png_header();
  auto h = infer::read_image_header(std::vector<uint8_t>(huge.begin(), huge.end()));
  EXPECT_EQ(h.frames[0], cv::Size(30000, 30000));
  EXPECT_THROW(infer::read_image_header({'G', 'I', 'F', '8'}), infer::InputError);
}

TEST(InferPages, PdfRendersAtDpiAndHonoursLimits) {
  std::string dir = temp_dir("pdf-render");
  write_file(dir + "/a.pdf", make_pdf(kPdfPages));
  infer::SourceOptions o;
  o.dpi = 150;
  auto doc = infer::Document::open(dir + "/a.pdf", o);
  ASSERT_EQ(doc->page_count(), 2);
  auto page = doc->render(1);
  EXPECT_EQ(page.width, 1275);  // 8.5 in at 150 dpi
  EXPECT_EQ(page.height, 1650);
  EXPECT_EQ(page.gray.cols, 1275);
  EXPECT_LT(cv::mean(page.gray)[0], 254.5) << "blank render: no font substitute for Helvetica?";
  o.max_long_edge = 825;  // rendered at half size, coordinates still at 150 dpi
  auto half = infer::Document::open(dir + "/a.pdf", o)->render(2);
  EXPECT_EQ(half.width, 1275);
  EXPECT_EQ(half.gray.rows, 825);
  EXPECT_NEAR(half.scale, 0.5, 0.01);
  EXPECT_THROW(doc->render(3), infer::InputError);
}

// A page of text, rules and a grey box, and the same page rotated by /Rotate 90.
std::string text_and_graphics_pdf() {
  const std::string content =
      "0.4 w 72 700 m 540 700 l S 1.5 w 72 640 m 540 652 l S 0.6 g 100 500 200 40 re f 0 g\n"
      "BT /F1 13 Tf 15 TL 72 600 Td (Glyph caches: the same text twice, 0123456789.) Tj T* "
      "(Glyph caches: the same text twice, 0123456789.) Tj ET\n"
      "BT /F1 7 Tf 1 0 0.2 1 72 560 Tm (small slanted text, anti-aliased edges) Tj ET";
  const std::string stream = "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "\nendstream";
  const std::string page = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
                           "/Resources << /Font << /F1 6 0 R >> >>";
  return assemble_pdf({"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
                       page + " >>", page + " /Rotate 90 /CropBox [20 30 600 760] >>", stream,
                       "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"});
}

TEST(InferPages, RasterizerIsPopplerCppsRendererBitForBit) {
  // Harvested training crops were rendered by poppler-cpp's page_renderer: pages read by infer must
  // keep those pixels, whatever the order of pages and the state of the kept glyph caches.
  const std::string bytes = text_and_graphics_pdf();
  const std::vector<uint8_t> data(bytes.begin(), bytes.end());
  infer::PdfRasterizer rasterizer("graphics.pdf", data.data(), data.size());
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_raw_data(bytes.data(), int(bytes.size())));
  ASSERT_TRUE(doc);
  ASSERT_EQ(rasterizer.page_count(), 2);
  EXPECT_EQ(rasterizer.page_size(1), cv::Size2d(612, 792));
  EXPECT_EQ(rasterizer.page_size(2), cv::Size2d(730, 580));  // crop box, turned
  for (int page : {1, 2, 1, 2}) {
    for (double dpi : {72.0, 150.0, 211.5}) {
      std::unique_ptr<poppler::page> p(doc->create_page(page - 1));
      poppler::page_renderer renderer;
      renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
      renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
      renderer.set_image_format(poppler::image::format_gray8);
      poppler::image img = renderer.render_page(p.get(), dpi, dpi);
      cv::Mat expected(img.height(), img.width(), CV_8UC1, const_cast<char*>(img.const_data()), size_t(img.bytes_per_row()));
      cv::Mat got = rasterizer.render(page, dpi);
      ASSERT_EQ(got.size(), expected.size()) << "page " << page << " at " << dpi << " dpi";
      EXPECT_EQ(cv::norm(got, expected, cv::NORM_INF), 0) << "page " << page << " at " << dpi << " dpi";
      // Not a blank page: anti-aliased grey levels, not only black and white.
      std::vector<int> levels(256);
      for (auto it = got.begin<uint8_t>(); it != got.end<uint8_t>(); ++it) levels[*it] = 1;
      EXPECT_GT(std::count(levels.begin(), levels.end(), 1), 40);
    }
  }
  EXPECT_THROW(rasterizer.render(3, 72), infer::InputError);
  EXPECT_THROW(infer::PdfRasterizer("junk.pdf", data.data(), 100), infer::InputError);
}

TEST(InferPipeline, PdfLinesFoundAndRoutedBackAcrossBatches) {
  std::string dir = temp_dir("pdf-e2e");
  write_file(dir + "/in/doc.pdf", make_pdf(kPdfPages));
  write_file(dir + "/in/copy.pdf", make_pdf({kPdfPages[1]}));
  ASSERT_EQ(std::system(("gzip -c " + dir + "/in/copy.pdf > " + dir + "/in/zipped.pdf.gz").c_str()), 0);
  FakeRecognizer fake;
  auto o = options_for(dir + "/out");
  o.batch_size = 4;  // forces batches that span pages and files
  auto s = run({dir + "/in"}, o, fake);
  EXPECT_EQ(s.errors.size(), 0u) << s.errors[0].reason;
  EXPECT_EQ(s.files_done, 3);
  EXPECT_EQ(s.pages, 4);
  EXPECT_EQ(s.lines, 3 + 2 + 2 + 2);
  EXPECT_GE(fake.calls, 2);
  EXPECT_LT(fake.max_batch, 9u);
  json j = json::parse(read_text(dir + "/out/doc.json"));
  EXPECT_EQ(check_page_json(j), std::vector<std::string>{});
  ASSERT_EQ(j["pages"].size(), 2u);
  EXPECT_EQ(j["pages"][0]["width"], 2550);
  EXPECT_EQ(j["pages"][0]["dpi"], 300);
  ASSERT_EQ(j["pages"][0]["lines"].size(), 3u);
  // Each line's text names its crop's size: crop = line box + padding on both sides.
  int last_y = -1;
  for (auto& l : j["pages"][0]["lines"]) {
    std::smatch m;
    std::string text = l["text"];
    ASSERT_TRUE(std::regex_match(text, m, std::regex("w(\\d+) h(\\d+)")));
    int bw = int(l["bbox"][2]) - int(l["bbox"][0]), bh = int(l["bbox"][3]) - int(l["bbox"][1]);
    EXPECT_NEAR(std::stoi(m[1]), bw + 2 * std::lround(0.15 * bh), 3);
    EXPECT_NEAR(std::stoi(m[2]), bh + 2 * std::lround(0.15 * bh), 3);
    EXPECT_GT(int(l["bbox"][1]), last_y);
    last_y = l["bbox"][1];
    EXPECT_EQ(l["words"].size(), 2u);
  }
  // Text: pages separated by a form feed; the gzipped copy reads like the plain one.
  std::string txt = read_text(dir + "/out/doc.txt");
  EXPECT_EQ(std::count(txt.begin(), txt.end(), '\f'), 1);
  EXPECT_EQ(std::count(txt.begin(), txt.end(), '\n'), 5);
  EXPECT_EQ(read_text(dir + "/out/zipped.txt"), read_text(dir + "/out/copy.txt"));
  std::string hocr = read_text(dir + "/out/doc.hocr");
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = hocr.find(what); at != std::string::npos; at = hocr.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("class='ocrx_word'"), 10u);
  EXPECT_EQ(count("class='ocr_line'"), 5u);
  EXPECT_EQ(count("<span"), count("</span>"));
  EXPECT_EQ(count("<p "), count("</p>"));
  EXPECT_EQ(count("class='ocr_page'"), 2u);
  EXPECT_EQ(json::parse(read_text(dir + "/out/errors.json")).size(), 0u);
  // No temporary files left behind.
  for (auto& e : fs::directory_iterator(dir + "/out")) EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
}

// Once the last pages are all on page threads, what is pending is recognised while they finish
// instead of waiting to fill a batch: the run ends one small batch after the last page.
TEST(InferPipeline, PendingLinesRecognisedWhileTheLastPagesAreAnalysed) {
  std::string dir = temp_dir("last-pages");
  write_file(dir + "/in/a.pdf", make_pdf({{"alpha one", "alpha two", "alpha three"}, {"beta one", "beta two", "beta three"}}));
  write_file(dir + "/in/b.pdf", make_pdf({{"big one", "big two"}}, 30, 44));  // larger type: taller crops
  FakeRecognizer fake;
  std::vector<size_t> batches;
  infer::LineRecognizer slow_last_page = infer::line_recognizer([&](const std::vector<cv::Mat>& crops) {
    batches.push_back(crops.size());
    return fake(crops);
  });
  slow_last_page.prepare = [keep = slow_last_page.prepare](const cv::Mat& crop) {
    // b.pdf's lines (crops over 100 px tall at 300 dpi) take a while, as a slow last page would.
    if (crop.rows > 100) std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return keep(crop);
  };
  auto o = options_for(dir + "/out");
  o.jobs = 1;
  o.batch_size = 96;  // never filled: 8 lines in all
  auto s = infer::run_infer(infer::collect_inputs({dir + "/in"}), o, slow_last_page);
  EXPECT_EQ(s.errors.size(), 0u);
  EXPECT_EQ(s.lines, 8);
  EXPECT_EQ(batches, (std::vector<size_t>{6, 2}));  // a.pdf's lines while b.pdf's page was analysed
  // Results still reach their own lines: each text names its crop's size.
  for (const char* doc : {"a", "b"}) {
    json j = json::parse(read_text(dir + "/out/" + doc + ".json"));
    for (auto& pg : j["pages"])
      for (auto& l : pg["lines"]) {
        std::smatch m;
        std::string text = l["text"];
        ASSERT_TRUE(std::regex_match(text, m, std::regex("w(\\d+) h(\\d+)")));
        EXPECT_EQ(std::stoi(m[2]) > 100, std::string(doc) == "b") << text;
      }
  }
}

TEST(InferPipeline, BadInputsAreRecordedAndSkipped) {
  std::string dir = temp_dir("bad");
  auto page = make_page(PageSpec{});
  write_file(dir + "/in/good.png", png_bytes(page.image));
  write_file(dir + "/in/empty.pdf", "");
  std::string png = png_bytes(page.image);
  write_file(dir + "/in/truncated.png", png.substr(0, png.size() / 3));
  std::string pdf = make_pdf(kPdfPages);
  write_file(dir + "/in/corrupt.pdf", pdf.substr(0, 40) + std::string(300, 'x'));
  write_file(dir + "/in/huge.png", huge_png_header());
  write_file(dir + "/in/notgzip.pdf.gz", "this is not gzip data");
  FakeRecognizer fake;
  auto o = options_for(dir + "/out");
  auto s = run({dir + "/in"}, o, fake);
  EXPECT_EQ(s.exit_code(), 3);
  EXPECT_EQ(s.files_done, 1);
  EXPECT_EQ(s.files_failed, 5);
  EXPECT_EQ(s.pages, 1);
  EXPECT_TRUE(fs::exists(dir + "/out/good.json"));
  json errors = json::parse(read_text(dir + "/out/errors.json"));
  ASSERT_EQ(errors.size(), 5u);
  std::map<std::string, std::string> reason;
  for (auto& e : errors) reason[fs::path(e["source"].get<std::string>()).filename().string()] = e["reason"];
  EXPECT_NE(reason["empty.pdf"].find("empty file"), std::string::npos) << reason["empty.pdf"];
  EXPECT_NE(reason["truncated.png"].find("truncated"), std::string::npos) << reason["truncated.png"];
  EXPECT_NE(reason["corrupt.pdf"].find("cannot open PDF"), std::string::npos) << reason["corrupt.pdf"];
  EXPECT_NE(reason["huge.png"].find("30000x30000"), std::string::npos) << reason["huge.png"];
  EXPECT_NE(reason["notgzip.pdf.gz"].find("gzip"), std::string::npos) << reason["notgzip.pdf.gz"];
  for (const char* bad : {"empty", "truncated", "corrupt", "huge"}) EXPECT_FALSE(fs::exists(dir + "/out/" + bad + ".txt"));
}

TEST(InferPipeline, EncryptedPdfIsRecorded) {
  std::string dir = temp_dir("encrypted");
  std::string pdf = make_pdf({{"secret"}});
  // Claim standard encryption with a user password nobody knows.
  std::string enc = " /Encrypt << /Filter /Standard /V 1 /R 2 /O <" + std::string(64, 'a') + "> /U <" +
                    std::string(64, 'b') + "> /P -4 >> /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]";
  pdf.insert(pdf.find("/Root 1 0 R") + 11, enc);
  write_file(dir + "/locked.pdf", pdf);
  EXPECT_THROW(
      {
        try {
          infer::Document::open(dir + "/locked.pdf", {});
        } catch (const infer::InputError& e) {
          EXPECT_NE(std::string(e.what()).find("encrypted"), std::string::npos) << e.what();
          throw;
        }
      },
      infer::InputError);
}

TEST(InferPipeline, MultiPageTiffAndPageSelection) {
  std::string dir = temp_dir("tiff");
  PageSpec a, b;
  b.seed = 2;
  b.columns = 1;
  std::vector<cv::Mat> frames = {make_page(a).image, make_page(b).image};
  fs::create_directories(dir + "/in");
  ASSERT_TRUE(cv::imwritemulti(dir + "/in/scan.tif", frames));
  FakeRecognizer fake;
  auto o = options_for(dir + "/out");
  o.source.pages = infer::PageSelection::parse("2");
  o.source.max_long_edge = 1100;  // analysed at half size; boxes in the TIFF's pixels
  auto s = run({dir + "/in/scan.tif"}, o, fake);
  ASSERT_EQ(s.errors.size(), 0u);
  json j = json::parse(read_text(dir + "/out/scan.json"));
  ASSERT_EQ(j["pages"].size(), 1u);
  EXPECT_EQ(j["pages"][0]["page"], 2);
  EXPECT_EQ(j["pages"][0]["width"], 1700);
  EXPECT_TRUE(j["pages"][0]["dpi"].is_null());
  auto truth = make_page(b);
  ASSERT_EQ(j["pages"][0]["lines"].size(), truth.lines.size());
  for (size_t i = 0; i < truth.lines.size(); ++i) {
    auto& bb = j["pages"][0]["lines"][i]["bbox"];
    cv::Rect r(bb[0], bb[1], int(bb[2]) - int(bb[0]), int(bb[3]) - int(bb[1]));
    EXPECT_GE(iou(r, truth.lines[i].box), 0.8) << i;
  }
  EXPECT_EQ(check_page_json(j), std::vector<std::string>{});
}

TEST(InferPipeline, SchemaCheckerCatchesBrokenJson) {
  json good = {{"source", "a.png"}, {"model", "m"}, {"errors", json::array()},
               {"pages", {{{"page", 1}, {"width", 100}, {"height", 50}, {"dpi", nullptr}, {"angle", 0.0},
                           {"lines", {{{"bbox", {1, 2, 30, 20}}, {"text", "ab cd"}, {"confidence", 0.5},
                                       {"words", {{{"bbox", {1, 2, 10, 20}}, {"text", "ab"}, {"confidence", 0.5}},
                                                  {{"bbox", {12, 2, 30, 20}}, {"text", "cd"}, {"confidence", 0.5}}}}}}},
                           {"pictures", json::array()}, {"tables", json::array()}}}}};
  EXPECT_EQ(check_page_json(good), std::vector<std::string>{});
  auto broken = good;
  broken["pages"][0]["lines"][0]["bbox"] = {1, 2, 300, 20};
  EXPECT_FALSE(check_page_json(broken).empty());
  broken = good;
  broken["pages"][0]["lines"][0]["words"][1]["text"] = "xx";
  EXPECT_FALSE(check_page_json(broken).empty());
  broken = good;
  broken["pages"][0].erase("angle");
  EXPECT_FALSE(check_page_json(broken).empty());
}

TEST(InferPipeline, ExistingOutputsRefusedSkippedOrOverwritten) {
  std::string dir = temp_dir("resume");
  write_file(dir + "/in/a.png", png_bytes(make_page(PageSpec{}).image));
  write_file(dir + "/in/b.pdf", make_pdf({{"one line"}}));
  FakeRecognizer fake;
  auto o = options_for(dir + "/out");
  EXPECT_EQ(run({dir + "/in"}, o, fake).files_done, 2);
  // A killed run: b's json never got written, its temporary file is left behind.
  fs::remove(dir + "/out/b.json");
  write_file(dir + "/out/b.json.tmp.99999.0", "{\"half\":");
  auto refused = run({dir + "/in"}, o, fake);
  EXPECT_EQ(refused.exit_code(), 3);
  EXPECT_EQ(refused.files_done, 0);
  o.existing = infer::Existing::skip;
  int calls = fake.calls;
  auto resumed = run({dir + "/in"}, o, fake);
  EXPECT_EQ(resumed.exit_code(), 0);
  EXPECT_EQ(resumed.files_skipped, 1);
  EXPECT_EQ(resumed.files_done, 1);
  EXPECT_EQ(fake.calls, calls + 1);
  EXPECT_TRUE(fs::exists(dir + "/out/b.json"));
  EXPECT_FALSE(fs::exists(dir + "/out/b.json.tmp.99999.0"));
  o.existing = infer::Existing::overwrite;
  EXPECT_EQ(run({dir + "/in"}, o, fake).files_done, 2);
}

TEST(InferPipeline, TablesPicturesCropsAndVisualize) {
  std::string dir = temp_dir("tables");
  PageSpec spec;
  spec.columns = 1;
  spec.lines_per_column = 2;
  cv::Mat img = make_page(spec).image;
  int x0 = 200, y0 = 400, cw = 400, rh = 70;
  for (int r = 0; r <= 2; ++r) cv::line(img, {x0, y0 + r * rh}, {x0 + 2 * cw, y0 + r * rh}, cv::Scalar(0), 3);
  for (int c = 0; c <= 2; ++c) cv::line(img, {x0 + c * cw, y0}, {x0 + c * cw, y0 + 2 * rh}, cv::Scalar(0), 3);
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 2; ++c) {
      cv::Mat line = render_line(r == 0 ? (c == 0 ? "name" : "value") : (c == 0 ? "alpha" : "42"), 28, 0);
      line.copyTo(img(cv::Rect(x0 + c * cw + 20, y0 + r * rh + 15, line.cols, line.rows)));
    }
  cv::rectangle(img, cv::Rect(300, 800, 500, 400), cv::Scalar(60), cv::FILLED);
  write_file(dir + "/in/t.png", png_bytes(img));
  FakeRecognizer fake;
  fake.fixed = "cell";
  auto o = options_for(dir + "/out");
  o.tables_csv = true;
  o.visualize = true;
  o.crops_dir = dir + "/crops";
  auto s = run({dir + "/in"}, o, fake);
  ASSERT_EQ(s.errors.size(), 0u);
  EXPECT_EQ(read_text(dir + "/out/t.page-001.table-1.csv"), "cell,cell\r\ncell,cell\r\n");
  std::string md = read_text(dir + "/out/t.md");
  EXPECT_NE(md.find("| cell | cell |\n| --- | --- |\n| cell | cell |"), std::string::npos) << md;
  json manifest = json::parse(read_text(dir + "/crops/manifest.json"));
  ASSERT_EQ(manifest.size(), 1u);
  EXPECT_TRUE(fs::exists(dir + "/crops/" + manifest[0]["file"].get<std::string>()));
  cv::Mat vis = cv::imread(dir + "/out/t.page-001.png");
  EXPECT_EQ(vis.size(), img.size());
  json j = json::parse(read_text(dir + "/out/t.json"));
  EXPECT_EQ(j["pages"][0]["tables"].size(), 1u);
  EXPECT_EQ(j["pages"][0]["pictures"].size(), 1u);
  EXPECT_EQ(check_page_json(j), std::vector<std::string>{});
}

TEST(InferCropMode, PredictionsInInputOrderWithFailuresKept) {
  std::string dir = temp_dir("crops");
  const char* vins[] = {"1HGCM82633A004352", "JH4KA7561PC008269", "WDBRF40J43F433102", "5YJSA1E26HF176543"};
  std::string labels;
  std::vector<int> widths;
  for (int i = 0; i < 4; ++i) {
    cv::Mat line = render_line(vins[i], 24 + 4 * i);
    widths.push_back(line.cols);
    std::string name = "vin" + std::to_string(i) + ".png";
    write_file(dir + "/set/" + name, png_bytes(line));
    labels += name + "\t" + vins[i] + "\n";
    if (i == 1) {  // an unreadable crop in the middle
      write_file(dir + "/set/broken.png", "not a png");
      labels += "broken.png\tX\n";
    }
  }
  write_file(dir + "/set/labels.tsv", labels);
  FakeRecognizer fake;
  infer::RecognizeFn fn = [&](const std::vector<cv::Mat>& crops) { return fake(crops); };
  auto s = infer::run_crop_mode(dir + "/set/labels.tsv", dir + "/pred.tsv", fn, 2);
  EXPECT_EQ(s.items, 5);
  EXPECT_EQ(s.failed, 1);
  std::istringstream tsv(read_text(dir + "/pred.tsv"));
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(tsv, line);) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, '\t');) f.push_back(x);
    if (line.back() == '\t') f.push_back("");
    rows.push_back(f);
  }
  ASSERT_EQ(rows.size(), 5u);
  int k = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 3u);
    if (rows[i][0].find("broken.png") != std::string::npos) {
      EXPECT_EQ(i, 2u);
      EXPECT_EQ(rows[i][1], "");
      EXPECT_EQ(rows[i][2], "0.0000");
      continue;
    }
    EXPECT_NE(rows[i][0].find("vin" + std::to_string(k)), std::string::npos);
    EXPECT_EQ(rows[i][1].substr(0, rows[i][1].find(' ')), "w" + std::to_string(widths[size_t(k)]));
    ++k;
  }
  // A plain folder of images (no labels) works too, sorted by name.
  fs::remove(dir + "/set/labels.tsv");
  fs::remove(dir + "/set/broken.png");
  auto plain = infer::run_crop_mode(dir + "/set", dir + "/pred2.tsv", fn);
  EXPECT_EQ(plain.items, 4);
  EXPECT_EQ(plain.failed, 0);
}

TEST(InferModel, MissingModelIsAClearError) {
  EXPECT_THROW(infer::resolve_model("/nonexistent/model.ckpt"), std::runtime_error);
  std::string dir = temp_dir("models");
  write_file(dir + "/printed-v1.ckpt", "x");
  setenv("OCRKIT_MODELS", dir.c_str(), 1);
  EXPECT_EQ(fs::path(infer::resolve_model("")).filename(), "printed-v1.ckpt");
  unsetenv("OCRKIT_MODELS");
}

TEST(InferPipeline, EveryImageFormat) {
  std::string dir = temp_dir("formats");
  PageSpec spec;
  spec.columns = 1;
  spec.lines_per_column = 6;
  auto page = make_page(spec);
  for (const char* ext : {".png", ".jpg", ".webp", ".bmp", ".tif"}) {
    std::vector<uint8_t> buf;
    ASSERT_TRUE(cv::imencode(ext, page.image, buf)) << ext;
    write_file(dir + "/in/page" + ext, std::string(buf.begin(), buf.end()));
  }
  FakeRecognizer fake;
  auto s = run({dir + "/in"}, options_for(dir + "/out"), fake);
  ASSERT_EQ(s.errors.size(), 0u) << s.errors[0].message();
  EXPECT_EQ(s.files_done, 5);
  EXPECT_EQ(s.lines, 5 * 6);
  // Same stem, different formats: the names keep their extensions.
  for (const char* name : {"page.png", "page.jpg", "page.webp", "page.bmp", "page.tif"})
    EXPECT_TRUE(fs::exists(dir + "/out/" + name + ".json")) << name;
}

TEST(InferPipeline, WordBoxesFromCharacterPositions) {
  infer::LayoutLine line;
  line.box = cv::Rect(104, 50, 400, 30);
  line.crop_x = 100;
  LineResult r;
  r.text = "ab cd";
  r.chars = {"a", "b", " ", "c", "d"};
  r.char_conf = {0.9f, 0.8f, 0.99f, 0.7f, 0.95f};
  r.char_x = {10, 30, 50, 70, 90};  // crop pixels
  auto words = infer::split_words(line, r);
  ASSERT_EQ(words.size(), 2u);
  EXPECT_EQ(words[0].text, "ab");
  EXPECT_EQ(words[0].bbox, cv::Rect(104, 50, 36, 30));  // 100 + 10 - 10, clipped to the line, to 100 + 30 + 10
  EXPECT_FLOAT_EQ(words[0].confidence, 0.8f);
  EXPECT_EQ(words[1].bbox, cv::Rect(160, 50, 40, 30));
  EXPECT_FLOAT_EQ(words[1].confidence, 0.7f);
  // Text only: the words share the line by character count.
  LineResult plain;
  plain.text = "abc  d";
  plain.confidence = 0.5f;
  words = infer::split_words(line, plain);
  ASSERT_EQ(words.size(), 2u);
  EXPECT_EQ(words[0].text, "abc");
  EXPECT_EQ(words[0].bbox, cv::Rect(104, 50, 200, 30));
  EXPECT_EQ(words[1].text, "d");
  EXPECT_EQ(words[1].bbox.br().x, 504);
  EXPECT_FLOAT_EQ(words[1].confidence, 0.5f);
}

TEST(InferPipeline, ListMarkersJoinTheirItemNotTheNextColumn) {
  using infer::LineOut;
  auto line = [](const std::string& text, cv::Rect box) {
    LineOut l;
    l.text = text;
    l.bbox = box;
    l.confidence = 0.9f;
    l.words.push_back({box, text, 0.9f});
    return l;
  };
  const double h = 30;
  std::vector<LineOut> lines{
      line("•", {100, 100, 15, 20}), line("2.", {100, 150, 25, 30}),       // markers, column of their own
      line("and", {100, 300, 60, 30}),                                      // short end of a paragraph
      line("Replace the lift", {200, 95, 600, 35}), line("Train two people", {200, 150, 600, 30}),
      line("right column text", {200, 300, 600, 30})};
  infer::attach_list_markers(lines, h);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].text, "and");
  EXPECT_EQ(lines[1].text, "• Replace the lift");
  EXPECT_EQ(lines[1].bbox, cv::Rect(100, 95, 700, 35));
  ASSERT_EQ(lines[1].words.size(), 2u);
  EXPECT_EQ(lines[1].words[0].text, "•");
  EXPECT_EQ(lines[2].text, "2. Train two people");
  EXPECT_EQ(lines[3].text, "right column text");
  EXPECT_TRUE(infer::is_list_marker("(a)"));
  EXPECT_TRUE(infer::is_list_marker("iv."));
  EXPECT_FALSE(infer::is_list_marker("and"));
}

// The JSON writer's text, built page by page on several threads, is byte for byte to_json() dumped:
// key order, numbers, escapes, a bad UTF-8 byte replaced, null dpi, tables and pictures, errors.
TEST(InferWriters, DocumentJsonTextIsToJsonDumped) {
  using infer::DocumentResult, infer::PageResult, infer::LineOut;
  DocumentResult doc;
  doc.source = "in/\"quoted\" é.pdf";
  doc.model = "models/printed-v1.ckpt";
  for (int p = 1; p <= 13; ++p) {
    PageResult page;
    page.page = p;
    page.width = 1700 + p, page.height = 2200;
    if (p % 3) page.dpi = 200;
    page.angle = 0.125 * p;
    for (int l = 0; l < p; ++l) {
      LineOut line;
      line.bbox = cv::Rect(10 * l, 20 * l, 300, 24);
      line.text = l == 2 ? std::string("bad \xff byte") : "line " + std::to_string(l) + " — ünïcode\t\"x\"";
      line.confidence = 0.9f - 0.01f * float(l);
      line.words = {{cv::Rect(10 * l, 20 * l, 40, 24), "line", 0.87654f}, {cv::Rect(60, 20 * l, 20, 24), std::to_string(l), 1.0f}};
      page.lines.push_back(line);
    }
    if (p == 5) {
      page.pictures.push_back(cv::Rect(1, 2, 3, 4));
      page.tables.push_back({cv::Rect(5, 6, 7, 8), {{"a", "b,c"}, {"\"d\"", ""}}});
    }
    doc.pages.push_back(page);
  }
  doc.errors.push_back({doc.source, 4, "page 4: could not render"});
  auto dumped = [](const DocumentResult& d) { return d.to_json().dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace); };
  EXPECT_EQ(doc.json_text(), dumped(doc));
  DocumentResult empty;
  empty.source = "x.png";
  EXPECT_EQ(empty.json_text(), dumped(empty));
}
