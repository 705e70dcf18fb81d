#include "core/recognizer.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <type_traits>
#include <numeric>
#include <optional>

#include "core/checkpoint.h"
#include "core/inference.h"
#include "core/log.h"
#include "core/torch_compat.h"

namespace ocrkit {

namespace {
// A view of `shape` into `buffer`, which is (re)made with `options` when it is too small or of another type
// and otherwise reused (grown, never shrunk).
torch::Tensor reused_view(torch::Tensor& buffer, at::IntArrayRef shape, const torch::TensorOptions& options) {
  const int64_t numel = c10::multiply_integers(shape);
  if (!buffer.defined() || buffer.dtype() != options.dtype() || buffer.numel() < numel)
    buffer = torch::empty({numel * 3 / 2 + 1}, options);
  return buffer.narrow(0, 0, numel).view(shape);
}

// Rows of `prepared` into base[n][h][w] of element type T (rounded to nearest even, as .to() does).
template <class T>
void copy_lines(const std::vector<cv::Mat>& prepared, T* base, int64_t begin, int64_t end, int64_t h, int64_t w) {
  const cv::Mat blank;  // rows beyond the lines
  for (int64_t i = begin; i < end; ++i) {
    const cv::Mat& m = i < int64_t(prepared.size()) ? prepared[size_t(i)] : blank;
    for (int y = 0; y < h; ++y) {
      T* row = base + (i * h + y) * w;
      const int cols = y < m.rows ? m.cols : 0;
      if (cols && (std::is_same_v<T, float> || m.type() == CV_16U)) {  // already of type T (checked)
        std::memcpy(row, m.ptr(y), sizeof(T) * size_t(cols));
      } else if (cols) {
        const float* src = m.ptr<float>(y);
        for (int x = 0; x < cols; ++x) row[x] = T(src[x]);
      }
      std::fill(row + cols, row + w, T(0.0f));  // padding = background
    }
  }
}
}  // namespace

torch::Tensor stack_lines(const std::vector<cv::Mat>& prepared, bool pin, torch::Tensor* staging, int64_t min_count,
                          int64_t min_width, torch::ScalarType dtype) {
  const int64_t n = std::max<int64_t>(int64_t(prepared.size()), min_count), h = prepared.empty() ? 0 : prepared[0].rows;
  int64_t w = min_width;
  for (const auto& m : prepared) {
    w = std::max<int64_t>(w, m.cols);
    if (m.type() != CV_32F && !(m.type() == CV_16U && dtype == torch::kBFloat16))
      throw std::invalid_argument("stack_lines: lines are CV_32F, or bfloat16 bits (CV_16U) for a bfloat16 batch");
  }
  const auto options = torch::TensorOptions().dtype(dtype).pinned_memory(pin);
  // Reuse one buffer across calls: pinning fresh host memory for every batch costs more than the copy.
  torch::Tensor batch = staging ? reused_view(*staging, {n, 1, h, w}, options) : torch::empty({n, 1, h, w}, options);
  auto copy = [&](int64_t begin, int64_t end) {
    switch (dtype) {
      case torch::kFloat32: return copy_lines(prepared, batch.data_ptr<float>(), begin, end, h, w);
      case torch::kBFloat16: return copy_lines(prepared, batch.data_ptr<at::BFloat16>(), begin, end, h, w);
      case torch::kFloat16: return copy_lines(prepared, batch.data_ptr<at::Half>(), begin, end, h, w);
      default: throw std::invalid_argument("stack_lines: float32, bfloat16 or float16 batches only");
    }
  };
  // The recognizer's batches (staged) spread the copy over the intra-op threads; the training loader
  // calls this from its own worker threads, which are the parallelism there.
  if (staging) at::parallel_for(0, n, 8, copy);
  else copy(0, n);
  return batch;
}

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// v rounded up to one of `per_octave` sizes per octave (multiples of `step` at least).
int64_t shape_bucket(int64_t v, int64_t step, int64_t per_octave = 4) {
  int64_t octave = 1;
  while (octave * 2 <= v) octave *= 2;
  step = std::max<int64_t>(step, octave / per_octave);
  return (v + step - 1) / step * step;
}

// One model call: the lines at order[start, end) and each frame's scores for them, on the host once
// outputs_back (CUDA) is reached: [2, N, T] best and blank probability with [N, T] best class, or
// [N, T, C] every class's probability.
struct ModelCall {
  size_t start = 0, end = 0;
  torch::Tensor scores, classes;
  const compat::StreamEvent* outputs_back = nullptr;
};
}  // namespace

PreparedLine prepare_for_model(const cv::Mat& crop, const PreprocessParams& params, bool bfloat16) {
  PreparedLine line;
  line.input = prepare_line(crop, params, &line.content_width, bfloat16);
  line.source_width = crop.cols;
  return line;
}

bool stages_bfloat16(const InferenceContext& ctx) {
  return ctx.runtime.device.is_cuda() && ctx.runtime.dtype == torch::kBFloat16;
}

std::vector<LineResult> recognize_crops(InferenceContext& ctx, const std::vector<cv::Mat>& crops) {
  std::vector<PreparedLine> prepared(crops.size());
  auto t0 = std::chrono::steady_clock::now();
  // Preparing lines is per-line CPU work: spread over the intra-op threads, or a GPU waits for one
  // core (a page's ~60 lines are ~60 ms of resizing on one thread).
  at::parallel_for(0, int64_t(crops.size()), 16, [&](int64_t begin, int64_t end) {
    for (auto i = size_t(begin); i < size_t(end); ++i) prepared[i] = prepare_for_model(crops[i], ctx.preprocess, stages_bfloat16(ctx));
  });
  ctx.times.prepare += seconds_since(t0);
  return recognize_prepared(ctx, prepared);
}

std::vector<LineResult> recognize_prepared(InferenceContext& ctx, const std::vector<PreparedLine>& prepared) {
  const size_t n = prepared.size();
  std::vector<LineResult> results(n);
  if (n == 0) return results;
  const int line_type = stages_bfloat16(ctx) ? CV_16U : CV_32F;
  for (const auto& p : prepared)
    if (p.input.type() != line_type || p.input.rows != ctx.preprocess.height)
      throw std::invalid_argument("recognize: a line was not prepared for this model (expected " +
                                  std::to_string(ctx.preprocess.height) + " rows of " +
                                  (line_type == CV_16U ? "bfloat16" : "float") + ")");
  // Sort by width so each batch pads little; results are written back by index.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return prepared[a].input.cols < prepared[b].input.cols; });
  c10::InferenceMode inference;
  const bool gpu = ctx.runtime.device.is_cuda();
  // Greedy decoding reduces each frame to its best allowed class on the device (see ctc_decode_best).
  const bool frame_best = !decode_needs_all_classes(ctx.decode);
  const std::vector<char> allowed = allowed_classes(ctx.charset, ctx.decode.alphabet, ctx.charset.num_classes());
  torch::Tensor disallowed;  // [C] bool, undefined when every class is allowed
  if (frame_best && std::count(allowed.begin(), allowed.end(), 0) > 0)
    disallowed = torch::tensor(std::vector<uint8_t>(allowed.begin(), allowed.end()), torch::kUInt8)
                     .logical_not()
                     .to(ctx.runtime.device);
  // On CUDA each new input shape costs cuDNN new execution plans (milliseconds per convolution) and
  // no two batches would share one: line count and width are rounded up to a few sizes per octave so
  // shapes repeat (blank rows and columns, padding as in training batches).
  // On CUDA with autocast the first convolution takes the input in the autocast type: staged in it.
  // bf16 lines come prepared in it (stages_bfloat16).
  const torch::ScalarType staged_type =
      gpu && (ctx.runtime.dtype == torch::kBFloat16 || ctx.runtime.dtype == torch::kFloat16) ? ctx.runtime.dtype : torch::kFloat32;
  const auto pinned = torch::TensorOptions().pinned_memory(true);  // host buffers the device copies from and to
  auto padded_width = [&](size_t k) { return gpu ? shape_bucket(prepared[order[k]].input.cols, 32) : prepared[order[k]].input.cols; };

  // Stacks lines order[start, end), sends them and enqueues the model and the copies back; on CUDA it
  // returns before the device is done, with `buffers` in use until call.outputs_back is reached.
  auto launch = [&](size_t start, size_t end, InferenceContext::CallBuffers& buffers) {
    ModelCall call{start, end};
    std::vector<cv::Mat> group;
    for (size_t k = start; k < end; ++k) group.push_back(prepared[order[k]].input);
    auto t0 = std::chrono::steady_clock::now();
    // Pinned buffers are made once, at the largest size the pixel budget allows (up to the default
    // budget; larger ones still grow): grown call by call, each step cost 15-75 ms (pinning fresh host
    // memory) in the first batches of a run.
    if (gpu && !buffers.input.defined()) {
      const int64_t budget = std::min<int64_t>(ctx.max_batch_pixels, kGpuBatchPixels);
      buffers.input = torch::empty({budget}, pinned.dtype(staged_type));
      if (frame_best) {
        // Frames of a call: its lines' pixels / (height * stride), doubled as line counts round up to 2x.
        const int64_t frames = 2 * budget / (ctx.preprocess.height * OcrModelImpl::kStride);
        buffers.scores = torch::empty({2 * frames}, pinned.dtype(torch::kFloat32));
        buffers.classes = torch::empty({frames}, pinned.dtype(torch::kLong));
      }
    }
    compat::AutocastGuard autocast(ctx.runtime.device, ctx.runtime.dtype);
    const int64_t lines = int64_t(group.size());
    auto x = stack_lines(group, gpu, gpu ? &buffers.input : nullptr, 0, padded_width(end - 1), staged_type);
    // Line counts on CUDA are powers of two (each new shape costs cuDNN plans, ~4 ms per convolution on
    // an H100): the blank rows are added on the device, so they cost neither stacking nor sending.
    const int64_t count = gpu ? shape_bucket(lines, 8, 1) : lines;
    // Each line's own frames, as the trainer counts them (1 for blank rows).
    auto frames = gpu ? reused_view(buffers.frames, {count}, pinned.dtype(torch::kLong)) : torch::empty({count}, torch::kLong);
    int64_t* line_frames = frames.data_ptr<int64_t>();
    for (int64_t r = 0; r < count; ++r) line_frames[r] = r < lines ? group[size_t(r)].cols / OcrModelImpl::kStride : 1;
    ctx.times.stack += seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    if (gpu) {
      auto on_device = torch::empty({count, x.size(1), x.size(2), x.size(3)}, x.options().device(ctx.runtime.device).pinned_memory(false));
      on_device.narrow(0, 0, lines).copy_(x, /*non_blocking=*/true);
      if (count > lines) on_device.narrow(0, lines, count - lines).zero_();
      x = on_device;
    }
    auto probs = torch::softmax(ctx.model->forward(x, frames.to(ctx.runtime.device, /*non_blocking=*/gpu)).to(torch::kFloat32), -1);
    require_charset_classes(int(probs.size(2)), ctx.charset);
    torch::Tensor scores = probs, classes;
    if (frame_best) {
      auto candidates = disallowed.defined() ? probs.masked_fill(disallowed, -1.0f) : probs;
      auto best = candidates.max(-1);  // [N, T] probability and class
      scores = torch::stack({std::get<0>(best), probs.select(-1, 0)});
      classes = std::get<1>(best);
    }
    if (gpu) {
      call.scores = reused_view(buffers.scores, scores.sizes(), pinned.dtype(torch::kFloat32)).copy_(scores, /*non_blocking=*/true);
      if (classes.defined())
        call.classes = reused_view(buffers.classes, classes.sizes(), pinned.dtype(torch::kLong)).copy_(classes, /*non_blocking=*/true);
      if (!buffers.outputs_back) buffers.outputs_back = std::make_shared<compat::StreamEvent>(ctx.runtime.device);
      buffers.outputs_back->record();
      call.outputs_back = buffers.outputs_back.get();
    } else {
      call.scores = scores.contiguous();
      if (classes.defined()) call.classes = classes.contiguous();
    }
    ctx.times.model += seconds_since(t0);
    ++ctx.times.batches;
    return call;
  };

  // Waits for a call's outputs and decodes its lines into `results`.
  auto finish = [&](const ModelCall& call) {
    auto t0 = std::chrono::steady_clock::now();
    if (call.outputs_back) call.outputs_back->wait();
    ctx.times.model += seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const int64_t frames = frame_best ? call.scores.size(2) : call.scores.size(1);
    const int64_t lines = frame_best ? call.scores.size(1) : call.scores.size(0), classes = call.scores.size(-1);
    at::parallel_for(int64_t(call.start), int64_t(call.end), 8, [&](int64_t first, int64_t last) {
      for (size_t k = size_t(first); k < size_t(last); ++k) {
        const size_t i = order[k];
        const int64_t used = std::min<int64_t>(frames, prepared[i].input.cols / OcrModelImpl::kStride);
        const int64_t row = int64_t(k - call.start);
        Decoded d;
        if (frame_best) {
          const float* best_prob = call.scores.data_ptr<float>() + row * frames;
          d = ctc_decode_best(call.classes.data_ptr<int64_t>() + row * frames, best_prob, best_prob + lines * frames,
                              int(used), ctx.charset);
        } else {
          d = ctc_decode(call.scores.data_ptr<float>() + row * frames * classes, int(used), int(classes), ctx.charset, ctx.decode);
        }
        LineResult& r = results[i];
        r.text = d.text;
        r.confidence = d.confidence;
        r.chars = d.chars;
        r.char_conf = d.char_conf;
        // Frame centre -> column in the prepared line -> column in the original crop.
        const double scale = double(prepared[i].source_width) / std::max(1, prepared[i].content_width);
        for (int f : d.char_frame)
          r.char_x.push_back(float(std::min<double>(prepared[i].source_width, (f + 0.5) * OcrModelImpl::kStride * scale)));
      }
    });
    ctx.times.decode += seconds_since(t0);
  };

  // Two calls in flight on CUDA: while the device runs one, this thread decodes the one before and
  // stacks the next. A call's buffers are reused two calls later, after its outputs came back.
  std::optional<ModelCall> running;
  int slot = 0;
  try {
    for (size_t start = 0; start < n;) {
      // Grow the batch while its padded size stays within the pixel budget (widest item last) and the
      // widest item is at most 2x the narrowest (+32 px): the models were trained on batches of similar
      // widths, and a short line padded to many times its width reads as garbage (on 30 held-out pages,
      // median page CER 1.37% at 2x, 1.40% at 1.5x, 1.71% at 1.25x, 1.68% unlimited).
      size_t end = start + 1;
      const int64_t narrowest = prepared[order[start]].input.cols, max_cols = std::max<int64_t>(narrowest * 2, narrowest + 32);
      while (end < n && padded_width(end) <= max_cols &&
             int64_t(end - start + 1) * padded_width(end) * ctx.preprocess.height <= ctx.max_batch_pixels)
        ++end;
      ModelCall call = launch(start, end, ctx.calls[slot]);
      if (running) finish(*running);
      running = std::move(call);
      slot ^= 1;
      start = end;
    }
    if (running) finish(*running);
  } catch (...) {
    // The device may still be reading or writing this context's pinned buffers.
    if (gpu) compat::cuda_synchronize();
    throw;
  }
  return results;
}

struct Recognizer::Impl {
  std::string path;
  InferenceContext ctx;
  std::string config_yaml;
};

Recognizer::Recognizer(const std::string& checkpoint_path, const RecognizerOptions& options)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = checkpoint_path;
  Runtime rt = select_runtime(options.runtime);
  Checkpoint ck = load_checkpoint(checkpoint_path, rt.device);
  ck.model->eval();
  ck.model->fuse_batchnorm();
  ck.model->set_attention(rt.attention);
  // On CUDA the backbone's dense convolutions run as matrix products: cuDNN builds execution plans for
  // every new input shape (4-9 ms per convolution per shape on an H100), and batch shapes vary.
  if (rt.device.is_cuda()) ck.model->set_convolutions_as_matmuls(true);
  impl_->ctx.model = ck.model;
  impl_->ctx.runtime = rt;
  impl_->ctx.charset = ck.charset;
  impl_->ctx.preprocess = ck.preprocess;
  impl_->ctx.decode = options.use_checkpoint_decode ? DecodeOptions::from_config(ck.config) : options.decode;
  impl_->ctx.max_batch_pixels =
      options.max_batch_pixels > 0 ? options.max_batch_pixels : rt.device.is_cpu() ? kCpuBatchPixels : kGpuBatchPixels;
  impl_->config_yaml = ck.config.dump();
  log_line("model", checkpoint_path + ": " + ck.config.get_string("model.arch") + ", " +
                        std::to_string(ck.charset.num_classes() - 1) + " characters, height " +
                        std::to_string(ck.preprocess.height) + ", decode " + impl_->ctx.decode.method);
  if (rt.device.is_cuda()) {
    // The first call loads CUDA kernels and creates the cuDNN and cuBLAS handles (0.3-0.4 s on an H100):
    // paid here, with loading the model, not by the first pages.
    const auto t0 = std::chrono::steady_clock::now();
    PreparedLine blank;
    blank.input = cv::Mat::zeros(ck.preprocess.height, 64, stages_bfloat16(impl_->ctx) ? CV_16U : CV_32F);
    blank.content_width = blank.source_width = blank.input.cols;
    recognize_prepared(impl_->ctx, {blank});
    impl_->ctx.times = {};
    log_line("model", "first CUDA call (kernels, library handles): " + std::to_string(int(1e3 * seconds_since(t0))) + " ms");
  }
}

Recognizer::~Recognizer() = default;

std::vector<LineResult> Recognizer::recognize(const std::vector<cv::Mat>& crops) {
  return recognize_crops(impl_->ctx, crops);
}

PreparedLine Recognizer::prepare(const cv::Mat& crop) const {
  return prepare_for_model(crop, impl_->ctx.preprocess, stages_bfloat16(impl_->ctx));
}

std::vector<LineResult> Recognizer::recognize(const std::vector<PreparedLine>& lines) {
  return recognize_prepared(impl_->ctx, lines);
}

const std::string& Recognizer::model_path() const { return impl_->path; }
const std::string& Recognizer::runtime_summary() const { return impl_->ctx.runtime.summary; }
std::string Recognizer::device_name() const { return impl_->ctx.runtime.device_name; }
bool Recognizer::on_cuda() const { return impl_->ctx.runtime.device.is_cuda(); }
const PreprocessParams& Recognizer::preprocess() const { return impl_->ctx.preprocess; }
const DecodeOptions& Recognizer::decode_options() const { return impl_->ctx.decode; }
std::string Recognizer::config_yaml() const { return impl_->config_yaml; }
RecognitionTimes& Recognizer::times() { return impl_->ctx.times; }

}  // namespace ocrkit
