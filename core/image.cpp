#include "core/image.h"

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <numeric>
#include <type_traits>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <vector>

#include "core/config.h"

namespace ocrkit {

PreprocessParams PreprocessParams::from_config(const Config& c) {
  PreprocessParams p;
  p.height = c.get_int("preprocess.height");
  p.min_width = c.get_int("preprocess.min_width");
  p.max_width = c.get_int("preprocess.max_width");
  p.auto_invert = c.get_bool("preprocess.auto_invert");
  if (p.height < 8 || p.height > 256) throw ConfigError("config key 'preprocess.height' must be in [8, 256]");
  if (p.min_width < 1 || p.max_width < p.min_width)
    throw ConfigError("config keys 'preprocess.min_width' and 'preprocess.max_width' must satisfy 1 <= min <= max");
  return p;
}

nlohmann::json PreprocessParams::to_json() const {
  return {{"height", height}, {"min_width", min_width}, {"max_width", max_width}, {"auto_invert", auto_invert},
          {"width_multiple", width_multiple}, {"ink", "1"}, {"normalisation", "percentile-stretch"}};
}

PreprocessParams PreprocessParams::from_json(const nlohmann::json& j) {
  PreprocessParams p;
  p.height = j.at("height");
  p.min_width = j.at("min_width");
  p.max_width = j.at("max_width");
  p.auto_invert = j.at("auto_invert");
  p.width_multiple = j.value("width_multiple", 4);
  return p;
}

cv::Mat to_gray8(const cv::Mat& image) {
  if (image.empty()) throw std::invalid_argument("empty image");
  cv::Mat m = image;
  if (m.depth() != CV_8U) {
    double scale = m.depth() == CV_16U ? 1.0 / 257.0 : (m.depth() == CV_32F || m.depth() == CV_64F) ? 255.0 : 1.0;
    m.convertTo(m, CV_MAKETYPE(CV_8U, m.channels()), scale);
  }
  if (m.channels() == 1) return m;
  cv::Mat gray;
  if (m.channels() == 3) cv::cvtColor(m, gray, cv::COLOR_BGR2GRAY);
  else if (m.channels() == 4) cv::cvtColor(m, gray, cv::COLOR_BGRA2GRAY);
  else cv::extractChannel(m, gray, 0);
  return gray;
}

namespace {

// OpenCV's INTER_AREA weights for shrinking n pixels to m by scale (computeResizeAreaTab): entry k adds
// source pixel src[k] times alpha[k] (the fraction of it that the destination pixel covers) to dst[k].
struct AreaWeights {
  std::vector<int> src, dst;
  std::vector<float> alpha;

  AreaWeights(int n, int m, double scale) {
    for (int d = 0; d < m; ++d) {
      const double f1 = d * scale, f2 = f1 + scale, cell = std::min(scale, n - f1);
      const int s2 = std::min(cvFloor(f2), n - 1), s1 = std::min(cvCeil(f1), s2);
      if (s1 - f1 > 1e-3) add(s1 - 1, d, (s1 - f1) / cell);
      for (int s = s1; s < s2; ++s) add(s, d, 1.0 / cell);
      if (f2 - s2 > 1e-3) add(s2, d, std::min(std::min(f2 - s2, 1.), cell) / cell);
    }
  }
  void add(int s, int d, double a) { src.push_back(s), dst.push_back(d), alpha.push_back(float(a)); }
  size_t size() const { return src.size(); }
};

// Where OpenCV takes its general area path (hal::resize: 8-bit one channel, scales sx = 1 / inv_scale_x and
// sy of at least 1, not both integers) this does the same float sums in the same order, faster: OpenCV
// adds every pixel into memory, a chain of dependent loads and stores (20 ms for a page). Here four source
// rows are summed at once in registers (independent chains), and only the destination columns near ink
// are summed: a blank pixel's term is +0, which changes no sum. False where OpenCV takes another path.
// (Like OpenCV's generic code it must be built without FMA contraction; a test compares the two.)
// src is a copy of the header: dst may be the same cv::Mat.
bool area_sums(const cv::Mat src, cv::Size size, double sx, double sy, cv::Mat& dst) {
  auto integer = [](double s) { return std::abs(s - cv::saturate_cast<int>(s)) < DBL_EPSILON; };
  if (src.type() != CV_8UC1 || size.empty() || sx < 1 || sy < 1 || (integer(sx) && integer(sy)) ||
      size == src.size())
    return false;
  const AreaWeights xw(src.cols, size.width, sx), yw(src.rows, size.height, sy);
  const size_t w = size_t(size.width);
  std::vector<size_t> xofs(w + 1);  // destination column dx takes the x weights xofs[dx] .. xofs[dx + 1] - 1
  for (size_t k = 0, dx = 0; dx <= w; ++dx) {
    while (k < xw.size() && size_t(xw.dst[k]) < dx) ++k;
    xofs[dx] = k;
  }
  static const std::array<float, 256> to_float = [] {  // a lookup is cheaper than a conversion
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) t[size_t(i)] = float(i);
    return t;
  }();
  constexpr int R = 4;
  std::vector<float> row_sums(R * w);
  std::vector<uint8_t> any(size_t(src.cols)), dark(size_t(src.cols)), blank_row(size_t(src.cols), 0);
  // A column whose pixels are all 255 (white paper, when a gray page is shrunk) sums to the same float in
  // every row: summed once here, in the same order as below, it is looked up (judging the lighting of a
  // page shrinks it by ~50: a column is 50 pixels, most of them white).
  std::vector<float> white(w);
  std::vector<uint8_t> white_span(w);  // whether the column is wide enough that the lookup pays
  bool any_white_span = false;         // if none (a slight shrink, as of a line crop), `dark` is not needed
  for (size_t dx = 0; dx < w; ++dx) {
    float b = 0;
    for (size_t k = xofs[dx]; k < xofs[dx + 1]; ++k) b += to_float[255] * xw.alpha[k];
    white[dx] = b;
    white_span[dx] = xofs[dx + 1] - xofs[dx] >= 8;
    any_white_span = any_white_span || white_span[dx];
  }
  cv::Mat sums = cv::Mat::zeros(size, CV_32F);  // the destination rows, summed in place
  size_t j = 0;
  for (int y = 0; y < src.rows; y += R) {
    const uint8_t* s[R];
    for (int i = 0; i < R; ++i) s[i] = y + i < src.rows ? src.ptr<uint8_t>(y + i) : blank_row.data();
    for (int x = 0; x < src.cols; ++x) any[size_t(x)] = s[0][x] | s[1][x] | s[2][x] | s[3][x];
    if (any_white_span)
      for (int x = 0; x < src.cols; ++x) dark[size_t(x)] = uint8_t(~(s[0][x] & s[1][x] & s[2][x] & s[3][x]));
    // Row sums of the destination columns [lo, hi): those within 2 of ink are summed, the others zeroed.
    size_t lo = w, hi = 0;
    for_each_run(any.data(), src.cols, [&](int x0, int x1) {
      const size_t d0 = size_t(std::max(0, int(x0 / sx) - 2)), d1 = std::min(w, size_t((x1 - 1) / sx) + 3);
      if (lo == w) lo = hi = d0;
      for (; hi < d1; ++hi) {
        float b[R] = {};
        if (hi >= d0 && white_span[hi]) {
          // The column's source pixels (a contiguous range) are all white: no dark byte, 8 at a time.
          const int c0 = xw.src[xofs[hi]], c1 = xw.src[xofs[hi + 1] - 1] + 1;
          if (find_byte(dark.data(), c0, c1, true) == c1) {
            for (int i = 0; i < R; ++i) row_sums[size_t(i) * w + hi] = white[hi];
            continue;
          }
        }
        if (hi >= d0)
          for (size_t k = xofs[hi]; k < xofs[hi + 1]; ++k)
            for (int i = 0; i < R; ++i) b[i] += to_float[s[i][xw.src[k]]] * xw.alpha[k];
        for (int i = 0; i < R; ++i) row_sums[size_t(i) * w + hi] = b[i];
      }
    });
    for (; j < yw.size() && yw.src[j] < y + R; ++j) {
      const float a = yw.alpha[j], *rs = &row_sums[size_t(yw.src[j] - y) * w];
      float* sum = sums.ptr<float>(yw.dst[j]);
      for (size_t dx = lo; dx < hi; ++dx) sum[dx] += a * rs[dx];
    }
  }
  sums.convertTo(dst, CV_8U);  // saturate_cast, as OpenCV
  return true;
}

}  // namespace

void resize_area(const cv::Mat& src, cv::Size dsize, cv::Mat& dst) {
  // cv::resize's scales for a dsize: 1 / (dsize / ssize), which may differ from ssize / dsize in the last bit.
  const double sx = 1. / (double(dsize.width) / src.cols), sy = 1. / (double(dsize.height) / src.rows);
  if (!area_sums(src, dsize, sx, sy, dst)) cv::resize(src, dst, dsize, 0, 0, cv::INTER_AREA);
}

void shrink_area(const cv::Mat& src, double f, cv::Mat& dst) {
  const cv::Size size(cv::saturate_cast<int>(src.cols * f), cv::saturate_cast<int>(src.rows * f));
  if (size.empty())  // a sliver (2000 x 1): one pixel at least each way, where cv::resize would throw
    resize_area(src, cv::Size(std::max(1, size.width), std::max(1, size.height)), dst);
  else if (!area_sums(src, size, 1. / f, 1. / f, dst))  // cv::resize's scales for fx = fy = f
    cv::resize(src, dst, cv::Size(), f, f, cv::INTER_AREA);
}

// Paper is mostly pure white: eight 255s at once are counted together.
std::array<int, 256> gray_histogram(const cv::Mat& gray) {
  std::array<int, 256 * 4> h4{};  // four histograms: neighbouring pixels often share a value
  int white = 0;
  for (int y = 0; y < gray.rows; ++y) {
    const uint8_t* p = gray.ptr<uint8_t>(y);
    int x = 0;
    for (; x + 8 <= gray.cols; x += 8) {
      uint64_t w;
      std::memcpy(&w, p + x, 8);
      if (w == ~uint64_t(0)) {
        white += 8;
        continue;
      }
      for (int j = 0; j < 8; ++j) ++h4[size_t((j & 3) * 256 + p[x + j])];
    }
    for (; x < gray.cols; ++x) ++h4[p[x]];
  }
  std::array<int, 256> h;
  for (size_t v = 0; v < 256; ++v) h[v] = h4[v] + h4[256 + v] + h4[512 + v] + h4[768 + v];
  h[255] += white;
  return h;
}

// The 2nd and 98th percentile of the n pixels counted in a histogram.
static void percentiles(const std::array<int, 256>& hist, size_t n, int& lo, int& hi) {
  const double total = double(n);
  double acc = 0;
  lo = 0;
  hi = 255;
  for (int v = 0; v < 256; ++v) {
    acc += hist[size_t(v)];
    if (acc < 0.02 * total) lo = v + 1;
    if (acc >= 0.98 * total) { hi = v; break; }
  }
  if (lo > hi) lo = hi;
}

uint16_t bfloat16_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return uint16_t((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

cv::Mat prepare_line(const cv::Mat& image, const PreprocessParams& p, int* content_width, bool bfloat16) {
  cv::Mat gray = to_gray8(image);
  // Scale to the target height first (cheap later steps, same result at any input resolution).
  int w = std::max(1, static_cast<int>(std::lround(double(gray.cols) * p.height / gray.rows)));
  w = std::min(std::max(w, 1), p.max_width);
  cv::Mat resized;
  if (gray.rows > p.height) resize_area(gray, cv::Size(w, p.height), resized);
  else cv::resize(gray, resized, cv::Size(w, p.height), 0, 0, cv::INTER_LINEAR);
  const std::array<int, 256> hist = gray_histogram(resized);
  int lo, hi;
  percentiles(hist, resized.total(), lo, hi);
  // Ink is the minority: if more than half the pixels sit on the dark side, the ground is dark.
  bool invert = false;
  if (p.auto_invert) {
    const int mid = (lo + hi) / 2;
    invert = std::accumulate(hist.begin(), hist.begin() + mid, 0) > static_cast<int>(resized.total() / 2);
  }
  double range = std::max(hi - lo, 24);  // keep flat crops flat instead of amplifying noise
  // ink = 1: value = (hi - g) / range, or (g - lo) / range when inverted, clipped to [0, 1]. Computed once
  // per gray level by the OpenCV calls that once converted the whole image (SIMD with or without FMA as its
  // CPU dispatch goes; a level's result does not depend on its position), then looked up per pixel.
  static const cv::Mat levels = [] {
    cv::Mat m(1, 256, CV_8U);
    for (int v = 0; v < 256; ++v) m.at<uint8_t>(v) = uint8_t(v);
    return m;
  }();
  cv::Mat lut;
  if (invert) levels.convertTo(lut, CV_32F, 1.0 / range, -lo / range);
  else levels.convertTo(lut, CV_32F, -1.0 / range, hi / range);
  cv::min(cv::max(lut, 0.0), 1.0, lut);
  int padded = std::max(w, p.min_width);
  padded = (padded + p.width_multiple - 1) / p.width_multiple * p.width_multiple;
  if (content_width) *content_width = w;
  auto fill = [&](auto* value, int type) {  // 0 is background in both types
    using T = std::remove_const_t<std::remove_pointer_t<decltype(value)>>;
    cv::Mat out(p.height, padded, type);
    for (int y = 0; y < p.height; ++y) {
      const uint8_t* g = resized.ptr<uint8_t>(y);
      T* o = out.ptr<T>(y);
      for (int x = 0; x < w; ++x) o[x] = value[g[x]];
      std::fill(o + w, o + padded, T(0));
    }
    return out;
  };
  if (!bfloat16) return fill(lut.ptr<float>(), CV_32F);
  uint16_t bits[256];
  for (int v = 0; v < 256; ++v) bits[v] = bfloat16_bits(lut.at<float>(v));
  return fill(bits, CV_16U);
}

cv::Mat read_image(const std::string& path) {
  cv::Mat m = cv::imread(path, cv::IMREAD_UNCHANGED);
  if (m.empty()) throw std::runtime_error(path + ": cannot read image (missing, empty or not a supported format)");
  return m;
}

}  // namespace ocrkit
