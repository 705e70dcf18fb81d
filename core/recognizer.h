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

struct RecognizerOptions {
  RuntimeRequest runtime;           // device, precision, attention, threads
  int max_batch_pixels = 1 << 21;  // lines are grouped by width into batches up to this many input pixels
  bool use_checkpoint_decode = true;  // decode settings (alphabet, length) from the checkpoint's config
  DecodeOptions decode;            // used when use_checkpoint_decode is false
};

// Where recognition time went (wall seconds on the calling thread, summed over calls): preparing lines
// (resize, normalise), the model (host -> device, forward, device -> host) and decoding.
struct RecognitionTimes {
  double prepare = 0, model = 0, decode = 0;
  int64_t batches = 0;  // model calls
};

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

  const std::string& model_path() const;
  const std::string& runtime_summary() const;  // the [runtime] line
  std::string device_name() const;
  const PreprocessParams& preprocess() const;
  const DecodeOptions& decode_options() const;
  std::string config_yaml() const;
  RecognitionTimes& times();  // accumulated since construction; assign {} to restart

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ocrkit
