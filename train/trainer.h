// ocrkit's training loop: AdamW, warmup + cosine, gradient clipping, autocast on CUDA, periodic
// validation with best/last checkpoints, early stopping, exact resume and fine-tuning.
#pragma once
#include <atomic>
#include <functional>
#include <string>

#include "core/config.h"

namespace ocrkit {

struct TrainOptions {
  std::string resume_dir;                 // continue the run in this directory (its config.yaml and last.ckpt)
  const std::atomic<bool>* stop = nullptr;  // set (e.g. by SIGINT) to write last.ckpt and return
  // Called after every optimizer step with the step number (1-based) and its loss (tests, benches).
  std::function<void(int64_t step, double loss)> on_step;
  // The first steps of this invocation are left out of the throughput figures (benches: warm-up of
  // kernels, allocator and loader).
  int64_t untimed_steps = 0;
};

struct TrainSummary {
  int64_t steps = 0;             // optimizer steps completed in total
  bool interrupted = false;
  bool early_stopped = false;
  double best_cer = 1.0, best_seq_acc = 0.0;
  double seconds = 0;            // wall time of this invocation
  double samples_per_s = 0;      // training throughput of this invocation
  double data_wait_share = 0;    // share of step time spent waiting for the loader
  double wait_seconds = 0, compute_seconds = 0;  // step time of this invocation: loader wait, forward/backward/step
  std::string run_dir, best_path, last_path, runtime;
};

// Trains per `config` (train.out is the run directory). Throws with context on bad data/config.
TrainSummary train_model(Config config, const TrainOptions& options);

}  // namespace ocrkit
