// The one preprocessing path for train, eval and infer: any crop -> a float line image of fixed height,
// ink = 1 and background = 0 (so zero padding is background), contrast stretched.
#pragma once
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace ocrkit {

class Config;

struct PreprocessParams {
  int height = 32;         // output height in pixels
  int min_width = 32;      // narrower crops are padded to this width
  int max_width = 1024;    // wider crops are squeezed to this width
  bool auto_invert = true; // light-on-dark crops are inverted first
  int width_multiple = 4;  // widths are padded to a multiple of the model's horizontal stride

  static PreprocessParams from_config(const Config& config);
  nlohmann::json to_json() const;
  static PreprocessParams from_json(const nlohmann::json& j);
};

// Any depth/channel count -> 8-bit single channel. Throws on an empty image.
cv::Mat to_gray8(const cv::Mat& image);

// The model input for one crop: CV_32F, params.height rows, width in [min_width, max_width] rounded up
// to width_multiple; `content_width` (optional) receives the width before padding. With `bfloat16` the
// same values as bfloat16 bit patterns in CV_16U (rounded to nearest even, as torch converts): what a
// bf16 model on a GPU is fed, in half the bytes and without a conversion where batches are assembled.
cv::Mat prepare_line(const cv::Mat& image, const PreprocessParams& params, int* content_width = nullptr,
                     bool bfloat16 = false);
// float -> bfloat16 bits, rounded to nearest even (c10::BFloat16's rounding; finite values).
uint16_t bfloat16_bits(float f);

// cv::resize(src, dst, dsize, 0, 0, cv::INTER_AREA), the same bit for bit; several times faster where
// OpenCV takes its general area path (8-bit one channel shrunk by a non-integer factor).
void resize_area(const cv::Mat& src, cv::Size dsize, cv::Mat& dst);
// cv::resize(src, dst, {}, f, f, cv::INTER_AREA) likewise, except that a sliver which that would shrink to
// nothing (where cv::resize throws) keeps one pixel each way.
void shrink_area(const cv::Mat& src, double f, cv::Mat& dst);

// The histogram of an 8-bit one-channel image.
std::array<int, 256> gray_histogram(const cv::Mat& gray);

// The first x in [x, n) where p[x] is nonzero (ink) or zero (!ink), else n; eight bytes at a time.
inline int find_byte(const uint8_t* p, int x, int n, bool ink) {
  // Blank paper comes in long stretches: sixteen bytes per test while looking for ink (the word loop
  // below then finds the first in those). Ink runs are short, so that search starts with the words.
  if (ink)
    for (uint64_t a, b; x + 16 <= n; x += 16) {
      std::memcpy(&a, p + x, 8), std::memcpy(&b, p + x + 8, 8);
      if (a | b) break;
    }
  for (; x + 8 <= n; x += 8) {
    uint64_t w;
    std::memcpy(&w, p + x, 8);
    // The nonzero bytes, or a high bit in each zero byte (the lowest one flagged is always a zero byte).
    const uint64_t hit = ink ? w : (w - 0x0101010101010101u) & ~w & 0x8080808080808080u;
    if (hit) return x + __builtin_ctzll(hit) / 8;  // little-endian: the lowest bits hold the first byte
  }
  while (x < n && (p[x] != 0) != ink) ++x;
  return x;
}

// Calls f(x0, x1) for each run [x0, x1) of nonzero bytes in p[0, n), left to right.
template <class F>
void for_each_run(const uint8_t* p, int n, F&& f) {
  for (int x = 0; (x = find_byte(p, x, n, true)) < n;) {
    const int x0 = x;
    x = find_byte(p, x, n, false);
    f(x0, x);
  }
}

// Reads an image file for recognition; throws naming the file when it is missing or undecodable.
cv::Mat read_image(const std::string& path);

}  // namespace ocrkit
