// End to end with the shipped printed model: a generated PDF of known text through `infer`, CER asserted.
// Skipped until models/printed-v1.ckpt exists (or OCRKIT_TEST_MODEL names a checkpoint).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "core/recognizer.h"
#include "core/text.h"
#include "infer/pipeline.h"
#include "test_infer_fixtures.h"

using namespace ocrkit;
using namespace ocrkit::test;
namespace fs = std::filesystem;

TEST(InferModel, EndToEndCerOnGeneratedPdf) {
  std::string ckpt = std::string(OCRKIT_SOURCE_DIR) + "/models/printed-v1.ckpt";
  if (const char* env = std::getenv("OCRKIT_TEST_MODEL")) ckpt = env;
  if (!fs::exists(ckpt)) GTEST_SKIP() << "no printed model at " << ckpt;
  const std::vector<std::vector<std::string>> pages = {
      {"Invoice 2026-118 for the quarterly service", "Total amount due: 1,482.50 EUR", "Payment within 30 days of receipt."},
      {"The quick brown fox jumps over the lazy dog.", "Pack my box with five dozen liquor jugs (twice)."}};
  std::string dir = temp_dir("model-e2e");
  write_file(dir + "/in/known.pdf", make_pdf(pages, 12, 20));
  RecognizerOptions ro;
  ro.runtime.device = "cpu";
  Recognizer recognizer(ckpt, ro);
  infer::InferOptions o;
  o.out_dir = dir + "/out";
  o.formats = "txt,json";
  o.model = ckpt;
  o.progress = false;
  infer::RecognizeFn fn = [&](const std::vector<cv::Mat>& crops) { return recognizer.recognize(crops); };
  auto s = infer::run_infer(infer::collect_inputs({dir + "/in"}), o, fn);
  ASSERT_EQ(s.exit_code(), 0);
  std::ifstream in(dir + "/out/known.txt");
  std::string got((std::istreambuf_iterator<char>(in)), {}), want;
  for (size_t p = 0; p < pages.size(); ++p)
    for (auto& line : pages[p]) want += line + " ";
  for (char& c : got)
    if (c == '\n' || c == '\f') c = ' ';
  std::u32string a = utf8_to_u32(collapse_whitespace(want)), b = utf8_to_u32(collapse_whitespace(got));
  double cer = double(edit_distance(a, b)) / double(a.size());
  RecordProperty("cer", std::to_string(cer));
  EXPECT_LT(cer, 0.05) << "got: " << collapse_whitespace(got);
}

TEST(InferModel, CropModeOnGeneratedVins) {
  std::string ckpt = std::string(OCRKIT_SOURCE_DIR) + "/models/vin-v1.ckpt";
  if (const char* env = std::getenv("OCRKIT_TEST_VIN_MODEL")) ckpt = env;
  if (!fs::exists(ckpt)) GTEST_SKIP() << "no VIN model at " << ckpt;
  const std::vector<std::string> vins = {"1HGCM82633A004352", "JH4KA7561PC008269", "WDBRF40J43F433102",
                                         "5YJSA1E26HF176543", "2T1BURHE0JC074321", "WVWZZZ1KZAW123456"};
  std::string dir = temp_dir("vin-crops"), labels;
  for (size_t i = 0; i < vins.size(); ++i) {
    std::vector<uint8_t> png;
    cv::imencode(".png", render_line(vins[i], 40), png);
    std::string name = "vin" + std::to_string(i) + ".png";
    write_file(dir + "/" + name, std::string(png.begin(), png.end()));
    labels += name + "\t" + vins[i] + "\n";
  }
  write_file(dir + "/labels.tsv", labels);
  RecognizerOptions ro;
  ro.runtime.device = "cpu";
  Recognizer recognizer(ckpt, ro);
  infer::RecognizeFn fn = [&](const std::vector<cv::Mat>& crops) { return recognizer.recognize(crops); };
  auto s = infer::run_crop_mode(dir + "/labels.tsv", dir + "/pred.tsv", fn, 4);
  ASSERT_EQ(s.failed, 0);
  std::ifstream in(dir + "/pred.tsv");
  size_t edits = 0, chars = 0, i = 0;
  for (std::string line; std::getline(in, line); ++i) {
    ASSERT_LT(i, vins.size());
    EXPECT_NE(line.find("vin" + std::to_string(i) + ".png\t"), std::string::npos) << line;
    std::string pred = line.substr(line.find('\t') + 1);
    pred = pred.substr(0, pred.find('\t'));
    edits += edit_distance(utf8_to_u32(vins[i]), utf8_to_u32(pred));
    chars += vins[i].size();
  }
  EXPECT_EQ(i, vins.size());
  double cer = double(edits) / double(chars);
  RecordProperty("cer", std::to_string(cer));
  EXPECT_LT(cer, 0.1);
}
