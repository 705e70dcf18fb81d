// The inference entry point used by eval and infer: a checkpoint plus a runtime, recognising batches of
// line crops through the checkpoint's own preprocessing. Torch stays behind the pimpl, so callers
// compile without libtorch headers.
#pragma once
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/decode.h"
#include "core/image.h"
#include "core/runtime_request.h"

namespace ocrkit {

// Input pixels per model call by device: CPU 2 M (cache-sized), GPU 32 M (each call costs ~1 ms of
// launches and copies however small it is).
inline constexpr int kCpuBatchPixels = 1 << 21, kGpuBatchPixels = 1 << 25;

struct RecognizerOptions {
  RuntimeRequest runtime;           // device, precision, attention, threads
  // Lines are grouped by width into model calls of up to this many input pixels; 0 = by device
  // (kCpuBatchPixels, kGpuBatchPixels).
  int max_batch_pixels = 0;
  bool use_checkpoint_decode = true;  // decode settings (alphabet, length) from the checkpoint's config
  DecodeOptions decode;            // used when use_checkpoint_decode is false
};

// Where recognition time went (wall seconds on the calling thread, summed over calls): preparing lines
// (resize, normalise), stacking them into batches, the model (host -> device, forward, device -> host)
// and decoding.
struct RecognitionTimes {
  double prepare = 0, stack = 0, model = 0, decode = 0;
  int64_t batches = 0;  // model calls
};

// A line crop turned into the model's input (prepare_line): the checkpoint's height, ink = 1, padded.
struct PreparedLine {
  cv::Mat input;           // CV_32F, or bfloat16 bits in CV_16U for a bf16 model on a GPU
  int content_width = 0;   // columns of `input` holding the crop (the rest is padding)
  int source_width = 0;    // the crop's own width (character positions are mapped back to it)
};
PreparedLine prepare_for_model(const cv::Mat& crop, const PreprocessParams& params, bool bfloat16 = false);

struct LineResult {
  std::string text;
  float confidence = 0;
  std::vector<std::string> chars;
  std::vector<float> char_conf;
  // Horizontal centre of each character in the input crop's pixel coordinates (for word boxes).
  std::vector<float> char_x;
};

class Recognizer {
 public:
  Recognizer(const std::string& checkpoint_path, const RecognizerOptions& options = {});
  ~Recognizer();
  Recognizer(const Recognizer&) = delete;
  Recognizer& operator=(const Recognizer&) = delete;

  // Any number of crops of any size (gray or colour); results in input order. Thread-compatible:
  // call from one thread at a time.
  std::vector<LineResult> recognize(const std::vector<cv::Mat>& crops);
  // The same in two steps: prepare() is const and thread-safe (callers spread it over their threads),
  // recognize() batches prepared lines.
  PreparedLine prepare(const cv::Mat& crop) const;
  std::vector<LineResult> recognize(const std::vector<PreparedLine>& lines);

  const std::string& model_path() const;
  const std::string& runtime_summary() const;  // the [runtime] line
  std::string device_name() const;
  bool on_cuda() const;  // the model runs on a CUDA device (fed by the calling thread)
  const PreprocessParams& preprocess() const;
  const DecodeOptions& decode_options() const;
  std::string config_yaml() const;
  RecognitionTimes& times();  // accumulated since construction; assign {} to restart

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ocrkit
