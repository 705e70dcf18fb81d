// Preprocessing (core/image): the fast INTER_AREA shrink and prepare_line against the OpenCV calls they
// replace, bit for bit.
#include <gtest/gtest.h>

#include <cstring>
#include <opencv2/imgproc.hpp>

#include "core/image.h"

using namespace ocrkit;

namespace {

// Same size, type and bytes (cv::norm would take -0 for +0).
bool same_bytes(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return false;
  for (int y = 0; y < a.rows; ++y)
    if (std::memcmp(a.ptr(y), b.ptr(y), a.cols * a.elemSize()) != 0) return false;
  return true;
}

// A gray line crop: text-like strokes on a lighter ground, or the reverse, or noise, or flat; a view into
// a larger image half of the time (crops of a page are not continuous).
cv::Mat random_crop(cv::RNG& rng, int rows, int cols) {
  cv::Mat crop = rng.uniform(0, 2) ? cv::Mat(rows + 6, cols + 9, CV_8U, cv::Scalar(0))(cv::Rect(5, 2, cols, rows))
                                   : cv::Mat(rows, cols, CV_8U);
  const int kind = rng.uniform(0, 5);
  if (kind == 0) {
    rng.fill(crop, cv::RNG::UNIFORM, 0, 256);
  } else if (kind == 1) {
    crop.setTo(rng.uniform(0, 256));  // flat
  } else {
    const int ground = rng.uniform(150, 256), ink = rng.uniform(0, 120);
    crop.setTo(ground);
    for (int k = cols / 6 + 1; k-- > 0;)
      cv::putText(crop, std::string(1, char(rng.uniform('A', 'z'))),
                  {rng.uniform(-4, cols), rng.uniform(rows / 2, rows + 4)}, cv::FONT_HERSHEY_SIMPLEX, rows / 30.0,
                  cv::Scalar(ink + rng.uniform(0, 30)), rng.uniform(1, 3));
    if (kind == 3) cv::GaussianBlur(crop, crop, {3, 3}, 0);
    if (kind == 4) cv::bitwise_not(crop, crop);  // light on dark
  }
  return crop;
}

// prepare_line as it was before the table lookup and resize_area: the reference.
cv::Mat prepare_line_reference(const cv::Mat& image, const PreprocessParams& p, int* content_width) {
  cv::Mat gray = to_gray8(image);
  int w = std::max(1, static_cast<int>(std::lround(double(gray.cols) * p.height / gray.rows)));
  w = std::min(std::max(w, 1), p.max_width);
  cv::Mat resized;
  cv::resize(gray, resized, cv::Size(w, p.height), 0, 0, gray.rows > p.height ? cv::INTER_AREA : cv::INTER_LINEAR);
  int hist[256] = {0};
  for (int y = 0; y < resized.rows; ++y)
    for (int x = 0; x < resized.cols; ++x) ++hist[resized.at<uint8_t>(y, x)];
  const double total = double(resized.total());
  double acc = 0;
  int lo = 0, hi = 255;
  for (int v = 0; v < 256; ++v) {
    acc += hist[v];
    if (acc < 0.02 * total) lo = v + 1;
    if (acc >= 0.98 * total) { hi = v; break; }
  }
  if (lo > hi) lo = hi;
  bool invert = false;
  if (p.auto_invert) {
    int mid = (lo + hi) / 2;
    invert = cv::countNonZero(resized < mid) > static_cast<int>(resized.total() / 2);
  }
  double range = std::max(hi - lo, 24);
  cv::Mat f;
  if (invert) resized.convertTo(f, CV_32F, 1.0 / range, -lo / range);
  else resized.convertTo(f, CV_32F, -1.0 / range, hi / range);
  cv::min(cv::max(f, 0.0), 1.0, f);
  int padded = std::max(w, p.min_width);
  padded = (padded + p.width_multiple - 1) / p.width_multiple * p.width_multiple;
  if (content_width) *content_width = w;
  if (padded == w) return f;
  cv::Mat out(p.height, padded, CV_32F, cv::Scalar(0));
  f.copyTo(out(cv::Rect(0, 0, w, p.height)));
  return out;
}

}  // namespace

TEST(Image, ShrinkAreaIsCvResizeBitForBit) {
  cv::RNG rng(11);
  for (int i = 0; i < 60; ++i) {
    cv::Mat img(rng.uniform(20, 600), rng.uniform(20, 600), CV_8U);
    if (i % 4 == 1) {  // white paper with a few gray blocks (columns of pure white take a shortcut)
      img.setTo(255);
      for (int k = 0; k < 3; ++k)
        img(cv::Rect(rng.uniform(0, img.cols), rng.uniform(0, img.rows), 8, 8) & cv::Rect(cv::Point(), img.size())) =
            rng.uniform(0, 255);
    } else if (i % 2) {
      rng.fill(img, cv::RNG::UNIFORM, 0, 256);  // gray
    } else {
      rng.fill(img, cv::RNG::UNIFORM, 0, 100);  // sparse ink
      img = img < 8;
    }
    // Page-like factors, others, and integer ones (OpenCV's fast path).
    double f = i % 3 == 0   ? 64.0 / std::max(img.cols, img.rows)
               : i % 3 == 1 ? rng.uniform(0.2, 0.99)
                            : 1.0 / (1 + i % 4);
    cv::Mat expected, got;
    cv::resize(img, expected, cv::Size(), f, f, cv::INTER_AREA);
    shrink_area(img, f, got);
    ASSERT_EQ(got.size(), expected.size()) << i;
    EXPECT_EQ(cv::countNonZero(got != expected), 0) << i << " " << img.size() << " f " << f;
  }
}

TEST(Image, ResizeAreaIsCvResizeBitForBit) {
  // Line crops to 32 rows at their aspect (some clamped to a maximum width, some slivers), other sizes,
  // an integer factor on one axis or both (OpenCV's fast path), growth on one axis (its linear path).
  cv::RNG rng(5);
  for (int i = 0; i < 600; ++i) {
    int rows = rng.uniform(33, 201), cols = i % 10 == 0 ? rng.uniform(1, 4) : rng.uniform(1, 1500);
    cv::Size dsize(std::max(1, int(std::lround(cols * 32.0 / rows))), 32);
    if (i % 7 == 1) dsize.width = std::min(dsize.width, rng.uniform(1, 64));
    if (i % 11 == 2) dsize = {rng.uniform(1, cols + 1), rng.uniform(1, rows + 1)};
    if (i % 13 == 3) cols = 2 * dsize.width;  // x by 2, y not
    if (i % 17 == 4) rows = 96, cols = 3 * dsize.width;  // both by 3
    if (i % 19 == 5) dsize.width = cols + rng.uniform(1, 20);
    const cv::Mat img = random_crop(rng, rows, cols);
    cv::Mat expected, got;
    cv::resize(img, expected, dsize, 0, 0, cv::INTER_AREA);
    resize_area(img, dsize, got);
    EXPECT_TRUE(same_bytes(got, expected)) << i << " " << img.size() << " -> " << dsize;
  }
  // Sizes where OpenCV's scale 1 / (1000 / 1017.) is not 1017 / 1000. and gives other sums.
  for (auto [from, to] : {std::pair<cv::Size, cv::Size>{{1017, 40}, {1000, 32}}, {{40, 1017}, {32, 1000}}}) {
    cv::Mat img(from, CV_8U);
    rng.fill(img, cv::RNG::UNIFORM, 0, 256);
    cv::Mat expected, got;
    cv::resize(img, expected, to, 0, 0, cv::INTER_AREA);
    resize_area(img, to, got);
    EXPECT_TRUE(same_bytes(got, expected)) << from << " -> " << to;
  }
  cv::Mat img = random_crop(rng, 40, 300), same;
  resize_area(img, img.size(), same);  // the same size: a copy, as cv::resize
  EXPECT_TRUE(same_bytes(same, img));
  cv::Mat expected;
  cv::resize(img, expected, {250, 32}, 0, 0, cv::INTER_AREA);
  resize_area(img, {250, 32}, img);  // in place
  EXPECT_TRUE(same_bytes(img, expected));
}

TEST(Image, PrepareLineIsTheOldFormulation) {
  // Both resize paths (taller than the target: area; as tall or shorter: linear), both polarities, flat
  // crops, tiny ones (OpenCV's scalar code), clamping to max_width, other heights and paddings.
  cv::RNG rng(3);
  for (int i = 0; i < 1500; ++i) {
    PreprocessParams p;
    if (i % 5 == 1) p.max_width = rng.uniform(32, 200);
    if (i % 9 == 2) p.height = rng.uniform(8, 64);
    if (i % 6 == 3) p.auto_invert = false;
    if (i % 8 == 4) p.min_width = rng.uniform(1, 64), p.width_multiple = rng.uniform(1, 9);
    if (i % 10 == 7) p.height = rng.uniform(8, 16);  // with a narrow crop: under 16 values to convert
    const int rows = i % 4 == 0 ? rng.uniform(1, 33) : rng.uniform(1, 120);
    const int cols = i % 15 == 0 || i % 10 == 7 ? rng.uniform(1, 6) : rng.uniform(1, 2000);
    cv::Mat img = random_crop(rng, rows, cols);
    if (i % 23 == 0) cv::cvtColor(img, img, cv::COLOR_GRAY2BGR);
    int w_expected = -1, w_got = -2;
    const cv::Mat expected = prepare_line_reference(img, p, &w_expected), got = prepare_line(img, p, &w_got);
    EXPECT_EQ(w_got, w_expected) << i;
    EXPECT_TRUE(same_bytes(got, expected)) << i << " " << img.size() << " height " << p.height;
  }
}

TEST(Image, FindByteIsTheFirstMatch) {
  // find_byte tests 8 or 16 bytes at once: it must still stop at the first (non)zero byte of any stretch.
  cv::RNG rng(5);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> p(size_t(rng.uniform(0, 80)), 0);
    for (int k = rng.uniform(0, 6); k-- > 0 && !p.empty();) {  // a few runs of nonzero values, some all 255
      const int a = rng.uniform(0, int(p.size())), b = std::min(int(p.size()), a + rng.uniform(1, 40));
      for (int x = a; x < b; ++x) p[size_t(x)] = uint8_t(i % 2 ? 255 : rng.uniform(1, 256));
    }
    const int n = int(p.size());
    for (int from = 0; from <= n; ++from)
      for (bool ink : {true, false}) {
        int expect = from;
        while (expect < n && (p[size_t(expect)] != 0) != ink) ++expect;
        ASSERT_EQ(ocrkit::find_byte(p.data(), from, n, ink), expect) << i << " " << from << " " << ink;
      }
  }
}
