// CTC line recognizers. Input [N, 1, H, W] float (ink = 1), output logits [N, T, C] with T = W / 4.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace ocrkit {

class Config;

struct ModelOptions {
  std::string arch = "crnn";  // crnn | transformer
  std::vector<int64_t> channels{32, 64, 128, 256};
  bool depthwise = false;
  std::string downsample = "pool";  // pool (conv, then max-pool) | stride (strided convolutions)
  int64_t hidden = 128, layers = 2, heads = 4, ffn = 512;
  bool mask_padding = false;  // transformer: keys beyond each line's own frames are masked out
  int64_t height = 32;
  int64_t num_classes = 2;
  static ModelOptions from_config(const Config& config, int64_t num_classes);
};

// Multi-head self-attention whose core runs on the selected implementation (eager / sdpa / flash).
// libtorch's nn::MultiheadAttention breaks under bf16 autocast, hence this module.
class SelfAttentionImpl : public torch::nn::Module {
 public:
  SelfAttentionImpl(int64_t dim, int64_t heads);
  // x [N, T, D]; key_mask (optional) [N, 1, 1, T] bool, true where a key may be attended to.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& key_mask = {});
  std::string attention = "eager";

 private:
  int64_t heads_;
  torch::nn::Linear qkv_{nullptr}, out_{nullptr};
};
TORCH_MODULE(SelfAttention);

// The attention core alone, exposed for the cross-implementation agreement tests. `key_mask`
// (optional, broadcastable to [N, heads, T, T], bool) keeps the keys where it is true; flash kernels take
// no masks, so a masked "flash" call runs on the fused kernels that do (memory-efficient / cuDNN).
torch::Tensor attention_core(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const std::string& implementation, const torch::Tensor& key_mask = {});

// conv(x) as a batched matrix product: the weights [out, in*kh*kw] times the im2col columns of each
// image (the image itself for a 1x1 convolution). Ungrouped convolutions with explicit padding only.
torch::Tensor conv_as_matmul(const torch::Tensor& x, const torch::nn::Conv2dImpl& conv);

class OcrModelImpl : public torch::nn::Module {
 public:
  explicit OcrModelImpl(const ModelOptions& options);
  // frames (optional, int64 [N]): each line's own frame count (its prepared width / kStride); with
  // options().mask_padding the attention ignores the frames beyond it, so padding does not change a read.
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& frames = {});
  void set_attention(const std::string& implementation);
  // Inference only: folds every BatchNorm into the convolution before it (one pass less per stage).
  // The model must be in eval mode and is not meant to be trained or saved afterwards.
  void fuse_batchnorm();
  // Inference only: the backbone's dense convolutions run as matrix products (im2col columns, or the
  // input itself for 1x1); depthwise ones stay convolutions. On CUDA, cuDNN builds execution plans for
  // each new input shape (4-9 ms per convolution on an H100); matrix products reuse cuBLAS kernels
  // across shapes. Same results up to rounding.
  void set_convolutions_as_matmuls(bool on) { convolutions_as_matmuls_ = on; }
  // Frames per input pixel column: T = W / stride.
  static constexpr int64_t kStride = 4;
  const ModelOptions& options() const { return options_; }
  // Parameter groups for freezing: "backbone" (convolutions), "sequence" (LSTM/transformer), "head".
  std::vector<torch::Tensor> parameters_of(const std::string& part);

 private:
  torch::Tensor backbone_forward(torch::Tensor x);
  ModelOptions options_;
  bool convolutions_as_matmuls_ = false;
  torch::nn::Sequential backbone_{nullptr};
  torch::nn::LSTM lstm_{nullptr};
  torch::nn::Linear proj_{nullptr};
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::LayerNorm final_norm_{nullptr};
  torch::nn::Linear head_{nullptr};
};
TORCH_MODULE(OcrModel);

}  // namespace ocrkit
