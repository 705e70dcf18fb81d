// Helpers the synthetic generators share (synth_vin.cpp defines them; synth_lines.cpp reuses them).
// Torch-free.
#pragma once
#include <cstdint>
#include <functional>
#include <random>

namespace ocrkit::synth {

// Runs body(0..n-1) on `jobs` threads (0: all cores). The first exception stops the others and is
// rethrown here. With a progress callback the calling thread only reports (every 100 ms, with the
// number of items done); otherwise it works too.
void parallel_for(int n, int jobs, const std::function<void(int)>& body,
                  const std::function<void(int)>& progress = {});

// A Mersenne twister seeded from all 64 bits of `seed` through std::seed_seq (a standardised
// algorithm: the same stream on every standard library).
std::mt19937 engine_for(uint64_t seed);

}  // namespace ocrkit::synth
