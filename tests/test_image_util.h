// Image checks shared by the synthesis tests.
#pragma once
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace ocrkit::test {

// Same size, type and pixels.
inline bool identical(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

// Standard deviation of the gray levels: near zero for a blank crop.
inline double gray_stddev(const cv::Mat& image) {
  cv::Mat gray = image;
  if (image.channels() == 3) cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
  cv::Scalar mean, sd;
  cv::meanStdDev(gray, mean, sd);
  return sd[0];
}

}  // namespace ocrkit::test
