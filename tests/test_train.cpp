// Training end to end on CPU: learning a tiny set to zero errors, exact resume, fine-tuning.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/checkpoint.h"
#include "core/fs.h"
#include "core/log.h"
#include "datasets/synth_vin.h"
#include "train/gradients.h"
#include "train/trainer.h"

using namespace ocrkit;
namespace fs = std::filesystem;

namespace {

// 64 synthetic VIN crops, made once per test binary run.
const std::string& tiny_vin_set() {
  static std::string dir = [] {
    // Per process: ctest runs the tests of this file in parallel processes.
    std::string d = testing::TempDir() + "/tiny_vin." + std::to_string(getpid());
    ocrkit::remove_tree(d);
    SynthVinOptions o;
    o.min_height = 28;
    o.max_height = 40;
    write_synth_vin(d, 64, 11, o, 2);
    return d;
  }();
  return dir;
}

Config tiny_config(const std::string& out) {
  Config c;
  c.set("model.channels=[16, 32, 48, 64]");
  c.set("model.hidden=64");
  c.set("model.layers=1");
  c.set("charset=vin");
  c.set("preprocess.min_width=64");
  c.set("preprocess.max_width=256");
  c.set("data.train=[" + tiny_vin_set() + "]");
  c.set("data.val=[" + tiny_vin_set() + "]");
  c.set("data.workers=1");
  c.set("augment.enabled=false");
  c.set("train.batch_size=16");
  c.set("train.lr=0.003");
  c.set("train.warmup_steps=20");
  c.set("train.min_lr_ratio=0.1");
  c.set("train.val_every=100");
  c.set("train.log_every=1");
  c.set("train.seed=5");
  c.set("train.out=" + out);
  c.set("runtime.device=cpu");
  c.set("runtime.threads=2");
  return c;
}

std::string fresh(const std::string& name) {
  std::string d = testing::TempDir() + "/" + name + "." + std::to_string(getpid());
  ocrkit::remove_tree(d);
  return d;
}

}  // namespace

TEST(Train, TinyModelLearnsTinySetToZeroCerThenFineTunes) {
  set_log_quiet(true);
  Config c = tiny_config(fresh("run_learn"));
  c.set("train.max_steps=700");
  c.set("train.val_every=100");
  TrainSummary s = train_model(c, {});
  EXPECT_EQ(s.best_cer, 0.0);
  EXPECT_EQ(s.best_seq_acc, 1.0);
  ASSERT_TRUE(fs::exists(s.best_path));
  ASSERT_TRUE(fs::exists(s.last_path));
  ASSERT_TRUE(fs::exists(s.run_dir + "/metrics.jsonl"));
  // The best checkpoint alone reproduces the validation result.
  Checkpoint ck = load_checkpoint(s.best_path);
  EXPECT_EQ(ck.training["val_cer"], 0.0);
  EXPECT_EQ(ck.charset.characters(), Charset::from_spec("vin").characters());

  // Fine-tune with one more character: rows of shared characters are copied, so the model reads as
  // well as before after a (near) zero-learning-rate step with the backbone frozen.
  Config ft = tiny_config(fresh("run_finetune"));
  ft.set("charset=0123456789ABCDEFGHJKLMNPRSTUVWXYZ-");  // one new character
  ft.set("train.init=" + s.best_path);
  ft.set("train.lr=0.0000001");
  ft.set("train.warmup_steps=1");
  ft.set("train.max_steps=1");
  ft.set("train.freeze=[backbone]");
  TrainSummary f = train_model(ft, {});
  EXPECT_EQ(f.best_cer, 0.0);  // old rows were copied: the fine-tuned model reads as well as before
  Checkpoint tuned = load_checkpoint(f.best_path);
  EXPECT_EQ(tuned.charset.num_classes(), 35);
}

// clip_gradients (no host sync) scales gradients exactly as libtorch's clip_grad_norm_ does, above and
// below the limit, and leaves parameters without a gradient alone.
TEST(Train, ClipGradientsIsClipGradNorm) {
  torch::manual_seed(3);
  for (double max_norm : {0.5, 1e3}) {
    std::vector<torch::Tensor> ours, theirs;
    for (auto shape : {std::vector<int64_t>{7, 5}, {13}, {2, 3, 4}}) {
      auto p = torch::randn(shape).requires_grad_(true);
      p.mutable_grad() = torch::randn(shape) * 3;
      auto q = p.detach().clone().requires_grad_(true);
      q.mutable_grad() = p.grad().clone();
      ours.push_back(p), theirs.push_back(q);
    }
    ours.push_back(torch::zeros({4}).requires_grad_(true));  // no gradient
    theirs.push_back(torch::zeros({4}).requires_grad_(true));
    clip_gradients(ours, max_norm);
    const double norm = torch::nn::utils::clip_grad_norm_(theirs, max_norm);
    EXPECT_EQ(norm > max_norm, max_norm == 0.5);  // one case clips, the other does not
    for (size_t i = 0; i + 1 < ours.size(); ++i) EXPECT_TRUE(torch::allclose(ours[i].grad(), theirs[i].grad(), 1e-6, 1e-7)) << i;
    EXPECT_FALSE(ours.back().grad().defined());
  }
}

TEST(Train, BatchLargerThanTheDataSetRepeatsItems) {
  // 64 crops, batches of 100: each batch holds every crop once and some twice (it read past the end).
  Config c = tiny_config(fresh("big_batch"));
  c.set("train.batch_size=100");
  c.set("train.max_steps=2");
  const TrainSummary s = train_model(c, TrainOptions{});
  EXPECT_EQ(s.steps, 2);
}

TEST(Train, InterruptAndResumeContinueWithTheSameLosses) {
  set_log_quiet(true);
  std::map<int64_t, double> straight, resumed;
  Config a = tiny_config(fresh("run_straight"));
  a.set("train.max_steps=40");
  a.set("augment.enabled=true");  // augmentation randomness must be reproduced too
  TrainOptions oa;
  oa.on_step = [&](int64_t step, double loss) { straight[step] = loss; };
  train_model(a, oa);

  std::string dir = fresh("run_resumed");
  Config b = tiny_config(dir);
  b.set("train.max_steps=40");
  b.set("augment.enabled=true");
  std::atomic<bool> stop{false};
  TrainOptions ob;
  ob.stop = &stop;
  ob.on_step = [&](int64_t step, double loss) {
    resumed[step] = loss;
    if (step == 17) stop = true;  // as SIGINT would, between validations
  };
  TrainSummary first = train_model(b, ob);
  EXPECT_TRUE(first.interrupted);
  EXPECT_EQ(first.steps, 17);
  TrainOptions oc;
  oc.resume_dir = dir;
  int64_t first_resumed_step = -1;
  oc.on_step = [&](int64_t step, double loss) {
    if (first_resumed_step < 0) first_resumed_step = step;
    resumed[step] = loss;
  };
  TrainSummary second = train_model(b, oc);
  EXPECT_EQ(first_resumed_step, 18);
  EXPECT_EQ(second.steps, 40);
  ASSERT_EQ(straight.size(), 40u);
  ASSERT_EQ(resumed.size(), 40u);
  for (int64_t step = 1; step <= 40; ++step)
    EXPECT_NEAR(resumed[step], straight[step], 1e-4 * std::max(1.0, std::abs(straight[step]))) << "step " << step;
}

