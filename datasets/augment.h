// On-the-fly degradation of training crops (training-only: infer never links this), and the degradation
// primitives the synthesizers reuse. Torch-free.
//
// Sizes (blur sigma, motion length, ink radius) are in pixels at a 32-pixel line height, the model's
// input height, and are scaled to the crop's actual height, so a 100-pixel photo crop is degraded as much
// as a 32-pixel one would look after preprocessing.
#pragma once
#include <cstdint>
#include <opencv2/core.hpp>
#include <random>

namespace ocrkit {

class Config;

struct AugmentOptions {
  bool enabled = true;          // false: augment() returns an unchanged copy
  double probability = 0.8;     // share of crops that get degraded at all
  double rotate_deg = 2.0;      // max rotation (degrees, either way)
  double shear = 0.15;          // max horizontal shear (x shift per unit of height)
  double perspective = 0.04;    // max corner shift (x and y) as a share of twice the height
  double scale_jitter = 0.1;    // max extra margin per side (share of height) and horizontal squeeze/stretch
  double blur = 1.2;            // max Gaussian sigma (also bounds motion blur and ink bleed)
  double noise = 12.0;          // max Gaussian noise std (0-255)
  int jpeg_min_quality = 30;    // JPEG re-encode quality drawn in [jpeg_min_quality, 95]
  double low_res = 0.5;         // min down-sampling factor before scaling back (never below 16 px height)
  double contrast = 0.5;        // max contrast reduction (also bounds uneven illumination)
  double invert = 0.0;          // probability of inverting polarity

  // Reads the augment.* keys; a value out of range is a ConfigError naming the key.
  static AugmentOptions from_config(const Config& config);
  // Throws ConfigError naming the augment.* key of the first value out of range.
  void validate() const;
};

// Returns a degraded copy of an 8-bit crop (1 or 3 channels; output has the same type, its size may
// change a little: warps keep the whole input, margins may grow). Deterministic for a given rng state.
cv::Mat augment(const cv::Mat& image, const AugmentOptions& options, std::mt19937& rng);

namespace degrade {

// Draws from std::mt19937 with fixed recipes (std:: distributions differ between standard libraries;
// these give the same numbers everywhere, so a seed means the same data on every host).
class Random {
 public:
  explicit Random(std::mt19937& engine) : engine_(engine) {}
  double uniform(double lo = 0.0, double hi = 1.0);
  double symmetric(double max) { return uniform(-max, max); }
  int integer(int lo, int hi);  // inclusive
  bool chance(double p) { return p > 0 && uniform() < p; }
  uint64_t bits64();
  std::mt19937& engine() { return engine_; }

 private:
  std::mt19937& engine_;
};

// Pixels per "32-pixel line height" unit for this image.
inline double line_scale(const cv::Mat& image) { return image.rows / 32.0; }

// Rotation about the centre, horizontal shear and a perspective corner shift (corner offsets of
// top-left, top-right, bottom-right, bottom-left, in units of twice the crop height on both axes).
struct Warp {
  double rotate_deg = 0, shear = 0;
  cv::Point2f corners[4];
};
Warp random_warp(double max_rotate_deg, double max_shear, double max_perspective, Random& random);
// Applies the warp; the output is enlarged to hold the whole warped input (nothing is cut off), the
// corners are filled by replicating the border.
cv::Mat warp(const cv::Mat& image, const Warp& w);

// Pads each side by the given pixels with the image's mean border colour, and scales the width by x_scale.
cv::Mat pad_and_stretch(const cv::Mat& image, int left, int top, int right, int bottom, double x_scale);

void gaussian_blur(cv::Mat& image, double sigma);
// Linear motion blur of `length` pixels at `angle_deg`.
void motion_blur(cv::Mat& image, double length, double angle_deg);
// Additive Gaussian noise (std in 0-255), deterministic for `seed`.
void add_noise(cv::Mat& image, double stddev, uint64_t seed);
// x -> mean + (x - mean) * gain + shift.
void contrast(cv::Mat& image, double gain, double shift);
// Uneven light: a linear gradient across the crop at `angle_deg` that darkens (strength > 0) or washes
// out towards white (glare, strength < 0) by up to |strength| at its far end.
void illumination(cv::Mat& image, double strength, double angle_deg);
// Ink bleed (thicken = true) or erosion of the text strokes with a kernel x kernel square (kernel >= 2),
// whatever the polarity (the minority tone, from the mean, is taken as ink).
void ink(cv::Mat& image, int kernel, bool thicken);
// Down-samples by `factor` then scales back to the original size (nearest = blocky digital zoom).
void low_resolution(cv::Mat& image, double factor, bool nearest);
void jpeg(cv::Mat& image, int quality);
void invert(cv::Mat& image);

}  // namespace degrade
}  // namespace ocrkit
