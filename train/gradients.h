// Gradient clipping for the training loop.
#pragma once
#include <torch/torch.h>

#include <vector>

namespace ocrkit {

// Scales the gradients so that their joint 2-norm is at most max_norm: torch::nn::utils::clip_grad_norm_'s
// arithmetic without its return value, which reads the norm back to the host. That read made the host
// wait for the backward pass before it could enqueue the optimizer's ~700 small kernels, the device idle
// meanwhile.
void clip_gradients(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace ocrkit
