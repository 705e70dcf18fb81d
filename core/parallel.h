// Torch-free thread helpers.
#pragma once
#include <functional>

namespace ocrkit {

// Runs body(0..n-1) on `jobs` threads (0: all cores; never more than n, so one item runs inline). The
// first exception stops the others and is rethrown here. With a progress callback the calling thread
// only reports (every 100 ms, with the number of items done); otherwise it works too.
void parallel_for(int n, int jobs, const std::function<void(int)>& body, const std::function<void(int)>& progress = {});

}  // namespace ocrkit
