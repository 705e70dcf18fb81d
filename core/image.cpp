#include "core/image.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

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

// The 2nd and 98th percentile of an 8-bit image, from its histogram.
static void percentiles(const cv::Mat& gray, int& lo, int& hi) {
  int hist[256] = {0};
  for (int y = 0; y < gray.rows; ++y) {
    const uint8_t* row = gray.ptr<uint8_t>(y);
    for (int x = 0; x < gray.cols; ++x) ++hist[row[x]];
  }
  const double total = double(gray.total());
  double acc = 0;
  lo = 0;
  hi = 255;
  for (int v = 0; v < 256; ++v) {
    acc += hist[v];
    if (acc < 0.02 * total) lo = v + 1;
    if (acc >= 0.98 * total) { hi = v; break; }
  }
  if (lo > hi) lo = hi;
}

cv::Mat prepare_line(const cv::Mat& image, const PreprocessParams& p, int* content_width) {
  cv::Mat gray = to_gray8(image);
  // Scale to the target height first (cheap later steps, same result at any input resolution).
  int w = std::max(1, static_cast<int>(std::lround(double(gray.cols) * p.height / gray.rows)));
  w = std::min(std::max(w, 1), p.max_width);
  cv::Mat resized;
  cv::resize(gray, resized, cv::Size(w, p.height), 0, 0,
             gray.rows > p.height ? cv::INTER_AREA : cv::INTER_LINEAR);
  int lo, hi;
  percentiles(resized, lo, hi);
  // Ink is the minority: if more than half the pixels sit on the dark side, the ground is dark.
  bool invert = false;
  if (p.auto_invert) {
    int mid = (lo + hi) / 2;
    invert = cv::countNonZero(resized < mid) > static_cast<int>(resized.total() / 2);
  }
  double range = std::max(hi - lo, 24);  // keep flat crops flat instead of amplifying noise
  cv::Mat f;
  // ink = 1: value = (hi - g) / range, or (g - lo) / range when inverted, clipped to [0, 1].
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

cv::Mat read_image(const std::string& path) {
  cv::Mat m = cv::imread(path, cv::IMREAD_UNCHANGED);
  if (m.empty()) throw std::runtime_error(path + ": cannot read image (missing, empty or not a supported format)");
  return m;
}

}  // namespace ocrkit
