// Training batches: a threaded loader that reads, augments and preprocesses crops ahead of the trainer.
// Batch k depends only on (seed, k), so a resumed run sees exactly the batches it would have seen.
// Within each epoch, items are grouped by label length (a proxy for width) so batches pad little.
#pragma once
#include <torch/torch.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/charset.h"
#include "core/image.h"
#include "datasets/augment.h"
#include "datasets/labels.h"

namespace ocrkit {

struct LoaderOptions {
  int batch_size = 64;
  uint64_t seed = 1;
  int workers = 0;                   // threads preparing batches (0: cores - 1, at least 1)
  int prefetch = 8;                  // batches kept ready ahead of the consumer
  bool pin_memory = false;           // page-locked host tensors for asynchronous copies to CUDA
  std::vector<double> source_ratios; // sampling share per source (empty: proportional to size)
};

struct TrainBatch {
  int64_t step = 0;
  torch::Tensor images;          // [N, 1, H, W] float
  torch::Tensor targets;         // concatenated class ids (int64)
  torch::Tensor target_lengths;  // [N] int64
  torch::Tensor input_lengths;   // [N] int64 frames per item (its own width / stride)
  std::vector<std::string> texts;
};

class BatchLoader {
 public:
  // `sources` are the label sets of each training source (ratios apply per source).
  BatchLoader(std::vector<LabelSet> sources, Charset charset, PreprocessParams preprocess, AugmentOptions augment,
              LoaderOptions options);
  ~BatchLoader();
  // Starts the workers at `first_step`; next() then returns that step's batch, then the following ones.
  void start(int64_t first_step);
  TrainBatch next();
  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  int64_t bad_items() const { return bad_items_; }
  size_t size() const { return items_.size(); }

 private:
  const std::vector<size_t>& epoch_plan(int64_t epoch);  // item order for an epoch (cached)
  TrainBatch make_batch(int64_t step);
  void worker();

  std::vector<LabelItem> items_;
  std::vector<size_t> source_begin_;  // items_ index where each source starts (+ end)
  Charset charset_;
  PreprocessParams preprocess_;
  AugmentOptions augment_;
  LoaderOptions options_;
  int64_t batches_per_epoch_ = 0;

  std::mutex plan_mutex_;
  std::map<int64_t, std::vector<size_t>> plans_;

  std::mutex mutex_;
  std::condition_variable ready_cv_, space_cv_;
  std::map<int64_t, TrainBatch> ready_;
  int64_t next_to_make_ = 0, next_to_give_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> threads_;
  std::atomic<int64_t> bad_items_{0};
  std::mutex bad_mutex_;
  std::vector<char> reported_bad_;
};

}  // namespace ocrkit
