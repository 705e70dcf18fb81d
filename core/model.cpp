#include "core/model.h"

#include <cmath>
#include <limits>

#include "core/config.h"
#include "core/torch_compat.h"

namespace ocrkit {

namespace nn = torch::nn;

ModelOptions ModelOptions::from_config(const Config& c, int64_t num_classes) {
  ModelOptions o;
  o.arch = c.get_choice("model.arch", {"crnn", "transformer"});
  o.channels.clear();
  for (double v : c.get_doubles("model.channels")) o.channels.push_back(static_cast<int64_t>(v));
  o.depthwise = c.get_bool("model.depthwise");
  o.downsample = c.get_choice("model.downsample", {"pool", "stride"});
  o.hidden = c.get_int("model.hidden");
  o.layers = c.get_int("model.layers");
  o.heads = c.get_int("model.heads");
  o.ffn = c.get_int("model.ffn");
  o.mask_padding = c.get_bool("model.mask_padding");
  o.height = c.get_int("preprocess.height");
  o.num_classes = num_classes;
  if (o.channels.size() != 4) throw ConfigError("config key 'model.channels' must list 4 stage widths");
  for (auto ch : o.channels)
    if (ch < 1) throw ConfigError("config key 'model.channels' must be positive");
  if (o.height % 16 != 0) throw ConfigError("config key 'preprocess.height' must be a multiple of 16 (the backbone halves it 4 times)");
  if (o.hidden < 1 || o.layers < 1) throw ConfigError("config keys 'model.hidden' and 'model.layers' must be >= 1");
  if (o.arch == "transformer" && (o.heads < 1 || o.hidden % o.heads != 0))
    throw ConfigError("config key 'model.heads' must divide 'model.hidden'");
  return o;
}

namespace {

// Appends conv3x3 + BN + ReLU; depthwise-separable (3x3 per channel, then 1x1) when asked and in != 1.
// The stride applies to the 3x3 convolution.
void conv_bn_relu(nn::Sequential& s, int64_t in, int64_t out, bool depthwise, torch::ExpandingArray<2> stride = 1) {
  if (depthwise && in > 1) {
    s->push_back(nn::Conv2d(nn::Conv2dOptions(in, in, 3).padding(1).stride(stride).groups(in).bias(false)));
    s->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 1).bias(false)));
  } else {
    s->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1).stride(stride).bias(false)));
  }
  s->push_back(nn::BatchNorm2d(out));
  s->push_back(nn::ReLU(nn::ReLUOptions(true)));
}

class TransformerBlockImpl : public nn::Module {
 public:
  TransformerBlockImpl(int64_t dim, int64_t heads, int64_t ffn)
      : ln1(register_module("ln1", nn::LayerNorm(nn::LayerNormOptions({dim})))),
        attn(register_module("attn", SelfAttention(dim, heads))),
        ln2(register_module("ln2", nn::LayerNorm(nn::LayerNormOptions({dim})))),
        fc1(register_module("fc1", nn::Linear(dim, ffn))),
        fc2(register_module("fc2", nn::Linear(ffn, dim))) {}
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& key_mask) {
    x = x + attn(ln1(x), key_mask);
    return x + fc2(torch::gelu(fc1(ln2(x))));
  }
  nn::LayerNorm ln1;
  SelfAttention attn;
  nn::LayerNorm ln2;
  nn::Linear fc1, fc2;
};
TORCH_MODULE(TransformerBlock);

torch::Tensor sinusoidal_positions(int64_t length, int64_t dim, const torch::TensorOptions& opts) {
  auto pos = torch::arange(length, opts.dtype(torch::kFloat32)).unsqueeze(1);
  auto i = torch::arange(0, dim, 2, opts.dtype(torch::kFloat32));
  auto freq = torch::exp(i * (-std::log(10000.0) / dim));
  auto pe = torch::zeros({length, dim}, opts.dtype(torch::kFloat32));
  pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)}, torch::sin(pos * freq));
  pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, torch::indexing::None, 2)},
                torch::cos(pos * freq).narrow(1, 0, dim / 2));
  return pe;
}

}  // namespace

torch::Tensor attention_core(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const std::string& implementation, const torch::Tensor& key_mask) {
  if (implementation == "sdpa" || implementation == "flash")
    return compat::sdpa(q, k, v, implementation == "flash" && !key_mask.defined(), key_mask);
  auto scores = torch::matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(double(q.size(-1))));
  if (key_mask.defined()) scores = scores.masked_fill(key_mask.logical_not(), -std::numeric_limits<float>::infinity());
  return torch::matmul(torch::softmax(scores, -1).to(v.scalar_type()), v);
}

torch::Tensor conv_as_matmul(const torch::Tensor& x, const nn::Conv2dImpl& conv) {
  const auto& o = conv.options;
  if (o.groups() != 1) throw std::logic_error("conv_as_matmul: ungrouped convolutions only");
  const auto k = *o.kernel_size(), s = *o.stride(), d = *o.dilation();
  const auto p = compat::conv_padding(o);
  const int64_t out = conv.weight.size(0);
  int64_t size[2];
  for (int i = 0; i < 2; ++i) size[i] = (x.size(2 + i) + 2 * p[i] - d[i] * (k[i] - 1) - 1) / s[i] + 1;
  const bool pointwise = k[0] == 1 && k[1] == 1 && s[0] == 1 && s[1] == 1 && p[0] == 0 && p[1] == 0;
  torch::Tensor columns;  // N, in * k0 * k1, H'*W'
  if (pointwise) {
    columns = x.flatten(2);
  } else {
    // im2col as one strided view of the padded input, copied once. (nn::functional::unfold on CUDA
    // launches one kernel per batch item: ~10 us of host time per line, most of a 4,096-line call.)
    auto padded = (p[0] || p[1]) ? torch::constant_pad_nd(x, {p[1], p[1], p[0], p[0]}) : x.contiguous();
    const auto st = padded.strides();
    columns = padded
                  .as_strided({x.size(0), x.size(1), k[0], k[1], size[0], size[1]},
                              {st[0], st[1], d[0] * st[2], d[1] * st[3], s[0] * st[2], s[1] * st[3]}, padded.storage_offset())
                  .reshape({x.size(0), -1, size[0] * size[1]});
  }
  auto y = torch::matmul(conv.weight.view({out, -1}), columns);  // N, out, H'*W'
  if (conv.bias.defined()) y.add_(conv.bias.view({1, out, 1}).to(y.scalar_type()));
  return y.view({x.size(0), out, size[0], size[1]});
}

SelfAttentionImpl::SelfAttentionImpl(int64_t dim, int64_t heads) : heads_(heads) {
  qkv_ = register_module("qkv", nn::Linear(dim, 3 * dim));
  out_ = register_module("out", nn::Linear(dim, dim));
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& key_mask) {
  const int64_t n = x.size(0), t = x.size(1), d = x.size(2), hd = d / heads_;
  auto qkv = qkv_(x).view({n, t, 3, heads_, hd}).permute({2, 0, 3, 1, 4});  // 3, N, heads, T, hd
  auto y = attention_core(qkv[0], qkv[1], qkv[2], attention, key_mask);
  return out_(y.transpose(1, 2).reshape({n, t, d}));
}

OcrModelImpl::OcrModelImpl(const ModelOptions& o) : options_(o) {
  const auto& c = o.channels;
  backbone_ = nn::Sequential();
  if (o.downsample == "stride") {
    // Same output grid (H/16, W/4) without full-resolution feature maps: each stage's first 3x3
    // convolution strides. About 3x cheaper on CPU than conv + max-pool at the same widths.
    conv_bn_relu(backbone_, 1, c[0], false, 2);
    conv_bn_relu(backbone_, c[0], c[1], o.depthwise, 2);
    conv_bn_relu(backbone_, c[1], c[2], o.depthwise);
    conv_bn_relu(backbone_, c[2], c[2], o.depthwise, {2, 1});
    conv_bn_relu(backbone_, c[2], c[3], o.depthwise);
    conv_bn_relu(backbone_, c[3], c[3], o.depthwise, {2, 1});
  } else {
    conv_bn_relu(backbone_, 1, c[0], false);
    backbone_->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2)));
    conv_bn_relu(backbone_, c[0], c[1], o.depthwise);
    backbone_->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2)));
    conv_bn_relu(backbone_, c[1], c[2], o.depthwise);
    conv_bn_relu(backbone_, c[2], c[2], o.depthwise);
    backbone_->push_back(nn::MaxPool2d(nn::MaxPool2dOptions({2, 1})));
    conv_bn_relu(backbone_, c[2], c[3], o.depthwise);
    conv_bn_relu(backbone_, c[3], c[3], o.depthwise);
    backbone_->push_back(nn::MaxPool2d(nn::MaxPool2dOptions({2, 1})));
  }
  register_module("backbone", backbone_);
  const int64_t features = c[3] * (o.height / 16);  // remaining rows are folded into the channels
  if (o.arch == "crnn") {
    lstm_ = register_module(
        "lstm", nn::LSTM(nn::LSTMOptions(features, o.hidden).num_layers(o.layers).bidirectional(true).batch_first(true)));
    head_ = register_module("head", nn::Linear(2 * o.hidden, o.num_classes));
  } else {
    proj_ = register_module("proj", nn::Linear(features, o.hidden));
    blocks_ = register_module("blocks", nn::ModuleList());
    for (int64_t i = 0; i < o.layers; ++i) blocks_->push_back(TransformerBlock(o.hidden, o.heads, o.ffn));
    final_norm_ = register_module("final_norm", nn::LayerNorm(nn::LayerNormOptions({o.hidden})));
    head_ = register_module("head", nn::Linear(o.hidden, o.num_classes));
  }
}

void OcrModelImpl::set_attention(const std::string& implementation) {
  if (!blocks_) return;
  for (auto& m : *blocks_) m->as<TransformerBlockImpl>()->attn->attention = implementation;
}

void OcrModelImpl::fuse_batchnorm() {
  torch::NoGradGuard no_grad;
  auto fused = nn::Sequential();
  std::shared_ptr<nn::Conv2dImpl> conv;  // the previous module when it is a convolution
  for (const nn::AnyModule& any : *backbone_) {
    auto module = any.ptr();
    auto bn = std::dynamic_pointer_cast<nn::BatchNorm2dImpl>(module);
    if (bn && conv) {
      // y = gamma * (conv(x) - mean) / sqrt(var + eps) + beta  ->  conv with scaled weights and a bias.
      auto scale = bn->weight / torch::sqrt(bn->running_var + bn->options.eps());
      const auto& o = conv->options;
      auto folded = nn::Conv2d(nn::Conv2dOptions(o.in_channels(), o.out_channels(), o.kernel_size())
                                   .stride(o.stride()).padding(o.padding()).dilation(o.dilation()).groups(o.groups()).bias(true));
      folded->weight.copy_(conv->weight * scale.view({-1, 1, 1, 1}));
      auto bias = conv->bias.defined() ? conv->bias : torch::zeros_like(bn->running_mean);
      folded->bias.copy_((bias - bn->running_mean) * scale + bn->bias);
      folded->to(conv->weight.device(), conv->weight.scalar_type());
      fused->push_back(folded);
      conv.reset();
      continue;
    }
    if (conv) fused->push_back(nn::Conv2d(conv));
    conv = std::dynamic_pointer_cast<nn::Conv2dImpl>(module);
    if (!conv) fused->push_back(any);
  }
  if (conv) fused->push_back(nn::Conv2d(conv));
  fused->eval();
  backbone_ = replace_module("backbone", fused);
}

torch::Tensor OcrModelImpl::backbone_forward(torch::Tensor x) {
  if (!convolutions_as_matmuls_) return backbone_->forward(x);
  for (nn::AnyModule& any : *backbone_) {
    auto conv = std::dynamic_pointer_cast<nn::Conv2dImpl>(any.ptr());
    x = conv && conv->options.groups() == 1 ? conv_as_matmul(x, *conv) : any.forward(x);
  }
  return x;
}

torch::Tensor OcrModelImpl::forward(torch::Tensor x, const torch::Tensor& frames) {
  auto f = backbone_forward(x);  // N, C, H/16, W/4
  f = f.flatten(1, 2).transpose(1, 2);  // N, T, C*H/16
  if (lstm_) {
    compat::AutocastOff fp32;  // cuDNN LSTMs and bf16 do not mix well; this part is small
    f = std::get<0>(lstm_->forward(f.to(torch::kFloat32)));
  } else {
    f = proj_(f);
    f = f + sinusoidal_positions(f.size(1), f.size(2), f.options()).to(f.scalar_type());
    torch::Tensor key_mask;  // [N, 1, 1, T]: true for each line's own frames
    if (options_.mask_padding && frames.defined() && frames.numel() > 1) {
      auto t = torch::arange(f.size(1), torch::TensorOptions().dtype(torch::kLong).device(f.device()));
      key_mask = t.unsqueeze(0).lt(frames.to(f.device()).clamp_min(1).unsqueeze(1)).view({f.size(0), 1, 1, f.size(1)});
    }
    for (auto& m : *blocks_) f = m->as<TransformerBlockImpl>()->forward(f, key_mask);
    f = final_norm_(f);
  }
  return head_(f);  // N, T, classes
}

std::vector<torch::Tensor> OcrModelImpl::parameters_of(const std::string& part) {
  if (part == "backbone") return backbone_->parameters();
  if (part == "head") return head_->parameters();
  if (part == "sequence") {
    std::vector<torch::Tensor> out;
    std::vector<std::shared_ptr<nn::Module>> parts;
    if (lstm_) parts.push_back(lstm_.ptr());
    if (proj_) parts.push_back(proj_.ptr());
    if (blocks_) parts.push_back(blocks_.ptr());
    if (final_norm_) parts.push_back(final_norm_.ptr());
    for (auto& m : parts)
      if (m)
        for (auto& p : m->parameters()) out.push_back(p);
    return out;
  }
  throw std::invalid_argument("unknown model part '" + part + "' (expected backbone, sequence or head)");
}

}  // namespace ocrkit
