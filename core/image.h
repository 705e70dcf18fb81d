// The one preprocessing path for train, eval and infer: any crop -> a float line image of fixed height,
// ink = 1 and background = 0 (so zero padding is background), contrast stretched.
#pragma once
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
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
// to width_multiple; `content_width` (optional) receives the width before padding.
cv::Mat prepare_line(const cv::Mat& image, const PreprocessParams& params, int* content_width = nullptr);

// Reads an image file for recognition; throws naming the file when it is missing or undecodable.
cv::Mat read_image(const std::string& path);

}  // namespace ocrkit
