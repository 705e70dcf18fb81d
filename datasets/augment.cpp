#include "datasets/augment.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "core/config.h"

namespace ocrkit {

// ---------------------------------------------------------------------------------------------- options

AugmentOptions AugmentOptions::from_config(const Config& c) {
  AugmentOptions o;
  o.enabled = c.get_bool("augment.enabled");
  o.probability = c.get_double("augment.probability");
  o.rotate_deg = c.get_double("augment.rotate_deg");
  o.shear = c.get_double("augment.shear");
  o.perspective = c.get_double("augment.perspective");
  o.scale_jitter = c.get_double("augment.scale_jitter");
  o.blur = c.get_double("augment.blur");
  o.noise = c.get_double("augment.noise");
  o.jpeg_min_quality = c.get_int("augment.jpeg_min_quality");
  o.low_res = c.get_double("augment.low_res");
  o.contrast = c.get_double("augment.contrast");
  o.invert = c.get_double("augment.invert");
  o.validate();
  return o;
}

static void check_range(const char* key, double value, double lo, double hi, bool lo_open = false) {
  if (!(lo_open ? value > lo : value >= lo) || !(value <= hi)) {
    std::ostringstream msg;
    msg << "config key 'augment." << key << "' must be in " << (lo_open ? "(" : "[") << lo << ", " << hi
        << "], got " << value;
    throw ConfigError(msg.str());
  }
}

void AugmentOptions::validate() const {
  // Bounds beyond which crops stop being legible (or the transform stops making sense).
  check_range("probability", probability, 0, 1);
  check_range("rotate_deg", rotate_deg, 0, 30);
  check_range("shear", shear, 0, 1);
  check_range("perspective", perspective, 0, 0.25);
  check_range("scale_jitter", scale_jitter, 0, 0.5);
  check_range("blur", blur, 0, 5);
  check_range("noise", noise, 0, 100);
  check_range("jpeg_min_quality", jpeg_min_quality, 1, 100);
  check_range("low_res", low_res, 0, 1, /*lo_open=*/true);
  check_range("contrast", contrast, 0, 0.9);
  check_range("invert", invert, 0, 1);
}

namespace degrade {

// ----------------------------------------------------------------------------------------------- random

double Random::uniform(double lo, double hi) { return lo + (hi - lo) * (engine_() * (1.0 / 4294967296.0)); }

int Random::integer(int lo, int hi) {
  if (hi <= lo) return lo;
  int v = lo + static_cast<int>(uniform() * (double(hi) - lo + 1));
  return std::min(v, hi);
}

uint64_t Random::bits64() {
  uint64_t hi = engine_();
  return (hi << 32) | engine_();
}

// ------------------------------------------------------------------------------------------- primitives

Warp random_warp(double max_rotate_deg, double max_shear, double max_perspective, Random& r) {
  Warp w;
  w.rotate_deg = r.symmetric(max_rotate_deg);
  w.shear = r.symmetric(max_shear);
  for (auto& c : w.corners)
    c = cv::Point2f(float(r.symmetric(max_perspective)), float(r.symmetric(max_perspective)));
  return w;
}

cv::Mat warp(const cv::Mat& image, const Warp& w) {
  const double W = image.cols, H = image.rows;
  // Perspective: the corners move by their offsets, in units of twice the height on both axes (a
  // share of the width would turn long lines into italics).
  const cv::Point2f src[4] = {{0, 0}, {float(W), 0}, {float(W), float(H)}, {0, float(H)}};
  cv::Point2f dst[4];
  for (int i = 0; i < 4; ++i) dst[i] = src[i] + w.corners[i] * float(2 * H);
  cv::Matx33d persp = cv::Matx33d(cv::getPerspectiveTransform(src, dst));
  // Rotation about the centre, then shear about the middle row.
  const double a = w.rotate_deg * CV_PI / 180.0, cs = std::cos(a), sn = std::sin(a), cx = W / 2, cy = H / 2;
  cv::Matx33d to_centre(1, 0, -cx, 0, 1, -cy, 0, 0, 1), back(1, 0, cx, 0, 1, cy, 0, 0, 1);
  cv::Matx33d rot(cs, -sn, 0, sn, cs, 0, 0, 0, 1), shear(1, w.shear, 0, 0, 1, 0, 0, 0, 1);
  cv::Matx33d m = back * shear * rot * to_centre * persp;
  // Grow the output to the warped corners' bounding box, so no text is cut off.
  double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
  for (const auto& p : src) {
    cv::Vec3d q = m * cv::Vec3d(p.x, p.y, 1);
    double x = q[0] / q[2], y = q[1] / q[2];
    x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y);
  }
  m = cv::Matx33d(1, 0, -x0, 0, 1, -y0, 0, 0, 1) * m;
  cv::Size size(std::max(1, int(std::ceil(x1 - x0))), std::max(1, int(std::ceil(y1 - y0))));
  cv::Mat out;
  cv::warpPerspective(image, out, cv::Mat(m), size, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return out;
}

// Mean colour of the outermost rows and columns: the best guess of the background.
static cv::Scalar border_mean(const cv::Mat& image) {
  cv::Scalar sum = cv::mean(image.row(0)) + cv::mean(image.row(image.rows - 1)) + cv::mean(image.col(0)) +
                   cv::mean(image.col(image.cols - 1));
  return sum * 0.25;
}

cv::Mat pad_and_stretch(const cv::Mat& image, int left, int top, int right, int bottom, double x_scale) {
  cv::Mat out;
  cv::copyMakeBorder(image, out, std::max(0, top), std::max(0, bottom), std::max(0, left), std::max(0, right),
                     cv::BORDER_CONSTANT, border_mean(image));
  int width = std::max(1, int(std::lround(out.cols * x_scale)));
  if (width != out.cols) cv::resize(out, out, cv::Size(width, out.rows), 0, 0, cv::INTER_LINEAR);
  return out;
}

void gaussian_blur(cv::Mat& image, double sigma) {
  if (sigma <= 0.05) return;
  int k = 2 * int(std::ceil(2.5 * sigma)) + 1;
  cv::GaussianBlur(image, image, cv::Size(k, k), sigma, sigma, cv::BORDER_REPLICATE);
}

void motion_blur(cv::Mat& image, double length, double angle_deg) {
  if (length < 1.5) return;
  int k = 2 * int(std::ceil(length / 2)) + 1;
  cv::Mat kernel = cv::Mat::zeros(k, k, CV_32F);
  const double a = angle_deg * CV_PI / 180.0, dx = std::cos(a) * length / 2, dy = std::sin(a) * length / 2;
  const double c = (k - 1) / 2.0;
  // Anti-aliased line, drawn with 4 bits of sub-pixel precision.
  cv::line(kernel, cv::Point(int(std::lround((c - dx) * 16)), int(std::lround((c - dy) * 16))),
           cv::Point(int(std::lround((c + dx) * 16)), int(std::lround((c + dy) * 16))), cv::Scalar(1.0), 1,
           cv::LINE_AA, 4);
  double s = cv::sum(kernel)[0];
  if (s <= 0) return;
  kernel /= s;
  cv::filter2D(image, image, -1, kernel, cv::Point(-1, -1), 0, cv::BORDER_REPLICATE);
}

void add_noise(cv::Mat& image, double stddev, uint64_t seed) {
  if (stddev <= 0) return;
  cv::RNG rng(seed ? seed : 1);  // cv::RNG is deterministic across platforms
  cv::Mat noise(image.size(), CV_16SC(image.channels()));
  rng.fill(noise, cv::RNG::NORMAL, cv::Scalar::all(0), cv::Scalar::all(stddev));
  cv::add(image, noise, image, cv::noArray(), image.type());  // saturating
}

void contrast(cv::Mat& image, double gain, double shift) {
  cv::Scalar m = cv::mean(image);
  double mean = image.channels() == 1 ? m[0] : (m[0] + m[1] + m[2]) / 3;
  image.convertTo(image, -1, gain, mean * (1 - gain) + shift);
}

void illumination(cv::Mat& image, double strength, double angle_deg) {
  if (strength == 0) return;
  const double a = angle_deg * CV_PI / 180.0, ca = std::cos(a), sa = std::sin(a);
  // t in [0, 1] along the gradient direction, split into a column part and a row part.
  const double span = std::abs(ca) * image.cols + std::abs(sa) * image.rows + 1e-6;
  const double t0 = std::min(0.0, ca * image.cols) + std::min(0.0, sa * image.rows);
  std::vector<float> col(image.cols);
  for (int x = 0; x < image.cols; ++x) col[x] = float((ca * x - t0) / span);
  const int ch = image.channels();
  const float s = float(std::abs(strength));
  const bool glare = strength < 0;
  for (int y = 0; y < image.rows; ++y) {
    const float row = float(sa * y / span);
    uint8_t* p = image.ptr<uint8_t>(y);
    for (int x = 0; x < image.cols; ++x) {
      const float t = s * (col[x] + row);
      for (int c = 0; c < ch; ++c, ++p) {
        float v = *p;
        v = glare ? v + (255.f - v) * t : v * (1.f - t);
        *p = cv::saturate_cast<uint8_t>(v);
      }
    }
  }
}

void ink(cv::Mat& image, int kernel, bool thicken) {
  if (kernel < 2) return;
  cv::Scalar m = cv::mean(image);
  const bool dark_ink = (image.channels() == 1 ? m[0] : (m[0] + m[1] + m[2]) / 3) > 127;
  cv::Mat k = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(kernel, kernel));
  // Dark ink grows under erode (local minimum); light ink grows under dilate.
  if (dark_ink == thicken) cv::erode(image, image, k, cv::Point(-1, -1), 1, cv::BORDER_REPLICATE);
  else cv::dilate(image, image, k, cv::Point(-1, -1), 1, cv::BORDER_REPLICATE);
}

void low_resolution(cv::Mat& image, double factor, bool nearest) {
  if (factor >= 1) return;
  cv::Size small(std::max(1, int(std::lround(image.cols * factor))), std::max(1, int(std::lround(image.rows * factor))));
  cv::Mat tmp;
  cv::resize(image, tmp, small, 0, 0, cv::INTER_AREA);
  cv::resize(tmp, image, image.size(), 0, 0, nearest ? cv::INTER_NEAREST : cv::INTER_LINEAR);
}

void jpeg(cv::Mat& image, int quality) {
  std::vector<uint8_t> buf;
  if (!cv::imencode(".jpg", image, buf, {cv::IMWRITE_JPEG_QUALITY, std::clamp(quality, 1, 100)}))
    throw std::runtime_error("augment: JPEG encoding failed");
  image = cv::imdecode(buf, image.channels() == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
  if (image.empty()) throw std::runtime_error("augment: JPEG decoding failed");
}

void invert(cv::Mat& image) { cv::bitwise_not(image, image); }

}  // namespace degrade

// ------------------------------------------------------------------------------------------------ chain

cv::Mat augment(const cv::Mat& image, const AugmentOptions& o, std::mt19937& rng) {
  if (image.empty()) throw std::invalid_argument("augment: empty image");
  if (image.depth() != CV_8U || (image.channels() != 1 && image.channels() != 3))
    throw std::invalid_argument("augment: expected an 8-bit image with 1 or 3 channels, got type " +
                                std::to_string(image.type()));
  degrade::Random r(rng);
  if (!o.enabled || !r.chance(o.probability)) return image.clone();

  const double s = degrade::line_scale(image);  // option sizes are at a 32-pixel line height
  cv::Mat img = image.clone();
  // Order of a camera pipeline: geometry and framing, the print itself, the light, the optics, the
  // sensor, the encoder.
  if (r.chance(0.6) && (o.rotate_deg > 0 || o.shear > 0 || o.perspective > 0))
    img = degrade::warp(img, degrade::random_warp(o.rotate_deg, o.shear, o.perspective, r));
  if (r.chance(0.5) && o.scale_jitter > 0) {
    const double m = o.scale_jitter * img.rows;
    int l = int(r.uniform(0, m)), t = int(r.uniform(0, m)), rt = int(r.uniform(0, m)), b = int(r.uniform(0, m));
    img = degrade::pad_and_stretch(img, l, t, rt, b, 1 + r.symmetric(o.scale_jitter));
  }
  if (r.chance(0.2) && o.blur > 0) {
    const bool thicken = r.chance(0.6);
    const int kernel = thicken ? 2 + (r.uniform(0, o.blur * s) > 1.2 ? 1 : 0) : 2;
    if (thicken || s >= 0.9) degrade::ink(img, kernel, thicken);  // never erode tiny text
  }
  if (r.chance(0.3) && o.contrast > 0) {
    const double strength = r.uniform(0.1, 0.8) * o.contrast;
    degrade::illumination(img, r.chance(0.3) ? -strength : strength, r.uniform(0, 360));
  }
  if (r.chance(0.5) && o.contrast > 0) {
    const double gain = 1 - r.uniform(0, o.contrast);
    degrade::contrast(img, gain, r.symmetric((1 - gain) * 100 + 8));
  }
  if (r.chance(0.35) && o.blur > 0) degrade::gaussian_blur(img, r.uniform(0.3, std::max(0.3, o.blur)) * s);
  if (r.chance(0.1) && o.blur > 0) {
    const double angle = r.chance(0.7) ? r.symmetric(20) : r.uniform(0, 180);
    degrade::motion_blur(img, r.uniform(1.5, 1.5 + 2 * o.blur) * s, angle);
  }
  if (r.chance(0.3) && o.low_res < 1) {
    // Never below 16 pixels of height: the model sees 32, and text under ~8 px is gone.
    const double f = r.uniform(std::max(o.low_res, std::min(1.0, 16.0 / img.rows)), 1.0);
    const bool nearest = r.chance(0.2);
    if (f < 0.95) degrade::low_resolution(img, f, nearest);
  }
  if (r.chance(0.5) && o.noise > 0) {
    const double sd = r.uniform(1, std::max(1.0, o.noise));
    degrade::add_noise(img, sd, r.bits64());
  }
  if (r.chance(0.5) && o.jpeg_min_quality < 100)
    degrade::jpeg(img, r.integer(o.jpeg_min_quality, std::max(o.jpeg_min_quality, 95)));
  if (r.chance(o.invert)) degrade::invert(img);
  return img;
}

}  // namespace ocrkit
