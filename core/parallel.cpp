#include "core/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace ocrkit {

void parallel_for(int n, int jobs, const std::function<void(int)>& body,
                  const std::function<void(int)>& progress) {
  if (n <= 0) return;
  if (jobs <= 0) jobs = int(std::max(1u, std::thread::hardware_concurrency()));
  jobs = std::min(jobs, n);
  std::atomic<int> next{0}, done{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    while (!failed) {
      int i = next++;
      if (i >= n) break;
      try {
        body(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
      ++done;
    }
  };
  std::vector<std::thread> threads;
  const int extra = progress ? jobs : jobs - 1;
  for (int t = 0; t < extra; ++t) threads.emplace_back(work);
  if (progress) {
    while (done < n && !failed) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      progress(done);
    }
  } else {
    work();
  }
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace ocrkit
