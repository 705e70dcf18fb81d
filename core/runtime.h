// Runtime selection done once per process: device, attention implementation, precision and threads,
// each from config ("auto" or explicit) with the reason logged in one [runtime] line.
#pragma once
#include <torch/torch.h>

#include <string>

#include "core/runtime_request.h"

namespace ocrkit {


struct Runtime {
  torch::Device device = torch::kCPU;
  std::string device_name;          // "cuda:0 (NVIDIA H100 80GB HBM3)"
  std::string attention = "eager";  // what the transformer's attention runs on
  torch::ScalarType dtype = torch::kFloat32;  // autocast dtype on CUDA; fp32 elsewhere
  int threads = 1;
  std::string summary;  // the [runtime] line
};

// Throws std::runtime_error with the reason when an explicit choice cannot be honoured.
Runtime select_runtime(const RuntimeRequest& request);
std::string dtype_name(torch::ScalarType t);

}  // namespace ocrkit
