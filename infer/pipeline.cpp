#include "infer/pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "core/fs.h"
#include "core/log.h"
#include "core/parallel.h"
#include "core/text.h"
#include "infer/writers.h"

namespace ocrkit::infer {
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

std::string InferSummary::line() const {
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.2f pages/s", seconds > 0 ? pages / seconds : 0.0);
  std::string s = "files " + std::to_string(files);
  std::vector<std::string> notes;
  if (files_failed) notes.push_back(std::to_string(files_failed) + " failed");
  if (files_skipped) notes.push_back(std::to_string(files_skipped) + " skipped");
  if (!notes.empty()) {
    s += " (";
    for (size_t i = 0; i < notes.size(); ++i) s += (i ? ", " : "") + notes[i];
    s += ")";
  }
  s += ", pages " + std::to_string(pages);
  if (pages_failed) s += " (" + std::to_string(pages_failed) + " failed)";
  return s + ", lines " + std::to_string(lines) + ", errors " + std::to_string(errors.size()) + ", " + rate +
         " in " + format_duration(seconds);
}

std::string InferSummary::times_line() const {
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "render/decode %.2f s, layout %.2f s, line preparation %.2f s (thread-seconds); recognition %.2f s, writing %.2f s",
                render_seconds, layout_seconds, prepare_seconds, recognize_seconds, write_seconds);
  return buf;
}

std::vector<WordResult> split_words(const LayoutLine& line, const LineResult& r) {
  std::vector<WordResult> words;
  std::vector<std::string> chars = r.chars;  // a recognizer that gives only text: split it here
  if (chars.empty() && !r.text.empty()) {
    try {
      chars = utf8_chars(r.text);
    } catch (const std::exception&) {
      chars = {r.text};
    }
  }
  const int n = int(chars.size());
  const bool positions = n > 0 && int(r.char_x.size()) == n;
  // Half the character pitch: how far a character reaches either side of its centre.
  double half = 0;
  if (positions && n > 1) half = 0.5 * (r.char_x[size_t(n - 1)] - r.char_x[0]) / (n - 1);
  if (half <= 0) half = 0.5 * line.box.width / std::max(1, n);
  auto emit = [&](int a, int b) {  // chars [a, b)
    WordResult w;
    float conf = 1;
    for (int i = a; i < b; ++i) {
      w.text += chars[size_t(i)];
      conf = std::min(conf, i < int(r.char_conf.size()) ? r.char_conf[size_t(i)] : r.confidence);
    }
    w.confidence = conf;
    double x0, x1;
    if (positions) {
      x0 = line.crop_x + r.char_x[size_t(a)] - half;
      x1 = line.crop_x + r.char_x[size_t(b - 1)] + half;
    } else {
      x0 = line.box.x + double(line.box.width) * a / n;
      x1 = line.box.x + double(line.box.width) * b / n;
    }
    x0 = std::clamp(x0, double(line.box.x), double(line.box.br().x));
    x1 = std::clamp(x1, x0, double(line.box.br().x));
    w.bbox = cv::Rect(int(std::floor(x0)), line.box.y, std::max(1, int(std::ceil(x1) - std::floor(x0))), line.box.height);
    words.push_back(w);
  };
  int start = -1;
  for (int i = 0; i <= n; ++i) {
    bool space = i == n || chars[size_t(i)] == " " || chars[size_t(i)] == "\t";
    if (space && start >= 0) emit(start, i), start = -1;
    if (!space && start < 0) start = i;
  }
  return words;
}

bool is_list_marker(const std::string& text) {
  static const std::set<std::string> symbols{"•", "·", "◦", "▪", "‣", "-", "–", "—", "*", ".", "o"};
  static const std::regex enumerator(R"(\(?([0-9]{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)])");
  return symbols.count(text) > 0 || std::regex_match(text, enumerator);
}

void attach_list_markers(std::vector<LineOut>& lines, double text_height) {
  auto vertical_overlap = [](const cv::Rect& a, const cv::Rect& b) {
    return std::max(0, std::min(a.br().y, b.br().y) - std::max(a.y, b.y)) / double(std::max(1, std::min(a.height, b.height)));
  };
  std::vector<bool> merged(lines.size(), false);
  for (size_t i = 0; i < lines.size(); ++i) {
    const LineOut& m = lines[i];
    if (m.table >= 0 || m.bbox.width > 2.5 * text_height || !is_list_marker(m.text)) continue;
    int best = -1;
    for (size_t k = 0; k < lines.size(); ++k) {
      const LineOut& l = lines[k];
      const int gap = l.bbox.x - m.bbox.br().x;
      if (k == i || merged[k] || l.table >= 0 || gap < 0 || gap > 6 * text_height || vertical_overlap(m.bbox, l.bbox) < 0.5) continue;
      if (best < 0 || l.bbox.x < lines[size_t(best)].bbox.x) best = int(k);
    }
    if (best < 0) continue;
    LineOut& l = lines[size_t(best)];
    l.text = m.text + " " + l.text;
    l.bbox |= m.bbox;
    l.confidence = std::min(l.confidence, m.confidence);
    l.words.insert(l.words.begin(), m.words.begin(), m.words.end());
    merged[i] = true;
  }
  std::vector<LineOut> kept;
  for (size_t i = 0; i < lines.size(); ++i)
    if (!merged[i]) kept.push_back(std::move(lines[i]));
  lines = std::move(kept);
}

namespace {

using Clock = std::chrono::steady_clock;

// A page rendered and analysed by a worker.
struct PageWork {
  int doc = 0;
  PageImage image;  // gray dropped unless visualising
  PageLayout layout;                       // line crops released once prepared
  std::vector<PreparedLine> lines;         // parallel to layout.lines
  std::vector<std::string> picture_files;  // saved crops, parallel to layout.pictures
  std::string error;                       // non-empty: the page failed
  double render_seconds = 0, layout_seconds = 0, prepare_seconds = 0;
};

struct Task {
  int doc;
  int page;
};

// Pages recognised together (in task order), with the results of their lines in order.
struct Batch {
  std::vector<PageWork> pages;
  std::vector<LineResult> results;
  std::string failure;  // non-empty: recognition failed and every page of the batch with it
};

// A document being assembled: outputs are written once every selected page is in.
struct DocState {
  DocumentResult result;
  int expected = 0, received = 0, failed = 0;
  bool written = false;
};

// Straight-frame box of a page's layout -> page-image pixels (clipped).
cv::Rect to_page(const PageWork& w, const cv::Rect2d& straight) {
  cv::Rect2d s = w.layout.source_box(straight);
  double k = 1.0 / w.image.scale;
  cv::Rect r(int(std::floor(s.x * k)), int(std::floor(s.y * k)), int(std::ceil(s.br().x * k) - std::floor(s.x * k)),
             int(std::ceil(s.br().y * k) - std::floor(s.y * k)));
  return r & cv::Rect(0, 0, w.image.width, w.image.height);
}

std::string page_tag(int page) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ".page-%03d", page);
  return buf;
}

class Runner {
 public:
  Runner(const std::vector<InputFile>& inputs, const InferOptions& o, const LineRecognizer& recognizer)
      : inputs_(inputs), opt_(o), recognizer_(recognizer), renderers_(make_renderers(o.formats)) {}

  InferSummary run() {
    auto start = Clock::now();
    summary_.files = int(inputs_.size());
    fs::create_directories(opt_.out_dir);
    plan();
    process();
    finish_manifest();
    write_file_atomically((fs::path(opt_.out_dir) / "errors.json").string(), errors_json(summary_.errors).dump(1, ' ', false, json::error_handler_t::replace) + "\n");
    summary_.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return summary_;
  }

 private:
  void error(const std::string& source, int page, const std::string& reason) {
    summary_.errors.push_back({source, page, reason});
  }

  // Temporary files a killed run left beside this run's outputs (core/fs.h names them PATH.tmp.*).
  void remove_stale_temporaries() {
    std::set<std::string> outputs;
    for (auto& in : inputs_)
      for (auto& p : renderers_->outputs(opt_.out_dir, in.name)) outputs.insert(fs::path(p).lexically_normal().string());
    std::error_code ec;
    std::vector<fs::path> stale;
    for (auto it = fs::recursive_directory_iterator(opt_.out_dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::string path = it->path().lexically_normal().string();
      size_t tmp = path.rfind(".tmp.");
      if (tmp != std::string::npos && outputs.count(path.substr(0, tmp))) stale.push_back(it->path());
    }
    for (auto& p : stale) fs::remove(p, ec);
  }

  // Which inputs to do and their pages: opens each file once to count pages (bad files end here).
  void plan() {
    remove_stale_temporaries();
    docs_.resize(inputs_.size());
    enum class Action { skip, refuse, open };
    std::vector<Action> actions(inputs_.size(), Action::open);
    for (size_t i = 0; i < inputs_.size(); ++i) {
      auto outputs = renderers_->outputs(opt_.out_dir, inputs_[i].name);
      size_t existing = size_t(std::count_if(outputs.begin(), outputs.end(), [](const std::string& p) { return fs::exists(p); }));
      if (opt_.existing == Existing::skip && existing == outputs.size()) actions[i] = Action::skip;
      else if (opt_.existing == Existing::refuse && existing > 0) actions[i] = Action::refuse;
    }
    // Page counts, the files opened on several threads: one after another, 10 PDFs kept the page
    // threads from starting for 25-40 ms on the H100 host.
    std::vector<int> page_counts(inputs_.size(), 0);
    std::vector<std::string> open_errors(inputs_.size());
    parallel_for(int(inputs_.size()), std::min<int>(8, int(inputs_.size())), [&](int i) {
      if (actions[size_t(i)] != Action::open) return;
      try {
        page_counts[size_t(i)] = Document::open(inputs_[size_t(i)].path, opt_.source)->page_count();
      } catch (const std::exception& e) {
        open_errors[size_t(i)] = e.what();
      }
    });
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const InputFile& in = inputs_[i];
      DocState& d = docs_[i];
      d.result.source = in.path;
      d.result.name = in.name;
      d.result.model = opt_.model;
      if (actions[i] == Action::skip) {
        ++summary_.files_skipped;
        d.written = true;
      } else if (actions[i] == Action::refuse || !open_errors[i].empty()) {
        error(in.path, 0, actions[i] == Action::refuse ? "outputs exist in " + opt_.out_dir + " (use --overwrite or --skip-existing)" : open_errors[i]);
        ++summary_.files_failed;
        d.written = true;
      } else {
        for (int p : opt_.source.pages.select(page_counts[i])) {
          tasks_.push_back({int(i), p});
          ++d.expected;
        }
      }
    }
  }

  // Worker: renders and analyses tasks in order, at most `window` pages ahead of the consumer.
  void worker() {
    std::unique_ptr<Document> doc;
    int doc_index = -1;
    for (;;) {
      size_t idx;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        idx = next_task_++;
        if (idx >= tasks_.size()) return;
        space_.wait(lock, [&] { return idx < taken_ + window_ || stop_; });
        if (stop_) return;
      }
      const Task& t = tasks_[idx];
      PageWork w;
      w.doc = t.doc;
      try {
        if (doc_index != t.doc) {
          doc.reset();
          doc_index = t.doc;
          doc = Document::open(inputs_[size_t(t.doc)].path, opt_.source);
        }
        auto t0 = Clock::now();
        w.image = doc->render(t.page);
        auto t1 = Clock::now();
        w.layout = analyze_page(w.image.gray, opt_.layout);
        auto t2 = Clock::now();
        for (auto& l : w.layout.lines) {
          w.lines.push_back(recognizer_.prepare(l.crop));
          l.crop.release();  // a view into the page image, which can go once no line needs it
        }
        w.render_seconds = std::chrono::duration<double>(t1 - t0).count();
        w.layout_seconds = std::chrono::duration<double>(t2 - t1).count();
        w.prepare_seconds = std::chrono::duration<double>(Clock::now() - t2).count();
        if (!opt_.crops_dir.empty()) save_pictures(w);
        // The page's pixels are freed here, not with the batch on the finisher thread: this thread's next
        // page reuses the memory (no fresh pages to fault in), and the last batch does not hand the
        // finisher ~50 pages of images to unmap at the end of a run (60 ms on the H100 host).
        w.layout.straight.release();  // the page image itself, or its rotated copy
        if (!opt_.visualize) w.image.gray.release();
      } catch (const std::exception& e) {
        w.error = e.what();
        w.image.page = t.page;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      ready_[idx] = std::move(w);
      filled_.notify_all();
    }
  }

  void save_pictures(PageWork& w) {
    const std::string& name = docs_[size_t(w.doc)].result.name;
    for (size_t k = 0; k < w.layout.pictures.size(); ++k) {
      cv::Rect2d src = w.layout.source_box(w.layout.pictures[k]);
      int pad = int(std::lround(w.layout.text_height));
      cv::Rect r = cv::Rect(cv::Rect2d(src.x - pad, src.y - pad, src.width + 2 * pad, src.height + 2 * pad)) &
                   cv::Rect(0, 0, w.image.gray.cols, w.image.gray.rows);
      std::string file = name + page_tag(w.image.page) + ".picture-" + std::to_string(k + 1) + ".png";
      fs::path path = fs::path(opt_.crops_dir) / file;
      fs::create_directories(path.parent_path());
      std::vector<uint8_t> png;
      cv::imencode(".png", w.image.gray(r), png);
      write_file_atomically(path.string(), std::string(png.begin(), png.end()));
      w.picture_files.push_back(file);
    }
  }

  void process() {
    if (tasks_.empty()) return finish_docs();
    int jobs = opt_.jobs;
    if (jobs <= 0) {
      // H100 host, 551 PDF pages: 16 page threads of 16 cores 202 pages/s, 14 223, 12 214 (3 rounds each).
      const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
      jobs = std::max(1, cores - recognizer_.reserved_cores);
      log_line("infer", std::to_string(jobs) + " page threads (auto: " + std::to_string(cores) + " cores" +
                            (jobs < cores ? ", " + std::to_string(cores - jobs) + " left to the recognition side)" : ")"));
    }
    jobs = std::min<int>(jobs, int(tasks_.size()));
    // Pages analysed ahead of the recognition thread: enough to keep every worker busy through a
    // recognition call (a page in waiting holds only its prepared lines, a few MB). take() widens it
    // to two batches' worth of pages once it knows the lines per page: with large GPU batches (4096
    // lines, ~60 pages) a fixed window had the workers wait while a batch was recognised.
    window_ = min_window_ = size_t(std::max(8, 4 * jobs));
    ready_.assign(tasks_.size(), std::nullopt);
    Progress progress("infer", int64_t(tasks_.size()), "page");
    std::vector<std::thread> threads;
    if (opt_.progress) progress.update(0);
    for (int j = 0; j < jobs; ++j) threads.emplace_back([this] { worker(); });
    std::thread finishing([this] { finisher(); });
    auto stop_finisher = [&] {
      {
        std::lock_guard<std::mutex> lock(finish_mutex_);
        finish_closed_ = true;
        finish_ready_.notify_all();
      }
      finishing.join();
    };
    try {
      const size_t batch = size_t(std::max(1, opt_.batch_size));
      for (size_t idx = 0; idx < tasks_.size(); ++idx) {
        PageWork w;
        {
          std::unique_lock<std::mutex> lock(mutex_);
          // The last pages are all on page threads: recognise what is pending now instead of waiting
          // to fill a batch, so the run ends one small batch after the last page, not one full batch
          // (3,500 lines, ~0.1 s on the H100 host).
          if (!ready_[idx] && tasks_.size() - idx <= size_t(jobs) && pending_lines_ >= std::max<size_t>(1, batch / 16)) {
            lock.unlock();
            flush();
            lock.lock();
          }
          filled_.wait(lock, [&] { return ready_[idx].has_value(); });
          w = std::move(*ready_[idx]);
          ready_[idx].reset();
          ++taken_;
          space_.notify_all();
        }
        take(std::move(w));
        if (pending_lines_ >= batch) flush();
        if (opt_.progress)
          progress.update(int64_t(idx + 1), "file " + std::to_string(tasks_[idx].doc + 1) + "/" + std::to_string(inputs_.size()));
      }
      flush();
    } catch (...) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
        space_.notify_all();
      }
      for (auto& t : threads) t.join();
      stop_finisher();
      throw;
    }
    for (auto& t : threads) t.join();
    stop_finisher();
    if (finisher_error_) std::rethrow_exception(finisher_error_);
    if (opt_.progress) progress.finish();
    finish_docs();
  }

  // A page arrives from the workers (in task order).
  void take(PageWork w) {
    summary_.render_seconds += w.render_seconds;
    summary_.layout_seconds += w.layout_seconds;
    summary_.prepare_seconds += w.prepare_seconds;
    if (!w.error.empty()) {  // goes through the finisher with the pages around it, in order
      pending_.push_back(std::move(w));
      return;
    }
    pending_lines_ += w.layout.lines.size();
    taken_lines_ += w.layout.lines.size();
    ++taken_pages_;
    pending_.push_back(std::move(w));
    const size_t lines_per_page = std::max<size_t>(1, taken_lines_ / taken_pages_);
    const size_t window =
        std::clamp(2 * size_t(std::max(1, opt_.batch_size)) / lines_per_page, min_window_, std::max<size_t>(min_window_, 256));
    std::lock_guard<std::mutex> lock(mutex_);
    if (window > window_) space_.notify_all();
    window_ = window;
  }

  void page_failed(DocState& d, int page, const std::string& reason) {
    error(d.result.source, page, reason);
    d.result.errors.push_back({d.result.source, page, reason});
    ++d.received;
    ++d.failed;
    ++summary_.pages_failed;
  }

  // Recognises every pending line in one call and hands the pages with their results to the finisher
  // thread, which assembles and writes them while the next batch is gathered and recognised (writing
  // on this thread had the GPU wait for it).
  void flush() {
    Batch batch;
    std::vector<PreparedLine> lines;
    for (auto& w : pending_)
      for (auto& l : w.lines) lines.push_back(std::move(l));
    if (!lines.empty()) {
      auto t0 = Clock::now();
      try {
        batch.results = recognizer_.recognize(lines);
        if (batch.results.size() != lines.size())
          batch.failure = "recognizer returned " + std::to_string(batch.results.size()) + " results for " + std::to_string(lines.size()) + " lines";
      } catch (const std::exception& e) {
        batch.failure = std::string("recognition failed: ") + e.what();
      }
      summary_.recognize_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    }
    batch.pages = std::move(pending_);
    pending_.clear();
    pending_lines_ = 0;
    std::unique_lock<std::mutex> lock(finish_mutex_);
    finish_space_.wait(lock, [&] { return finish_queue_.size() < 2 || finisher_failed_; });  // bounds the memory held
    if (finisher_failed_) std::rethrow_exception(finisher_error_);
    finish_queue_.push_back(std::move(batch));
    finish_ready_.notify_one();
  }

  // The finisher thread: pages of recognised batches -> page results -> written documents, in order.
  void finisher() {
    for (;;) {
      Batch batch;
      {
        std::unique_lock<std::mutex> lock(finish_mutex_);
        finish_ready_.wait(lock, [&] { return !finish_queue_.empty() || finish_closed_; });
        if (finish_queue_.empty()) return;
        batch = std::move(finish_queue_.front());
        finish_queue_.pop_front();
        finish_space_.notify_one();
      }
      try {
        complete(batch);
      } catch (...) {
        std::lock_guard<std::mutex> lock(finish_mutex_);
        finisher_error_ = std::current_exception();
        finisher_failed_ = true;
        finish_space_.notify_all();
        return;
      }
    }
  }

  void complete(Batch& batch) {
    size_t k = 0;
    for (auto& w : batch.pages) {
      DocState& d = docs_[size_t(w.doc)];
      if (!w.error.empty() || !batch.failure.empty()) {
        page_failed(d, w.image.page, w.error.empty() ? batch.failure : w.error);
        continue;
      }
      d.result.pages.push_back(assemble(w, batch.results, k));
      ++d.received;
      ++summary_.pages;
      summary_.lines += int64_t(w.layout.lines.size());
      if (opt_.visualize) {
        try {
          visualize(d, w, d.result.pages.back());
        } catch (const std::exception& e) {
          error(d.result.source, w.image.page, e.what());
        }
      }
    }
    finish_docs();
  }

  PageResult assemble(const PageWork& w, const std::vector<LineResult>& results, size_t& k) {
    PageResult p;
    p.page = w.image.page;
    p.width = w.image.width;
    p.height = w.image.height;
    p.dpi = w.image.dpi;
    p.angle = w.layout.angle;
    for (auto& l : w.layout.lines) {
      const LineResult& r = results[k++];
      LineOut out;
      out.bbox = to_page(w, l.box);
      out.text = r.text;
      out.confidence = r.confidence;
      out.paragraph = l.paragraph;
      out.table = l.table, out.row = l.row, out.col = l.col;
      for (auto& word : split_words(l, r)) {
        word.bbox = to_page(w, word.bbox);
        out.words.push_back(word);
      }
      p.lines.push_back(std::move(out));
    }
    attach_list_markers(p.lines, w.layout.text_height / w.image.scale);
    for (auto& pic : w.layout.pictures) p.pictures.push_back(to_page(w, pic));
    for (auto& t : w.layout.tables) {
      TableOut table;
      table.bbox = to_page(w, t.box);
      table.cells.assign(size_t(t.n_rows()), std::vector<std::string>(size_t(t.n_cols())));
      p.tables.push_back(table);
    }
    for (auto& l : p.lines)
      if (l.table >= 0) {
        std::string& cell = p.tables[size_t(l.table)].cells[size_t(l.row)][size_t(l.col)];
        cell += (cell.empty() ? "" : " ") + l.text;
      }
    for (size_t i = 0; i < w.picture_files.size(); ++i)
      manifest_.push_back({{"source", docs_[size_t(w.doc)].result.source}, {"page", p.page},
                           {"bbox", bbox_json(p.pictures[i])}, {"file", w.picture_files[i]}});
    return p;
  }

  void visualize(const DocState& d, const PageWork& w, const PageResult& p) {
    cv::Mat vis;
    cv::cvtColor(w.image.gray, vis, cv::COLOR_GRAY2BGR);
    double s = w.image.scale;
    auto draw = [&](const cv::Rect& r, cv::Scalar colour, int thickness) {
      cv::rectangle(vis, cv::Rect(cv::Rect2d(r.x * s, r.y * s, r.width * s, r.height * s)), colour, thickness);
    };
    int t = std::max(1, int(vis.cols / 800));
    for (auto& l : p.lines) {
      for (auto& word : l.words) draw(word.bbox, {0, 170, 0}, 1);
      draw(l.bbox, {0, 0, 255}, t);
    }
    for (auto& r : p.pictures) draw(r, {255, 0, 0}, 2 * t);
    for (auto& tb : p.tables) draw(tb.bbox, {255, 0, 255}, 2 * t);
    std::vector<uint8_t> png;
    cv::imencode(".png", vis, png);
    write_file_atomically((fs::path(opt_.out_dir) / (d.result.name + page_tag(p.page) + ".png")).string(), std::string(png.begin(), png.end()));
  }

  // Writes every document whose pages are all in, in input order.
  void finish_docs() {
    for (; next_doc_ < docs_.size(); ++next_doc_) {
      DocState& d = docs_[next_doc_];
      if (d.written) continue;
      if (d.received < d.expected) return;
      d.written = true;
      if (d.expected > 0 && d.failed == d.expected) {
        ++summary_.files_failed;
        continue;
      }
      auto t0 = Clock::now();
      try {
        renderers_->write(d.result, opt_.out_dir);
        if (opt_.tables_csv)
          for (auto& p : d.result.pages)
            for (size_t k = 0; k < p.tables.size(); ++k)
              write_file_atomically((fs::path(opt_.out_dir) / (d.result.name + page_tag(p.page) + ".table-" + std::to_string(k + 1) + ".csv")).string(),
                           p.tables[k].csv());
        ++summary_.files_done;
        summary_.write_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
      } catch (const std::exception& e) {
        error(d.result.source, 0, e.what());
        ++summary_.files_failed;
      }
      d.result.pages.clear();  // written: free the memory
    }
  }

  void finish_manifest() {
    if (opt_.crops_dir.empty()) return;
    write_file_atomically((fs::path(opt_.crops_dir) / "manifest.json").string(), manifest_.dump(1, ' ', false, json::error_handler_t::replace) + "\n");
  }

  const std::vector<InputFile>& inputs_;
  const InferOptions& opt_;
  const LineRecognizer& recognizer_;
  std::unique_ptr<Renderer> renderers_;
  InferSummary summary_;
  std::vector<DocState> docs_;
  std::vector<Task> tasks_;
  size_t next_doc_ = 0;
  json manifest_ = json::array();
  // Worker hand-off.
  std::mutex mutex_;
  std::condition_variable filled_, space_;
  std::vector<std::optional<PageWork>> ready_;
  size_t next_task_ = 0, taken_ = 0, window_ = 4, min_window_ = 4;
  size_t taken_pages_ = 0, taken_lines_ = 0;  // analysed pages received so far, and their lines
  bool stop_ = false;
  // Pages waiting for the next recognize() call.
  std::vector<PageWork> pending_;
  size_t pending_lines_ = 0;
  // Recognised batches on their way to the finisher thread.
  std::mutex finish_mutex_;
  std::condition_variable finish_ready_, finish_space_;
  std::deque<Batch> finish_queue_;
  bool finish_closed_ = false, finisher_failed_ = false;
  std::exception_ptr finisher_error_;
};

}  // namespace

LineRecognizer line_recognizer(Recognizer& recognizer) {
  return {[&recognizer](const cv::Mat& crop) { return recognizer.prepare(crop); },
          [&recognizer](const std::vector<PreparedLine>& lines) { return recognizer.recognize(lines); },
          recognizer.on_cuda() ? 2 : 0};
}

LineRecognizer line_recognizer(const RecognizeFn& recognize) {
  return {[](const cv::Mat& crop) { return PreparedLine{crop, crop.cols, crop.cols}; },
          [recognize](const std::vector<PreparedLine>& lines) {
            std::vector<cv::Mat> crops;
            for (const auto& l : lines) crops.push_back(l.input);
            return recognize(crops);
          }};
}

InferSummary run_infer(const std::vector<InputFile>& inputs, const InferOptions& options, const LineRecognizer& recognizer) {
  return Runner(inputs, options, recognizer).run();
}

InferSummary run_infer(const std::vector<InputFile>& inputs, const InferOptions& options, const RecognizeFn& recognize) {
  return run_infer(inputs, options, line_recognizer(recognize));
}

}  // namespace ocrkit::infer
