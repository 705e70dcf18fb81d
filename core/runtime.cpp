#include "core/runtime.h"

#include <dlfcn.h>

#include <thread>
#if __has_include(<ATen/cuda/CUDAContext.h>) && __has_include(<cuda_runtime_api.h>)
#include <ATen/cuda/CUDAContext.h>
#define OCRKIT_HAVE_CUDA_CONTEXT 1
#endif

#include "core/log.h"
#include "core/torch_compat.h"

namespace ocrkit {

std::string dtype_name(torch::ScalarType t) {
  switch (t) {
    case torch::kBFloat16: return "bf16";
    case torch::kFloat16: return "fp16";
    default: return "fp32";
  }
}

static torch::Device pick_device(const std::string& want, std::string& why) {
  const bool cuda_built = torch::cuda::is_available() || torch::cuda::device_count() > 0;
  if (want == "auto") {
    if (torch::cuda::is_available()) {
      why = "auto: CUDA available";
      return torch::Device(torch::kCUDA, 0);
    }
    if (compat::mps_available()) {
      why = "auto: MPS available";
      return torch::Device(torch::kMPS);
    }
    why = "auto: no CUDA or MPS device";
    return torch::kCPU;
  }
  if (want == "cpu") {
    why = "requested";
    return torch::kCPU;
  }
  if (want == "mps") {
    if (!compat::mps_available())
      throw std::runtime_error("device 'mps' requested but MPS is not available (this libtorch " +
                               compat::torch_version() + " has no MPS support or no Apple GPU is present)");
    why = "requested";
    return torch::Device(torch::kMPS);
  }
  if (want == "cuda" || want.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (want.size() > 5) {
      try {
        index = std::stoi(want.substr(5));
      } catch (const std::exception&) {
        throw std::runtime_error("device '" + want + "': expected cuda:N");
      }
    }
    if (!torch::cuda::is_available()) {
      bool has_cuda_build = torch::hasCUDA();
      throw std::runtime_error(
          "device '" + want + "' requested but CUDA is not available: " +
          (has_cuda_build ? "this libtorch has CUDA support but no CUDA device is visible (driver/CUDA_VISIBLE_DEVICES)"
                          : "this libtorch " + compat::torch_version() + " was built without CUDA") +
          ". Use --device cpu or --device auto.");
    }
    (void)cuda_built;
    if (index < 0 || index >= static_cast<int>(torch::cuda::device_count()))
      throw std::runtime_error("device '" + want + "' requested but only " +
                               std::to_string(torch::cuda::device_count()) + " CUDA device(s) exist");
    why = "requested";
    return torch::Device(torch::kCUDA, index);
  }
  throw std::runtime_error("unknown device '" + want + "' (expected auto, cpu, cuda, cuda:N or mps)");
}

static std::string cuda_name(const torch::Device& d) {
#if OCRKIT_HAVE_CUDA_CONTEXT
  if (d.is_cuda()) return d.str() + " (" + at::cuda::getDeviceProperties(d.index())->name + ")";
#endif
  return d.str();
}

// OpenBLAS reads OPENBLAS_NUM_THREADS when it loads, before main; set it through its API instead, so
// LSTM/linear BLAS calls do not fight libtorch's intra-op threads.
static std::string pin_openblas_threads() {
  using SetThreads = void (*)(int);
  auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (!set) return "";
  set(1);
  return " openblas=1";
}

Runtime select_runtime(const RuntimeRequest& req) {
  Runtime rt;
  std::string device_why;
  rt.device = pick_device(req.device, device_why);
  rt.device_name = cuda_name(rt.device);

  // Precision: bf16 where the hardware has it (CUDA), fp32 otherwise. fp16/bf16 on CPU is refused:
  // it is slower there and the seeds' fp16/bf16 mix-ups start exactly like that.
  std::string dtype_why;
  if (req.precision == "auto") {
    rt.dtype = rt.device.is_cuda() ? torch::kBFloat16 : torch::kFloat32;
    dtype_why = rt.device.is_cuda() ? "auto: CUDA autocast" : "auto: CPU";
  } else if (req.precision == "fp32") {
    rt.dtype = torch::kFloat32;
    dtype_why = "requested";
  } else if (req.precision == "bf16" || req.precision == "fp16") {
    if (!rt.device.is_cuda())
      throw std::runtime_error("precision '" + req.precision + "' needs a CUDA device (device is " + rt.device.str() +
                               "); use --precision fp32 or auto");
    rt.dtype = req.precision == "bf16" ? torch::kBFloat16 : torch::kFloat16;
    dtype_why = "requested";
  } else {
    throw std::runtime_error("unknown precision '" + req.precision + "' (expected auto, fp32, bf16 or fp16)");
  }

  // Attention: flash (CUDA + half precision) > sdpa (libtorch >= 2.0) > eager.
  std::string attn_why;
  const bool flash_ok = compat::kHasSdpa && rt.device.is_cuda() && rt.dtype != torch::kFloat32;
  if (req.attention == "auto") {
    if (flash_ok) { rt.attention = "flash"; attn_why = "auto: CUDA + " + dtype_name(rt.dtype); }
    else if (compat::kHasSdpa) { rt.attention = "sdpa"; attn_why = rt.device.is_cuda() ? "auto: fp32 rules out flash" : "auto: no CUDA"; }
    else { rt.attention = "eager"; attn_why = "auto: libtorch " + compat::torch_version() + " has no SDPA"; }
  } else if (req.attention == "flash") {
    if (!flash_ok)
      throw std::runtime_error("attention 'flash' needs libtorch >= 2.0, a CUDA device and bf16/fp16 precision (have libtorch " +
                               compat::torch_version() + ", device " + rt.device.str() + ", " + dtype_name(rt.dtype) + ")");
    rt.attention = "flash";
    attn_why = "requested";
  } else if (req.attention == "sdpa") {
    if (!compat::kHasSdpa)
      throw std::runtime_error("attention 'sdpa' needs libtorch >= 2.0 (this is " + compat::torch_version() + "); use eager or auto");
    rt.attention = "sdpa";
    attn_why = "requested";
  } else if (req.attention == "eager") {
    rt.attention = "eager";
    attn_why = "requested";
  } else {
    throw std::runtime_error("unknown attention '" + req.attention + "' (expected auto, flash, sdpa or eager)");
  }

  // Threads: libtorch may report 1 on small boxes, so set intra-op threads explicitly. OpenBLAS stays
  // at one thread (set before it starts, see scripts and main) to avoid oversubscription.
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  rt.threads = req.threads > 0 ? req.threads : static_cast<int>(cores);
  torch::set_num_threads(rt.threads);
  std::string threads_why = req.threads > 0 ? "requested" : "auto: " + std::to_string(cores) + " cores";
  threads_why += pin_openblas_threads();

  rt.summary = "device=" + rt.device_name + " (" + device_why + ") attention=" + rt.attention + " (" + attn_why +
               ") dtype=" + dtype_name(rt.dtype) + " (" + dtype_why + ") threads=" + std::to_string(rt.threads) +
               " (" + threads_why + ") libtorch=" + compat::torch_version();
  log_line("runtime", rt.summary);
  return rt;
}

}  // namespace ocrkit
