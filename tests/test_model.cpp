// Models, attention implementations, checkpoints and runtime selection.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/checkpoint.h"
#include "core/inference.h"
#include "core/runtime.h"
#include "core/torch_compat.h"

using namespace ocrkit;

namespace {

Config small_config(const std::string& arch) {
  Config c;
  c.set("model.arch=" + arch);
  c.set("model.channels=[8, 16, 16, 32]");
  c.set("model.hidden=32");
  c.set("model.layers=1");
  c.set("model.heads=4");
  c.set("model.ffn=64");
  return c;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

double rel_err(const torch::Tensor& a, const torch::Tensor& b) {
  auto d = (a.to(torch::kFloat64) - b.to(torch::kFloat64)).norm().item<double>();
  return d / std::max(1e-12, b.to(torch::kFloat64).norm().item<double>());
}

}  // namespace

TEST(Model, OutputShapeBothArchitectures) {
  Charset cs = Charset::from_spec("vin");
  for (const char* arch : {"crnn", "transformer"}) {
    OcrModel m = build_model(small_config(arch), cs);
    m->eval();
    auto y = m->forward(torch::rand({2, 1, 32, 100}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 25, cs.num_classes()})) << arch;
  }
}

TEST(Model, StridedDownsamplingKeepsTheFrameGrid) {
  Charset cs = Charset::from_spec("vin");
  Config c = small_config("transformer");
  c.set("model.downsample=stride");
  c.set("model.depthwise=true");
  OcrModel m = build_model(c, cs);
  m->eval();
  EXPECT_EQ(m->forward(torch::rand({2, 1, 32, 100})).sizes(), (std::vector<int64_t>{2, 25, cs.num_classes()}));
}

TEST(Model, FusedBatchNormGivesTheSameOutputs) {
  torch::manual_seed(3);
  Charset cs = Charset::from_spec("vin");
  for (const char* downsample : {"pool", "stride"}) {
    Config c = small_config("crnn");
    c.set(std::string("model.downsample=") + downsample);
    c.set("model.depthwise=true");
    OcrModel m = build_model(c, cs);
    // Non-trivial statistics, as after training.
    m->train();
    { torch::NoGradGuard g; for (int i = 0; i < 3; ++i) m->forward(torch::rand({4, 1, 32, 64}) * (i + 1)); }
    m->eval();
    auto x = torch::rand({3, 1, 32, 80});
    torch::NoGradGuard g;
    auto before = m->forward(x);
    size_t modules_before = m->modules().size();
    m->fuse_batchnorm();
    EXPECT_LT(m->modules().size(), modules_before) << downsample;  // the BatchNorms are gone
    EXPECT_LT(rel_err(m->forward(x), before), 1e-5) << downsample;
  }
}

TEST(Model, ConvolutionAsMatmulIsTheConvolution) {
  torch::manual_seed(5);
  namespace nn = torch::nn;
  auto x = torch::randn({2, 6, 32, 40});
  for (auto options : {nn::Conv2dOptions(6, 5, 3).padding(1).stride(2), nn::Conv2dOptions(6, 5, 3).padding(1).stride({2, 1}),
                       nn::Conv2dOptions(6, 5, 1), nn::Conv2dOptions(6, 5, 3).bias(false), nn::Conv2dOptions(6, 5, {3, 1}).padding({1, 0}),
                       nn::Conv2dOptions(6, 5, 3).padding(2).dilation(2), nn::Conv2dOptions(6, 5, {3, 2}).stride({1, 2}).padding({0, 1})}) {
    nn::Conv2d conv(options);
    torch::NoGradGuard g;
    auto expected = conv->forward(x);
    auto got = conv_as_matmul(x, *conv);
    ASSERT_EQ(got.sizes(), expected.sizes());
    EXPECT_LT(rel_err(got, expected), 1e-5);
  }
  nn::Conv2d grouped(nn::Conv2dOptions(6, 6, 3).groups(6));
  EXPECT_THROW(conv_as_matmul(x, *grouped), std::logic_error);
}

// The backbone's dense convolutions as matrix products (what CUDA inference runs): the same outputs
// up to float rounding, for both downsampling layouts, plain and depthwise, with BatchNorm fused or not.
TEST(Model, ConvolutionsAsMatmulsGiveTheSameOutputs) {
  torch::manual_seed(4);
  Charset cs = Charset::from_spec("vin");
  bool any_rounding_differs = false;
  for (const char* downsample : {"pool", "stride"})
    for (bool depthwise : {false, true})
      for (bool fused : {false, true}) {
        Config c = small_config("transformer");
        c.set(std::string("model.downsample=") + downsample);
        c.set(std::string("model.depthwise=") + (depthwise ? "true" : "false"));
        OcrModel m = build_model(c, cs);
        // Non-trivial BatchNorm statistics, so the fused convolutions have biases.
        m->train();
        { torch::NoGradGuard g; for (int i = 0; i < 3; ++i) m->forward(torch::rand({4, 1, 32, 64}) * (i + 1)); }
        m->eval();
        if (fused) m->fuse_batchnorm();
        auto x = torch::rand({3, 1, 32, 72});
        torch::NoGradGuard g;
        auto convolutions = m->forward(x);
        m->set_convolutions_as_matmuls(true);
        auto matmuls = m->forward(x);
        EXPECT_EQ(matmuls.sizes(), convolutions.sizes());
        EXPECT_LT(rel_err(matmuls, convolutions), 1e-5) << downsample << " depthwise " << depthwise << " fused " << fused;
        any_rounding_differs = any_rounding_differs || !torch::equal(matmuls, convolutions);
      }
  EXPECT_TRUE(any_rounding_differs);  // the switch took the other path (other kernels round differently)
}

TEST(Attention, EagerAndSdpaAgreeOnCpu) {
  torch::manual_seed(7);
  auto q = torch::randn({2, 4, 37, 16}), k = torch::randn({2, 4, 37, 16}), v = torch::randn({2, 4, 37, 16});
  auto eager = attention_core(q, k, v, "eager");
  // Reference in float64.
  auto ref = torch::matmul(torch::softmax(torch::matmul(q.to(torch::kFloat64), k.to(torch::kFloat64).transpose(-2, -1)) / 4.0, -1),
                           v.to(torch::kFloat64));
  EXPECT_LT(rel_err(eager, ref), 1e-5);
  if (!compat::kHasSdpa) GTEST_SKIP() << "libtorch " << compat::torch_version() << " has no SDPA";
  EXPECT_LT(rel_err(attention_core(q, k, v, "sdpa"), ref), 1e-5);
}

TEST(Model, MaskedPaddingReadsALineTheSameInAnyBatch) {
  torch::manual_seed(5);
  Charset cs = Charset::from_spec("vin");
  auto line = torch::rand({1, 1, 32, 64}), wide = torch::rand({1, 1, 32, 160});
  // The short line padded to the wide one's width, as the recognizer and the loader batch them.
  auto batch = torch::cat({torch::constant_pad_nd(line, {0, 96}), wide});
  auto frames = torch::tensor(std::vector<int64_t>{64 / OcrModelImpl::kStride, 160 / OcrModelImpl::kStride});
  for (bool mask : {true, false}) {
    Config c = small_config("transformer");
    c.set(std::string("model.mask_padding=") + (mask ? "true" : "false"));
    OcrModel m = build_model(c, cs);
    m->eval();
    torch::NoGradGuard g;
    auto alone = m->forward(line, frames.narrow(0, 0, 1));
    auto batched = m->forward(batch, frames).narrow(0, 0, 1).narrow(1, 0, alone.size(1));
    // Masked, what remains is the convolutions' view past the line's right edge (a few frames, seen
    // by every query): 0.05% here, against 15% without the mask.
    if (mask) EXPECT_LT(rel_err(batched, alone), 2e-3);
    else EXPECT_GT(rel_err(batched, alone), 5e-2);
  }
}

TEST(Attention, MaskedKeysAgreeAcrossImplementations) {
  torch::manual_seed(9);
  auto q = torch::randn({2, 4, 20, 16}), k = torch::randn({2, 4, 20, 16}), v = torch::randn({2, 4, 20, 16});
  // Item 0 has 12 real frames, item 1 all 20: masked attention over item 0 equals attention over its
  // first 12 frames alone.
  auto mask = torch::arange(20).unsqueeze(0).lt(torch::tensor(std::vector<int64_t>{12, 20}).unsqueeze(1)).view({2, 1, 1, 20});
  auto eager = attention_core(q, k, v, "eager", mask);
  auto first = [](const torch::Tensor& t) { return t.narrow(0, 0, 1).narrow(2, 0, 12); };
  EXPECT_LT(rel_err(first(eager), attention_core(first(q), first(k), first(v), "eager")), 1e-5);
  EXPECT_LT(rel_err(eager.narrow(0, 1, 1), attention_core(q, k, v, "eager").narrow(0, 1, 1)), 1e-6);
  if (!compat::kHasSdpa) GTEST_SKIP() << "libtorch " << compat::torch_version() << " has no SDPA";
  EXPECT_LT(rel_err(attention_core(q, k, v, "sdpa", mask), eager), 1e-5);
}

// GPU: flash (bf16) agrees with eager fp32 within bf16 tolerance. Skipped without CUDA.
TEST(AttentionGpu, FlashAgreesWithEager) {
  if (!torch::cuda::is_available() || !compat::kHasSdpa) GTEST_SKIP() << "needs CUDA and libtorch >= 2.0";
  torch::manual_seed(7);
  auto opts = torch::TensorOptions().device(torch::kCUDA);
  auto q = torch::randn({4, 4, 129, 32}, opts), k = torch::randn({4, 4, 129, 32}, opts), v = torch::randn({4, 4, 129, 32}, opts);
  auto eager = attention_core(q, k, v, "eager");
  auto sdpa = attention_core(q, k, v, "sdpa");
  auto flash = attention_core(q.to(torch::kBFloat16), k.to(torch::kBFloat16), v.to(torch::kBFloat16), "flash");
  EXPECT_LT(rel_err(sdpa, eager), 1e-3);
  EXPECT_LT(rel_err(flash, eager), 1e-2);
  // The whole transformer model under bf16 autocast: flash vs eager.
  Charset cs = Charset::from_spec("vin");
  OcrModel m = build_model(small_config("transformer"), cs);
  m->to(torch::kCUDA);
  m->eval();
  auto x = torch::rand({3, 1, 32, 160}, opts);
  torch::Tensor out_eager, out_flash;
  {
    compat::AutocastGuard ac(torch::Device(torch::kCUDA), torch::kBFloat16);
    m->set_attention("eager");
    out_eager = m->forward(x).to(torch::kFloat32);
    m->set_attention("flash");
    out_flash = m->forward(x).to(torch::kFloat32);
  }
  EXPECT_LT(rel_err(out_flash, out_eager), 2e-2);
  // With a key mask "flash" falls back to a fused kernel that takes masks, and still agrees.
  auto mask = torch::arange(129, opts.dtype(torch::kLong)).lt(100).view({1, 1, 1, 129});
  auto masked = attention_core(q.to(torch::kBFloat16), k.to(torch::kBFloat16), v.to(torch::kBFloat16), "flash", mask);
  EXPECT_LT(rel_err(masked, attention_core(q, k, v, "eager", mask)), 1e-2);
}

TEST(Checkpoint, SaveLoadGivesIdenticalOutputs) {
  Charset cs = Charset::from_spec("vin");
  for (const char* arch : {"crnn", "transformer"}) {
    Config c = small_config(arch);
    OcrModel m = build_model(c, cs);
    // Move BN statistics off their defaults so buffers are checked too.
    m->train();
    m->forward(torch::rand({4, 1, 32, 64}));
    m->eval();
    std::string path = testing::TempDir() + "/m_" + arch + ".ckpt";
    save_checkpoint(path, m, c, cs, PreprocessParams::from_config(c), {{"step", 3}});
    Checkpoint ck = load_checkpoint(path);
    ck.model->eval();
    auto x = torch::rand({2, 1, 32, 80});
    EXPECT_TRUE(torch::equal(m->forward(x), ck.model->forward(x))) << arch;
    EXPECT_EQ(ck.charset.characters(), cs.characters());
    EXPECT_EQ(ck.config.dump(), c.dump());
    EXPECT_EQ(ck.training["step"], 3);
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  }
}

TEST(Checkpoint, BadFilesFailNamingTheFile) {
  std::string missing = testing::TempDir() + "/nope.ckpt";
  EXPECT_NE(error_of([&] { load_checkpoint(missing); }).find(missing), std::string::npos);
  std::string junk = testing::TempDir() + "/junk.ckpt";
  std::ofstream(junk) << "not a checkpoint";
  std::string msg = error_of([&] { load_checkpoint(junk); });
  EXPECT_NE(msg.find(junk), std::string::npos) << msg;
  // A file from a newer format version is refused with a clear message.
  Charset cs = Charset::from_spec("vin");
  Config c = small_config("crnn");
  OcrModel m = build_model(c, cs);
  std::string newer = testing::TempDir() + "/newer.ckpt";
  {
    torch::serialize::OutputArchive a;
    m->save(a);
    nlohmann::json meta = {{"version", kCheckpointVersion + 1}, {"config", c.dump()}, {"charset", cs.characters()},
                           {"preprocess", PreprocessParams().to_json()}};
    a.write("ocrkit", c10::IValue(meta.dump()));
    a.save_to(newer);
  }
  msg = error_of([&] { load_checkpoint(newer); });
  EXPECT_NE(msg.find("newer"), std::string::npos) << msg;
}

TEST(Checkpoint, ShippedModelsLoad) {
  // Catches checkpoint format drift: every shipped model must load in this libtorch.
  std::string dir = std::string(OCRKIT_SOURCE_DIR) + "/models";
  int found = 0;
  if (std::filesystem::exists(dir))
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().extension() == ".ckpt") {
        ++found;
        Checkpoint ck = load_checkpoint(e.path().string());
        ck.model->eval();
        auto y = ck.model->forward(torch::rand({1, 1, ck.preprocess.height, 128}));
        EXPECT_EQ(y.size(2), ck.charset.num_classes()) << e.path();
        EXPECT_LT(std::filesystem::file_size(e.path()), 15u << 20) << e.path() << " exceeds 15 MiB";
      }
  if (found == 0) GTEST_SKIP() << "no shipped models yet";
}

TEST(Runtime, ExplicitUnavailableDeviceIsAClearError) {
  RuntimeRequest r;
  if (!torch::cuda::is_available()) {
    r.device = "cuda";
    std::string msg = error_of([&] { select_runtime(r); });
    EXPECT_NE(msg.find("CUDA is not available"), std::string::npos) << msg;
    r.device = "cuda:3";
    EXPECT_NE(error_of([&] { select_runtime(r); }).find("CUDA is not available"), std::string::npos);
  }
  if (!compat::mps_available()) {
    r.device = "mps";
    EXPECT_NE(error_of([&] { select_runtime(r); }).find("MPS is not available"), std::string::npos);
  }
  r.device = "tpu";
  EXPECT_NE(error_of([&] { select_runtime(r); }).find("unknown device"), std::string::npos);
  r.device = "cpu";
  r.precision = "bf16";
  EXPECT_NE(error_of([&] { select_runtime(r); }).find("needs a CUDA device"), std::string::npos);
  r.precision = "fp32";
  r.attention = "flash";
  EXPECT_NE(error_of([&] { select_runtime(r); }).find("attention 'flash' needs"), std::string::npos);
}

TEST(Runtime, AutoOnCpuStatesEverything) {
  RuntimeRequest r;
  r.threads = 2;
  Runtime rt = select_runtime(r);
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(rt.device.type(), torch::kCPU);
    EXPECT_EQ(rt.dtype, torch::kFloat32);
    EXPECT_EQ(rt.attention, compat::kHasSdpa ? "sdpa" : "eager");
  }
  EXPECT_EQ(rt.threads, 2);
  for (const char* part : {"device=", "attention=", "dtype=", "threads="})
    EXPECT_NE(rt.summary.find(part), std::string::npos) << rt.summary;
}

TEST(StackLines, PadsWithBlankRowsAndColumnsAndReusesTheStagingBuffer) {
  std::vector<cv::Mat> lines = {cv::Mat(4, 8, CV_32F, cv::Scalar(0.5)), cv::Mat(4, 12, CV_32F, cv::Scalar(1.0))};
  torch::Tensor staging;
  auto batch = stack_lines(lines, false, &staging, 3, 16);  // 3 rows (one blank), 16 columns
  ASSERT_EQ(batch.sizes(), torch::IntArrayRef({3, 1, 4, 16}));
  EXPECT_FLOAT_EQ(batch.sum().item<float>(), 0.5f * 4 * 8 + 1.0f * 4 * 12);
  EXPECT_FLOAT_EQ(batch[0].narrow(-1, 8, 8).abs().sum().item<float>(), 0.f);  // padding
  EXPECT_FLOAT_EQ(batch[2].abs().sum().item<float>(), 0.f);                    // the blank row
  EXPECT_TRUE(torch::equal(batch.narrow(0, 0, 2).narrow(-1, 0, 12), stack_lines(lines, false)))
      << "the lines as in a batch of their own";
  EXPECT_FLOAT_EQ(batch.narrow(-1, 12, 4).abs().sum().item<float>(), 0.f);
  // A smaller batch is assembled in the same memory.
  const float* first = staging.data_ptr<float>();
  auto again = stack_lines({lines[0]}, false, &staging);
  EXPECT_EQ(again.data_ptr<float>(), first);
  EXPECT_TRUE(torch::equal(again, stack_lines({lines[0]}, false)));
}

TEST(StackLines, HalfTypesAreTheFloatBatchRounded) {
  torch::manual_seed(5);
  std::vector<cv::Mat> lines;
  for (int cols : {7, 33, 64}) {  // widths off and on the vector width
    auto t = torch::rand({32, cols});
    lines.push_back(cv::Mat(32, cols, CV_32F, t.data_ptr<float>()).clone());
  }
  torch::Tensor staging;
  const auto wide = stack_lines(lines, false, nullptr, 4, 80);
  for (auto type : {torch::kBFloat16, torch::kFloat16}) {
    auto half = stack_lines(lines, false, &staging, 4, 80, type);  // staged: the parallel copy
    ASSERT_EQ(half.scalar_type(), type);
    EXPECT_TRUE(torch::equal(half, wide.to(type))) << type;
    EXPECT_TRUE(torch::equal(stack_lines(lines, false, nullptr, 4, 80, type), half)) << type;
  }
}

// A bf16 model on a GPU gets its lines prepared as bfloat16 bits: the batch must be the float lines'
// batch converted by torch, bit for bit (including rounding ties and the padding).
TEST(StackLines, LinesPreparedInBfloat16AreTheFloatLinesConverted) {
  PreprocessParams p;
  p.height = 32;
  cv::RNG rng(3);
  std::vector<cv::Mat> as_float, as_bf16;
  for (int cols : {20, 57, 190, 333}) {
    cv::Mat crop(24 + cols % 17, cols, CV_8U);
    rng.fill(crop, cv::RNG::UNIFORM, 0, 256);
    as_float.push_back(prepare_line(crop, p));
    as_bf16.push_back(prepare_line(crop, p, nullptr, true));
    ASSERT_EQ(as_bf16.back().type(), CV_16U);
    ASSERT_EQ(as_bf16.back().size(), as_float.back().size());
  }
  for (float f : {0.0f, 1.0f, 1.00390625f, 1.01171875f, 0.3f, 1e-20f})  // ties round to even
    EXPECT_EQ(bfloat16_bits(f), c10::BFloat16(f).x) << f;
  torch::Tensor staging;
  const auto want = stack_lines(as_float, false, nullptr, 6, 352, torch::kBFloat16);
  EXPECT_TRUE(torch::equal(stack_lines(as_bf16, false, &staging, 6, 352, torch::kBFloat16), want));
  EXPECT_THROW(stack_lines(as_bf16, false, nullptr, 0, 0, torch::kFloat32), std::invalid_argument);
}

// GPU: the recognizer stages CUDA batches in the autocast type; the model must give the same outputs as
// from float32 input, which autocast casts to that type at the first convolution. Skipped without CUDA.
TEST(InferenceGpu, InputStagedInTheAutocastTypeGivesTheSameOutputs) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs CUDA";
  torch::manual_seed(9);
  Charset cs = Charset::from_spec("printed");
  for (const char* arch : {"crnn", "transformer"}) {
    Config c = small_config(arch);
    c.set("model.downsample=stride");
    c.set("model.depthwise=true");
    OcrModel m = build_model(c, cs);
    m->eval();
    m->fuse_batchnorm();
    m->to(torch::kCUDA);
    auto x = torch::rand({6, 1, 32, 96}).to(torch::kCUDA);
    torch::NoGradGuard g;
    for (auto type : {torch::kBFloat16, torch::kFloat16}) {
      compat::AutocastGuard autocast(torch::Device(torch::kCUDA), type);
      EXPECT_TRUE(torch::equal(m->forward(x), m->forward(x.to(type)))) << arch << " " << type;
    }
    // As the recognizer runs it on CUDA: convolutions as matrix products, bf16 autocast. The products
    // round differently from cuDNN's kernels, so agreement is to bf16 precision, not bitwise.
    compat::AutocastGuard autocast(torch::Device(torch::kCUDA), torch::kBFloat16);
    auto convolutions = m->forward(x);
    m->set_convolutions_as_matmuls(true);
    auto matmuls = m->forward(x);
    EXPECT_EQ(matmuls.scalar_type(), convolutions.scalar_type()) << arch;
    EXPECT_LT(rel_err(matmuls, convolutions), 2e-2) << arch;
  }
}

