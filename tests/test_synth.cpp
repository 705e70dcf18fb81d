// Synthesis and augmentation: VIN check digits, random VINs, font discovery, rendering, determinism,
// the on-the-fly augmentation and its options.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "core/config.h"
#include "core/fs.h"
#include "core/vin.h"
#include "datasets/augment.h"
#include "datasets/synth_vin.h"
#include "test_image_util.h"

namespace fs = std::filesystem;
using namespace ocrkit;
using test::gray_stddev;
using test::identical;

namespace {

// A 32x256 dark-on-light text crop, like a training sample.
cv::Mat sample_crop(int channels) {
  cv::Mat img(32, 256, CV_8UC3, cv::Scalar(235, 230, 225));
  cv::putText(img, "1M8GDM9AXKP042788", {6, 24}, cv::FONT_HERSHEY_SIMPLEX, 0.72, {20, 20, 20}, 2, cv::LINE_AA);
  if (channels == 1) cv::cvtColor(img, img, cv::COLOR_BGR2GRAY);
  return img;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string family(const std::string& font) { return fs::path(font).parent_path().filename().string(); }

}  // namespace

// ------------------------------------------------------------------------------------------ check digit

TEST(VinCheck, KnownAnswers) {
  EXPECT_TRUE(vin_check_valid("1M8GDM9AXKP042788"));  // the classic example: check character X
  EXPECT_EQ(vin_check_char("1M8GDM9AXKP042788"), 'X');
  EXPECT_TRUE(vin_check_valid("11111111111111111"));  // 89 mod 11 = 1
  EXPECT_TRUE(vin_check_valid("1HGCM82633A004352"));
  // Changing any one character (other than position 9, weight 0) breaks it.
  std::string v = "1M8GDM9AXKP042788";
  v[16] = '9';
  EXPECT_FALSE(vin_check_valid(v));
  v = "1M8GDM9AXKP042788";
  v[0] = '2';
  EXPECT_FALSE(vin_check_valid(v));
  v = "1M8GDM9AXKP042788";
  v[8] = '0';  // the check character itself
  EXPECT_FALSE(vin_check_valid(v));
  EXPECT_FALSE(vin_check_valid("1M8GDM9AXKP04278"));   // too short
  EXPECT_FALSE(vin_check_valid("1M8GDM9AXKP04278O"));  // O is never used
  EXPECT_EQ(vin_check_char("1M8GDM9AXKP04278I"), 0);
}

// -------------------------------------------------------------------------------------------- random VIN

TEST(RandomVin, ValidAndInvalidAlwaysAsAsked) {
  std::mt19937 rng(7);
  for (int i = 0; i < 1000; ++i) {
    std::string good = random_vin(rng, true), bad = random_vin(rng, false);
    ASSERT_EQ(good.size(), 17u);
    ASSERT_EQ(bad.size(), 17u);
    EXPECT_TRUE(vin_check_valid(good)) << good;
    EXPECT_FALSE(vin_check_valid(bad)) << bad;
    EXPECT_NE(vin_check_char(bad), 0) << bad;  // still VIN-shaped: only position 9 is wrong
  }
}

TEST(RandomVin, NeverIOQAndEveryCharacterAtEveryPosition) {
  std::mt19937 rng(11);
  std::vector<std::set<char>> seen(17);
  for (int i = 0; i < 5000; ++i) {
    std::string v = random_vin(rng, i % 2 == 0);
    for (int p = 0; p < 17; ++p) {
      ASSERT_TRUE(in_vin_alphabet(v[p])) << v;
      ASSERT_TRUE(v[p] != 'I' && v[p] != 'O' && v[p] != 'Q') << v;
      seen[p].insert(v[p]);
    }
  }
  // Enough uniform randomness that no position is predictable from a language model of positions.
  for (int p = 0; p < 17; ++p) {
    if (p == 8) continue;  // the check character
    EXPECT_EQ(seen[p].size(), vin_alphabet().size()) << "position " << p + 1;
  }
}

TEST(RandomVin, InvalidShareOfSamples) {
  SynthVinOptions o;
  o.invalid_share = 0.1;
  o.degrade.enabled = false;  // faster; the VIN does not depend on it
  int invalid = 0;
  for (int i = 0; i < 1000; ++i) invalid += !vin_check_valid(synth_vin_sample(3, uint64_t(i), o).vin);
  EXPECT_GT(invalid, 60);
  EXPECT_LT(invalid, 140);
  o.invalid_share = 0;
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(vin_check_valid(synth_vin_sample(3, uint64_t(i), o).vin));
}

// ------------------------------------------------------------------------------------------------- fonts

TEST(Fonts, DefaultSearchFindsFontsAndSkipsUnusableOnes) {
  const auto& fonts = default_fonts();
  ASSERT_FALSE(fonts.empty());
  std::set<std::string> names;
  for (const auto& f : fonts) names.insert(fs::path(f).filename().string());
  EXPECT_EQ(names.size(), fonts.size()) << "one entry per font file name";
  for (const char* bad : {"StandardSymbolsPS.otf", "D050000L.otf", "OCRBE.otf", "OCRBX.otf", "DejaVuMathTeXGyre.ttf"})
    EXPECT_EQ(names.count(bad), 0u) << bad << " has no usable Latin glyphs";
  // Every synthesis family that is installed here is found (none rejected by mistake; a file name also
  // present in another folder, e.g. liberation vs liberation2, counts once under either).
  for (const char* dir : {"truetype/dejavu", "truetype/liberation2", "truetype/freefont", "truetype/opendin",
                          "opentype/urw-base35", "opentype/ocr-b", "opentype/b612"}) {
    const fs::path folder = fs::path("/usr/share/fonts") / dir;
    if (!fs::exists(folder)) continue;
    int found = 0;
    for (const auto& entry : fs::directory_iterator(folder)) found += int(names.count(entry.path().filename().string()));
    EXPECT_GT(found, 0) << dir;
  }
}

TEST(Fonts, FolderWithoutFontsGivesEmptyList) {
  const fs::path dir = fs::path(::testing::TempDir()) / "ocrkit_no_fonts";
  fs::create_directories(dir);
  std::ofstream(dir / "fake.ttf") << "not a font";
  EXPECT_TRUE(find_fonts({dir.string()}).empty());
  EXPECT_TRUE(find_fonts({(dir / "missing").string()}).empty());
}

// --------------------------------------------------------------------------------------------- rendering

TEST(RenderVin, EveryFamilyRendersAReadableSizedCrop) {
  std::map<std::string, std::string> one_per_family;
  for (const auto& f : default_fonts()) one_per_family.emplace(family(f), f);
  for (const auto& [fam, font] : one_per_family) {
    SynthVinOptions o;
    o.fonts = {font};
    for (uint64_t seed = 0; seed < 8; ++seed) {
      cv::Mat img = render_vin("1M8GDM9AXKP042788", seed, o);
      ASSERT_EQ(img.type(), CV_8UC3) << font;
      EXPECT_GE(img.rows, 20) << font;
      EXPECT_LE(img.rows, 140) << font;
      EXPECT_GT(img.cols, 3 * img.rows) << font;
      EXPECT_LT(img.cols, 40 * img.rows) << font;
      EXPECT_GT(gray_stddev(img), 5.0) << font << " seed " << seed << ": blank crop";
    }
  }
}

TEST(RenderVin, SameSeedSamePixels) {
  SynthVinOptions o;
  for (uint64_t seed : {1ull, 2ull, 12345678901ull}) {
    cv::Mat a = render_vin("WVWZZZ1JZXW000001", seed, o), b = render_vin("WVWZZZ1JZXW000001", seed, o);
    EXPECT_TRUE(identical(a, b)) << seed;
  }
  EXPECT_FALSE(identical(render_vin("WVWZZZ1JZXW000001", 1, o), render_vin("WVWZZZ1JZXW000001", 2, o)));
}

TEST(RenderVin, SampleDoesNotDependOnTheThread) {
  SynthVinOptions o;
  SynthSample here = synth_vin_sample(9, 42, o), there;
  std::thread t([&] { there = synth_vin_sample(9, 42, o); });
  t.join();
  EXPECT_EQ(here.vin, there.vin);
  EXPECT_TRUE(identical(here.image, there.image));
  EXPECT_NE(synth_vin_sample(9, 43, o).vin, here.vin);
  EXPECT_NE(sample_seed(9, 42), sample_seed(10, 42));
}

TEST(DotMatrix, ThinStrokesKeepTheirDotsAndCountersStayOpen) {
  // A 1-px horizontal stroke between two grid rows (pitch 4, rows at y = 2.5 + 4k: 18.5 and 22.5 around
  // the stroke at y = 20) and a box whose 12-px counter spans three grid rows.
  cv::Mat mask = cv::Mat::zeros(48, 120, CV_8U);
  mask.row(20).colRange(4, 60).setTo(255);
  cv::rectangle(mask, cv::Rect(72, 8, 28, 28), cv::Scalar(255), 4);
  const int pad = 3;  // ceil(radius) + 1
  cv::Mat dots = dot_matrix_print(mask, 4, 1.6, 0.2, {2.5, 2.5});
  ASSERT_EQ(dots.size(), cv::Size(120 + 2 * pad, 48 + 2 * pad));
  // Dots along the stroke: on the grid row nearest to it, every 4 px over its 56 px.
  int stroke_dots = 0;
  for (int x = 4; x < 60; ++x) stroke_dots += dots.at<uint8_t>(22 + pad, x + pad) > 128 && (x - 2) % 4 == 0;
  EXPECT_GE(stroke_dots, 12);
  EXPECT_EQ(cv::countNonZero(dots(cv::Rect(pad, 26 + pad, 60, 10))), 0) << "nothing far from the stroke";
  // The box: its frame is dotted on all four sides, its inside (beyond the 4-px frame) blank.
  EXPECT_GT(cv::countNonZero(dots(cv::Rect(72 + pad, 8 + pad, 28, 4))), 0);
  EXPECT_GT(cv::countNonZero(dots(cv::Rect(72 + pad, 32 + pad, 28, 4))), 0);
  EXPECT_EQ(cv::countNonZero(dots(cv::Rect(80 + pad, 16 + pad, 12, 12))), 0) << "the counter filled in";
}

TEST(RenderVin, RejectsBadInput) {
  SynthVinOptions o;
  o.fonts = {default_fonts().front()};
  EXPECT_THROW(render_vin("", 1, o), std::runtime_error);
  EXPECT_THROW(render_vin("VIN\xC3\xA9", 1, o), std::runtime_error);  // not in the atlas
  o.min_height = 8;
  EXPECT_THROW(render_vin("ABC", 1, o), std::invalid_argument);
}

TEST(WriteSynthVin, SameFilesForAnyNumberOfJobs) {
  const fs::path base = fs::path(::testing::TempDir()) / "ocrkit_synth_jobs";
  ocrkit::remove_tree(base);
  SynthVinOptions o;
  SynthVinReport one = write_synth_vin((base / "j1").string(), 24, 5, o, 1);
  SynthVinReport two = write_synth_vin((base / "j2").string(), 24, 5, o, 2);
  EXPECT_EQ(one.count, 24);
  EXPECT_EQ(one.invalid, two.invalid);
  const std::string labels = read_file(base / "j1" / "labels.tsv");
  EXPECT_EQ(labels, read_file(base / "j2" / "labels.tsv"));
  EXPECT_FALSE(fs::exists(base / "j1" / "labels.tsv.tmp"));
  std::istringstream lines(labels);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    char name[32];
    std::snprintf(name, sizeof name, "img/%06d.png", n);
    ASSERT_EQ(line.substr(0, line.find('\t')), name);
    ASSERT_EQ(line.size(), std::string(name).size() + 1 + 17);
    EXPECT_EQ(read_file(base / "j1" / name), read_file(base / "j2" / name)) << name;
    cv::Mat img = cv::imread((base / "j1" / name).string());
    EXPECT_FALSE(img.empty()) << name;
    ++n;
  }
  EXPECT_EQ(n, 24);
}

// ---------------------------------------------------------------------------------------------- augment

TEST(Augment, DeterministicAndSaneForGrayAndColour) {
  AugmentOptions o;
  o.probability = 1.0;
  for (int channels : {1, 3}) {
    const cv::Mat crop = sample_crop(channels);
    for (unsigned seed = 0; seed < 200; ++seed) {
      std::mt19937 a(seed), b(seed);
      cv::Mat x = augment(crop, o, a), y = augment(crop, o, b);
      ASSERT_TRUE(identical(x, y)) << "seed " << seed;
      ASSERT_EQ(x.type(), crop.type());
      EXPECT_GE(x.rows, int(crop.rows * 0.85));  // perspective may pull corners in a little
      EXPECT_LE(x.rows, 2 * crop.rows);
      EXPECT_GE(x.cols, int(crop.cols * 0.85));
      EXPECT_LE(x.cols, int(crop.cols * 1.5));
      EXPECT_GT(gray_stddev(x), 5.0) << "seed " << seed << ": text washed out";
    }
  }
}

TEST(Augment, TinyAndOddSizedCropsDoNotBreak) {
  AugmentOptions o;
  o.probability = 1.0;
  for (cv::Size size : {cv::Size(1, 1), cv::Size(3, 5), cv::Size(40, 8), cv::Size(17, 300)}) {
    for (int type : {CV_8UC1, CV_8UC3}) {
      cv::Mat img(size, type);
      cv::randu(img, 0, 255);
      for (unsigned seed = 0; seed < 30; ++seed) {
        std::mt19937 rng(seed);
        cv::Mat out = augment(img, o, rng);
        ASSERT_FALSE(out.empty());
        ASSERT_EQ(out.type(), type);
      }
    }
  }
}

TEST(Augment, DisabledOrZeroProbabilityIsACopy) {
  const cv::Mat crop = sample_crop(3);
  std::mt19937 rng(1);
  AugmentOptions o;
  o.enabled = false;
  cv::Mat out = augment(crop, o, rng);
  EXPECT_TRUE(identical(out, crop));
  EXPECT_NE(out.data, crop.data);
  o.enabled = true;
  o.probability = 0;
  EXPECT_TRUE(identical(augment(crop, o, rng), crop));
  EXPECT_THROW(augment(cv::Mat(), o, rng), std::invalid_argument);
  EXPECT_THROW(augment(cv::Mat(8, 8, CV_32F), o, rng), std::invalid_argument);
}

TEST(Augment, FastEnoughForLoaderThreads) {
  AugmentOptions o;
  o.probability = 1.0;
  const cv::Mat crop = sample_crop(1);
  std::mt19937 rng(3);
  const int n = 500;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) augment(crop, o, rng);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / n;
  std::printf("augment: %.3f ms per 32x256 gray crop (probability 1)\n", ms);
  EXPECT_LT(ms, 5.0);  // the target is ~0.2 ms in Release; generous for Debug and shared CI cores
}

TEST(Augment, PrimitivesKeepTypeAndSize) {
  cv::Mat img = sample_crop(3);
  const cv::Size size = img.size();
  degrade::gaussian_blur(img, 1.0);
  degrade::motion_blur(img, 5, 10);
  degrade::add_noise(img, 10, 42);
  degrade::contrast(img, 0.6, 10);
  degrade::illumination(img, 0.4, 30);
  degrade::illumination(img, -0.3, 200);
  degrade::ink(img, 2, true);
  degrade::low_resolution(img, 0.5, false);
  degrade::jpeg(img, 40);
  degrade::invert(img);
  EXPECT_EQ(img.size(), size);
  EXPECT_EQ(img.type(), CV_8UC3);
  // A warp keeps the whole input: its output is at least as large.
  std::mt19937 rng(2);
  degrade::Random r(rng);
  cv::Mat w = degrade::warp(img, degrade::random_warp(3, 0.2, 0.05, r));
  EXPECT_GE(w.cols, size.width - 2);
  EXPECT_GE(w.rows, size.height);
}

TEST(AugmentOptions, FromConfigDefaultsAndErrorsNameTheKey) {
  Config config;
  AugmentOptions o = AugmentOptions::from_config(config), d;
  EXPECT_EQ(o.enabled, d.enabled);
  EXPECT_DOUBLE_EQ(o.probability, d.probability);
  EXPECT_DOUBLE_EQ(o.rotate_deg, d.rotate_deg);
  EXPECT_DOUBLE_EQ(o.noise, d.noise);
  EXPECT_EQ(o.jpeg_min_quality, d.jpeg_min_quality);
  EXPECT_DOUBLE_EQ(o.invert, d.invert);
  for (const char* bad : {"augment.rotate_deg=90", "augment.probability=1.5", "augment.jpeg_min_quality=0",
                          "augment.low_res=0", "augment.contrast=-0.1", "augment.invert=2", "augment.noise=500"}) {
    Config c;
    c.set(bad);
    const std::string key = std::string(bad).substr(0, std::string(bad).find('='));
    try {
      AugmentOptions::from_config(c);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("'" + key + "'"), std::string::npos) << e.what();
    }
  }
}
