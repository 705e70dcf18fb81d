// Logging and progress reporting shared by every job. Library code logs decisions; only the CLI prints
// results and picks exit codes.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace ocrkit {

// One line to stderr, prefixed with the topic: "[runtime] device=cpu ...".
void log_line(const std::string& topic, const std::string& message);
// Silences log_line (tests, --quiet).
void set_log_quiet(bool quiet);
bool stderr_is_tty();

// A progress bar on a TTY (redrawn in place, rate-limited) and plain periodic lines otherwise.
class Progress {
 public:
  // total = 0 means unknown; unit names what is counted ("step", "page").
  Progress(std::string label, int64_t total, std::string unit, double plain_interval_s = 10.0);
  // Sets the position and an extra status text ("loss=0.12 lr=1e-3").
  void update(int64_t done, const std::string& status = "");
  void finish(const std::string& status = "");

 private:
  void draw(bool final_line);
  std::string label_, unit_, status_;
  int64_t total_, done_ = 0, start_done_ = -1;
  bool tty_;
  double plain_interval_s_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mutex_;
};

std::string format_duration(double seconds);

}  // namespace ocrkit
