// Batched recognition with an in-memory model: the one inference path, shared by Recognizer (eval,
// infer) and the trainer's validation.
#pragma once
#include <memory>
#include <opencv2/core.hpp>
#include <vector>

#include "core/charset.h"
#include "core/decode.h"
#include "core/image.h"
#include "core/model.h"
#include "core/recognizer.h"
#include "core/runtime.h"
#include "core/torch_compat.h"

namespace ocrkit {

struct InferenceContext {
  OcrModel model{nullptr};
  Runtime runtime;
  Charset charset;
  PreprocessParams preprocess;
  DecodeOptions decode;
  int max_batch_pixels = kCpuBatchPixels;
  RecognitionTimes times;  // accumulated by recognize_crops
  // Pinned host buffers of the two GPU calls in flight (one is assembled while the other runs).
  struct CallBuffers {
    torch::Tensor input;    // the staged batch (stack_lines)
    torch::Tensor frames;   // int64: each line's frames
    torch::Tensor scores;   // float: each frame's best and blank probability, or every class's
    torch::Tensor classes;  // int64: each frame's best class
    std::shared_ptr<compat::StreamEvent> outputs_back;  // recorded after the copies back to the host
  };
  CallBuffers calls[2];
};

// Whether lines for this context are prepared as bfloat16 (CV_16U bits): a bf16 model on CUDA, whose
// first convolution takes its input in bf16 anyway (the same outputs; half the bytes to assemble and send).
bool stages_bfloat16(const InferenceContext& ctx);

// Preprocesses, groups crops of similar width into batches, runs the model in inference mode and
// decodes; results come back in input order. The model must be in eval() mode.
std::vector<LineResult> recognize_crops(InferenceContext& ctx, const std::vector<cv::Mat>& crops);
// The same for lines already prepared (prepare_for_model with ctx.preprocess).
std::vector<LineResult> recognize_prepared(InferenceContext& ctx, const std::vector<PreparedLine>& lines);

// [N, 1, H, maxW] batch of prepared lines (zero = background padding), pinned when `pin` is set; in
// *staging (grown when too small; the copy then runs on the intra-op threads) when given, else in new
// memory on the calling thread.
// At least min_count rows (blank ones after the lines) and min_width columns. `dtype` (float32,
// bfloat16 or float16) is the batch's element type: a model whose first layer runs under autocast casts
// its input to the autocast type anyway, so a batch staged in that type gives the same outputs from
// half the bytes to copy and to send.
torch::Tensor stack_lines(const std::vector<cv::Mat>& prepared, bool pin, torch::Tensor* staging = nullptr,
                          int64_t min_count = 0, int64_t min_width = 0, torch::ScalarType dtype = torch::kFloat32);

}  // namespace ocrkit
