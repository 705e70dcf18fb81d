#include "core/torch_compat.h"

#include <ATen/autocast_mode.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <thread>
#if OCRKIT_TORCH_AT_LEAST(2, 0)
#include <ATen/Context.h>
#include <torch/mps.h>
#include <torch/cuda.h>
#endif
#include <ATen/Context.h>
// CUDA builds of libtorch carry the CUDA runtime headers; CPU builds (Debian) ship c10/cuda without them.
// (The allocator's own statistics, getDeviceStats(), corrupted the caller's stack with libtorch 2.11's
// CUDA wheel; only plain functions are used here.)
#if OCRKIT_TORCH_AT_LEAST(2, 0) && __has_include(<cuda_runtime_api.h>)
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#define OCRKIT_CUDA_MEMORY 1
#endif

namespace ocrkit::compat {

std::array<int64_t, 2> conv_padding(const torch::nn::detail::ConvNdOptions<2>& options) {
#if OCRKIT_TORCH_AT_LEAST(2, 1)
  const auto* padding = std::get_if<torch::ExpandingArray<2>>(&options.padding());
#else
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&options.padding());
#endif
  if (!padding) throw std::invalid_argument("convolution padding given by name ('valid', 'same'): explicit padding expected");
  return {(**padding)[0], (**padding)[1]};
}

bool mps_available() {
#if OCRKIT_TORCH_AT_LEAST(2, 0)
  return torch::mps::is_available();
#else
  return at::hasMPS();
#endif
}

void cuda_synchronize() {
#if OCRKIT_TORCH_AT_LEAST(2, 0)
  if (torch::cuda::is_available()) torch::cuda::synchronize();
#endif  // older builds here are CPU-only (Debian): nothing to wait for
}

StreamEvent::StreamEvent(const torch::Device& device) : device_(device), event_(device.type()) {}

void StreamEvent::record() { event_.record(c10::impl::VirtualGuardImpl(device_.type()).getStream(device_)); }

void StreamEvent::wait() const {
#if OCRKIT_TORCH_AT_LEAST(2, 4)
  event_.synchronize();
#else  // no c10::Event::synchronize yet (these builds are CPU-only here)
  while (!event_.query()) std::this_thread::yield();
#endif
}

int64_t cuda_device_bytes_in_use() {
#ifdef OCRKIT_CUDA_MEMORY
  size_t free = 0, total = 0;
  if (!torch::cuda::is_available() || cudaMemGetInfo(&free, &total) != cudaSuccess) return 0;
  return int64_t(total - free);
#else
  return 0;
#endif
}

void cuda_release_cached() {
#ifdef OCRKIT_CUDA_MEMORY
  if (torch::cuda::is_available()) c10::cuda::CUDACachingAllocator::emptyCache();
#endif
}

torch::Tensor sdpa(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, bool flash_only,
                   const torch::Tensor& mask) {
#if OCRKIT_TORCH_AT_LEAST(2, 0)
  if (!flash_only) return at::scaled_dot_product_attention(q, k, v, mask.defined() ? c10::optional<at::Tensor>(mask) : c10::nullopt);
  auto& ctx = at::globalContext();
  // Restrict the dispatcher to the flash kernel for this call, then restore the user's settings.
  const bool mem = ctx.userEnabledMemEfficientSDP(), math = ctx.userEnabledMathSDP();
  ctx.setSDPUseMemEfficient(false);
  ctx.setSDPUseMath(false);
#if OCRKIT_TORCH_AT_LEAST(2, 3)
  const bool cudnn = ctx.userEnabledCuDNNSDP();
  ctx.setSDPUseCuDNN(false);
#endif
  struct Restore {
    std::function<void()> f;
    ~Restore() { f(); }
  } restore{[&] {
    ctx.setSDPUseMemEfficient(mem);
    ctx.setSDPUseMath(math);
#if OCRKIT_TORCH_AT_LEAST(2, 3)
    ctx.setSDPUseCuDNN(cudnn);
#endif
  }};
  return at::scaled_dot_product_attention(q, k, v);
#else
  (void)q; (void)k; (void)v; (void)flash_only; (void)mask;
  TORCH_CHECK(false, "scaled_dot_product_attention needs libtorch >= 2.0 (this is ", torch_version(), ")");
#endif
}

static bool cuda_autocast_enabled() {
#if OCRKIT_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(at::kCUDA);
#else
  return at::autocast::is_enabled();
#endif
}

static void set_cuda_autocast(bool on) {
#if OCRKIT_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(at::kCUDA, on);
#else
  at::autocast::set_enabled(on);
#endif
}

AutocastGuard::AutocastGuard(const torch::Device& device, torch::ScalarType dtype) {
  if (!device.is_cuda() || dtype == torch::kFloat32) return;
  enabled_ = true;
  previous_ = cuda_autocast_enabled();
#if OCRKIT_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_dtype(at::kCUDA, dtype);
#else
  at::autocast::set_autocast_gpu_dtype(dtype);
#endif
  set_cuda_autocast(true);
}

AutocastGuard::~AutocastGuard() {
  if (!enabled_) return;
  set_cuda_autocast(previous_);
  at::autocast::clear_cache();
}

AutocastOff::AutocastOff() : previous_(cuda_autocast_enabled()) { set_cuda_autocast(false); }
AutocastOff::~AutocastOff() { set_cuda_autocast(previous_); }

}  // namespace ocrkit::compat
