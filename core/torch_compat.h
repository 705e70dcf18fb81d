// The one place that knows libtorch versions apart: Debian's 1.13 (CPU) and the GPU host's 2.x.
#pragma once
#include <torch/torch.h>
#include <torch/version.h>
#include <c10/core/Event.h>

#include <array>
#include <string>

#define OCRKIT_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace ocrkit::compat {

inline std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

// Public scaled_dot_product_attention arrived in 2.0.
constexpr bool kHasSdpa = OCRKIT_TORCH_AT_LEAST(2, 0);

// A convolution's explicit padding; its options hold a variant (c10's before libtorch 2.1, std's
// since). Throws for padding given by name ('valid', 'same').
std::array<int64_t, 2> conv_padding(const torch::nn::detail::ConvNdOptions<2>& options);

bool mps_available();
void cuda_synchronize();
// Device memory in use on the current CUDA device (cudaMemGetInfo: total - free, every process); 0 when
// CUDA is unavailable or this libtorch has no CUDA headers (Debian's 1.13 CPU build).
int64_t cuda_device_bytes_in_use();
// Returns the CUDA caching allocator's unused blocks to the device. Call only once CUDA is in use.
void cuda_release_cached();
// Runs SDPA; flash_only restricts it to the flash kernel (errors instead of silently using another one).
// `mask` (optional, bool, true = attend) is passed through as SDPA's attn_mask.
torch::Tensor sdpa(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, bool flash_only,
                   const torch::Tensor& mask = {});

// An event on a device's current stream: wait() blocks the host until the work enqueued before record()
// is done, not the work enqueued after it (so the host can prepare the next call meanwhile).
class StreamEvent {
 public:
  explicit StreamEvent(const torch::Device& device);
  void record();
  void wait() const;

 private:
  torch::Device device_;
  c10::Event event_;
};

// RAII autocast on CUDA for `dtype` (bf16 or fp16); a no-op for fp32 or on CPU.
class AutocastGuard {
 public:
  AutocastGuard(const torch::Device& device, torch::ScalarType dtype);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool enabled_ = false;
  bool previous_ = false;
};

// Disables autocast in a scope (LSTMs run in fp32 inside a bf16 model).
class AutocastOff {
 public:
  AutocastOff();
  ~AutocastOff();

 private:
  bool previous_;
};

}  // namespace ocrkit::compat
