#include "datasets/loader.h"

#include <algorithm>
#include <numeric>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "core/inference.h"
#include "core/log.h"
#include "core/text.h"

namespace ocrkit {

namespace {

// A 64-bit mix of the seed with up to three indices (splitmix64), so every (step, slot) has its own
// independent random stream whatever thread computes it.
uint64_t mix(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  uint64_t x = seed ^ (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full) ^ (c * 0x165667B19E3779F9ull);
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Pools of this many batches are sorted by label length before being cut into batches.
constexpr int kPoolBatches = 32;

}  // namespace

BatchLoader::BatchLoader(std::vector<LabelSet> sources, Charset charset, PreprocessParams preprocess,
                         AugmentOptions augment, LoaderOptions options)
    : charset_(std::move(charset)), preprocess_(preprocess), augment_(augment), options_(std::move(options)) {
  for (auto& s : sources) {
    source_begin_.push_back(items_.size());
    items_.insert(items_.end(), s.items.begin(), s.items.end());
  }
  source_begin_.push_back(items_.size());
  if (items_.empty()) throw std::runtime_error("no usable training items");
  if (!options_.source_ratios.empty() && options_.source_ratios.size() != sources.size())
    throw std::runtime_error("data.train_ratios has " + std::to_string(options_.source_ratios.size()) +
                             " entries for " + std::to_string(sources.size()) + " training sources");
  if (options_.batch_size < 1) throw std::runtime_error("batch size must be >= 1");
  batches_per_epoch_ = std::max<int64_t>(1, int64_t(items_.size()) / options_.batch_size);
  reported_bad_.assign(items_.size(), 0);
  if (options_.workers <= 0) options_.workers = std::max(1, int(std::thread::hardware_concurrency()) - 1);
  // The workers are the parallelism: OpenCV's own thread pool inside each of them only oversubscribes.
  cv::setNumThreads(1);
  log_line("data", "loader: " + std::to_string(options_.workers) + " workers, prefetch " +
                       std::to_string(options_.prefetch) + ", " + std::to_string(batches_per_epoch_) +
                       " batches per epoch" + (options_.pin_memory ? ", pinned memory" : ""));
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  space_cv_.notify_all();
  ready_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

const std::vector<size_t>& BatchLoader::epoch_plan(int64_t epoch) {
  std::lock_guard<std::mutex> lock(plan_mutex_);
  auto it = plans_.find(epoch);
  if (it != plans_.end()) return it->second;
  if (plans_.size() > 2) plans_.erase(plans_.begin());  // workers straddle at most two epochs
  std::mt19937_64 rng(mix(options_.seed, 0xE90C, uint64_t(epoch)));
  const size_t n = size_t(batches_per_epoch_) * options_.batch_size;
  std::vector<size_t> plan;
  plan.reserve(n);
  if (options_.source_ratios.empty()) {
    std::vector<size_t> perm(items_.size());
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    // Fewer items than one batch: the permutation repeats (as the sources do under train_ratios below).
    for (size_t i = 0; i < n; ++i) plan.push_back(perm[i % perm.size()]);
  } else {
    std::discrete_distribution<size_t> pick(options_.source_ratios.begin(), options_.source_ratios.end());
    for (size_t i = 0; i < n; ++i) {
      size_t s = pick(rng);
      size_t lo = source_begin_[s], hi = source_begin_[s + 1];
      if (hi == lo) continue;
      plan.push_back(lo + std::uniform_int_distribution<size_t>(0, hi - lo - 1)(rng));
    }
    while (plan.size() < n) plan.push_back(plan[plan.size() % std::max<size_t>(1, plan.size())]);
  }
  // Sort pools by label length, cut into batches, shuffle the batches of the pool.
  const size_t pool = size_t(kPoolBatches) * options_.batch_size;
  for (size_t start = 0; start < plan.size(); start += pool) {
    size_t end = std::min(plan.size(), start + pool);
    std::stable_sort(plan.begin() + start, plan.begin() + end,
                     [&](size_t a, size_t b) { return items_[a].text.size() < items_[b].text.size(); });
    std::vector<size_t> batch_ids((end - start) / options_.batch_size);
    std::iota(batch_ids.begin(), batch_ids.end(), 0);
    std::shuffle(batch_ids.begin(), batch_ids.end(), rng);
    std::vector<size_t> shuffled;
    for (size_t b : batch_ids)
      for (int k = 0; k < options_.batch_size; ++k) shuffled.push_back(plan[start + b * options_.batch_size + k]);
    std::copy(shuffled.begin(), shuffled.end(), plan.begin() + start);
  }
  return plans_.emplace(epoch, std::move(plan)).first->second;
}

TrainBatch BatchLoader::make_batch(int64_t step) {
  const int64_t epoch = step / batches_per_epoch_, index = step % batches_per_epoch_;
  std::vector<size_t> ids;
  {
    const auto& plan = epoch_plan(epoch);
    ids.assign(plan.begin() + index * options_.batch_size, plan.begin() + (index + 1) * options_.batch_size);
  }
  std::vector<cv::Mat> lines;
  std::vector<int64_t> targets, target_lengths, input_lengths;
  TrainBatch batch;
  batch.step = step;
  for (size_t slot = 0; slot < ids.size(); ++slot) {
    const LabelItem& item = items_[ids[slot]];
    cv::Mat image = cv::imread(item.image, cv::IMREAD_GRAYSCALE);
    std::string problem;
    if (image.empty()) problem = "cannot decode image " + item.image;
    cv::Mat line;
    std::vector<int> encoded;
    if (problem.empty()) {
      std::mt19937 rng(static_cast<uint32_t>(mix(options_.seed, uint64_t(step), slot, 1)));
      cv::Mat gray = to_gray8(image);
      // Large crops are shrunk to twice the model height first: augmenting full-resolution photos costs
      // time and the model never sees the detail (degradation sizes scale with the crop height).
      if (gray.rows > 2 * preprocess_.height) {
        double f = 2.0 * preprocess_.height / gray.rows;
        cv::resize(gray, gray, cv::Size(std::max(1, int(gray.cols * f + 0.5)), 2 * preprocess_.height), 0, 0, cv::INTER_AREA);
      }
      line = prepare_line(augment_.enabled ? augment(gray, augment_, rng) : gray, preprocess_);
      encoded = charset_.encode(item.text);
      // CTC needs a frame per character plus one between repeated characters.
      int needed = int(encoded.size());
      for (size_t k = 1; k < encoded.size(); ++k) needed += encoded[k] == encoded[k - 1];
      if (needed > line.cols / OcrModelImpl::kStride)
        problem = "label needs " + std::to_string(needed) + " frames but the crop gives " +
                  std::to_string(line.cols / OcrModelImpl::kStride) + " (raise preprocess.max_width)";
    }
    if (!problem.empty()) {
      ++bad_items_;
      std::lock_guard<std::mutex> lock(bad_mutex_);
      if (!reported_bad_[ids[slot]]) {
        reported_bad_[ids[slot]] = 1;
        log_line("data", item.source + ":" + std::to_string(item.line) + ": skipped: " + problem);
      }
      continue;
    }
    targets.insert(targets.end(), encoded.begin(), encoded.end());
    target_lengths.push_back(int64_t(encoded.size()));
    input_lengths.push_back(line.cols / OcrModelImpl::kStride);
    batch.texts.push_back(item.text);
    lines.push_back(std::move(line));
  }
  if (lines.empty()) throw std::runtime_error("batch " + std::to_string(step) + " has no usable items");
  batch.images = stack_lines(lines, options_.pin_memory);
  batch.targets = torch::tensor(targets, torch::kInt64);
  batch.target_lengths = torch::tensor(target_lengths, torch::kInt64);
  batch.input_lengths = torch::tensor(input_lengths, torch::kInt64);
  return batch;
}

void BatchLoader::worker() {
  while (true) {
    int64_t step;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // `prefetch` batches ready plus one being made per worker: a window of only `prefetch` would
      // leave workers idle whenever there are more of them than that.
      space_cv_.wait(lock, [&] {
        return stopping_ || next_to_make_ < next_to_give_ + options_.prefetch + options_.workers;
      });
      if (stopping_) return;
      step = next_to_make_++;
    }
    try {
      TrainBatch b = make_batch(step);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(step, std::move(b));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    ready_cv_.notify_all();
  }
}

void BatchLoader::start(int64_t first_step) {
  if (!threads_.empty()) throw std::logic_error("BatchLoader::start called twice");
  next_to_make_ = next_to_give_ = first_step;
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { worker(); });
}

TrainBatch BatchLoader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  ready_cv_.wait(lock, [&] { return error_ || ready_.count(next_to_give_); });
  if (error_) std::rethrow_exception(error_);
  TrainBatch b = std::move(ready_[next_to_give_]);
  ready_.erase(next_to_give_++);
  lock.unlock();
  space_cv_.notify_all();
  return b;
}

}  // namespace ocrkit
