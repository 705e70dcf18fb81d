#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <sstream>

namespace ocrkit {

static std::atomic<bool> g_quiet{false};

void set_log_quiet(bool quiet) { g_quiet = quiet; }

void log_line(const std::string& topic, const std::string& message) {
  if (g_quiet) return;
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  std::fprintf(stderr, "[%s] %s\n", topic.c_str(), message.c_str());
}

bool stderr_is_tty() { return isatty(fileno(stderr)) == 1; }

std::string format_duration(double seconds) {
  if (seconds < 0 || seconds != seconds) return "?";
  long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  return buf;
}

Progress::Progress(std::string label, int64_t total, std::string unit, double plain_interval_s)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), tty_(stderr_is_tty()),
      plain_interval_s_(plain_interval_s), start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

void Progress::update(int64_t done, const std::string& status) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (start_done_ < 0) start_done_ = done;  // resumed runs: rates count from here
  done_ = done;
  status_ = status;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  if (since < (tty_ ? 0.2 : plain_interval_s_)) return;
  last_draw_ = now;
  draw(false);
}

void Progress::finish(const std::string& status) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!status.empty()) status_ = status;
  draw(true);
}

void Progress::draw(bool final_line) {
  if (g_quiet) return;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = elapsed > 0 ? (done_ - std::max<int64_t>(start_done_, 0)) / elapsed : 0;
  std::ostringstream line;
  line << "[" << label_ << "] ";
  if (tty_ && total_ > 0) {
    const int width = 24;
    int filled = static_cast<int>(width * std::min<double>(1.0, double(done_) / total_));
    line << "[" << std::string(filled, '#') << std::string(width - filled, '.') << "] ";
  }
  line << unit_ << " " << done_;
  if (total_ > 0) line << "/" << total_;
  char r[64];
  std::snprintf(r, sizeof r, " %.1f %s/s", rate, unit_.c_str());
  line << r;
  if (total_ > 0 && rate > 0 && !final_line) line << " ETA " << format_duration((total_ - done_) / rate);
  if (final_line) line << " in " << format_duration(elapsed);
  if (!status_.empty()) line << " " << status_;
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s%s", line.str().c_str(), final_line ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", line.str().c_str());
  }
  std::fflush(stderr);
}

}  // namespace ocrkit
