#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "core/charset.h"
#include "core/fs.h"
#include "datasets/labels.h"

using namespace ocrkit;
namespace fs = std::filesystem;

namespace {
fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::path(testing::TempDir()) / name;
  ocrkit::remove_tree(d);
  fs::create_directories(d);
  return d;
}
void png(const fs::path& p) { cv::imwrite(p.string(), cv::Mat(8, 16, CV_8UC1, cv::Scalar(255))); }
}  // namespace

TEST(Labels, PaddleReportsBadLinesWithFileAndLine) {
  fs::path d = fresh_dir("paddle");
  png(d / "a.png");
  png(d / "b.png");
  std::ofstream(d / "labels.tsv") << "a.png\tABC123\n"
                                     "no tab here\n"
                                     "missing.png\tXYZ\n"
                                     "b.png\t\n"
                                     "b.png\tHELLO\xFF\n"
                                     "b.png\tAIQ\n";
  Charset vin = Charset::from_spec("vin");
  LabelSet s = read_labels((d / "labels.tsv").string(), &vin);
  ASSERT_EQ(s.items.size(), 1u);
  EXPECT_EQ(s.items[0].text, "ABC123");
  EXPECT_EQ(s.items[0].line, 1);
  ASSERT_EQ(s.issues.size(), 5u);
  EXPECT_EQ(s.issues[0].line, 2);
  EXPECT_NE(s.issues[0].reason.find("TAB"), std::string::npos);
  EXPECT_NE(s.issues[1].reason.find("missing"), std::string::npos);
  EXPECT_NE(s.issues[2].reason.find("empty"), std::string::npos);
  EXPECT_NE(s.issues[3].reason.find("UTF-8"), std::string::npos);
  EXPECT_NE(s.issues[4].reason.find("charset"), std::string::npos);
  EXPECT_EQ(s.issues[4].where(), (d / "labels.tsv").string() + ":6");
  // The folder form finds labels.tsv itself.
  EXPECT_EQ(read_labels(d.string(), &vin).items.size(), 1u);
}

TEST(Labels, TesstrainAndJsonl) {
  fs::path d = fresh_dir("tess");
  png(d / "l1.png");
  std::ofstream(d / "l1.gt.txt") << "first line\n";
  png(d / "l2.tif");
  std::ofstream(d / "l2.gt.txt") << "second";
  std::ofstream(d / "orphan.gt.txt") << "no image";
  LabelSet t = read_labels(d.string());
  ASSERT_EQ(t.items.size(), 2u);
  EXPECT_EQ(t.items[0].text, "first line");
  EXPECT_EQ(t.items[1].text, "second");
  ASSERT_EQ(t.issues.size(), 1u);
  EXPECT_NE(t.issues[0].reason.find("no image"), std::string::npos);

  fs::path j = fresh_dir("jsonl");
  png(j / "x.png");
  std::ofstream(j / "labels.jsonl") << "{\"image\": \"x.png\", \"text\": \"caf\\u00e9\"}\n"
                                       "{\"image\": 3}\n"
                                       "not json\n";
  LabelSet js = read_labels((j / "labels.jsonl").string());
  ASSERT_EQ(js.items.size(), 1u);
  EXPECT_EQ(js.items[0].text, "café");
  ASSERT_EQ(js.issues.size(), 2u);
  EXPECT_EQ(js.issues[0].line, 2);
  EXPECT_EQ(js.issues[1].line, 3);
}

TEST(Labels, MissingFileThrowsNamingIt) {
  try {
    read_labels("/nonexistent/labels.tsv");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/labels.tsv"), std::string::npos);
  }
}
