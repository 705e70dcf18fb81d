// Helpers the synthetic generators share (synth_vin.cpp defines them; synth_lines.cpp reuses them).
// Torch-free.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "core/parallel.h"

namespace ocrkit::synth {

// A Mersenne twister seeded from all 64 bits of `seed` through std::seed_seq (a standardised
// algorithm: the same stream on every standard library).
std::mt19937 engine_for(uint64_t seed);

// A process-wide cache of immutable objects built from a file (font atlases): each is built once,
// outside the lock so other files build in parallel, and shared by all threads.
template <typename T>
std::shared_ptr<const T> cached_per_file(const std::string& path,
                                         std::shared_ptr<const T> (*build)(const std::string&)) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const T>> cache;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(path);
    if (it != cache.end()) return it->second;
  }
  auto built = build(path);
  std::lock_guard<std::mutex> lock(mutex);
  return cache.emplace(path, built).first->second;  // a racing builder's copy loses; both are equal
}

// The image path of sample `index` in a set of `count`: "img/000042.png" (at least 6 digits).
std::string sample_image_name(int index, int count);
// Writes out_dir/labels.tsv ("img/NNNNNN.png<TAB>text" per sample) atomically. Written last by the
// generators: its presence means the data set is complete.
void write_sample_labels(const std::string& out_dir, const std::vector<std::string>& texts);

}  // namespace ocrkit::synth
