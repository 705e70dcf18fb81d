#include "bench/bench.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/config.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/recognizer.h"
#include "core/runtime.h"
#include "core/torch_compat.h"
#include "eval/report.h"
#include "eval/sqlite.h"
#include "infer/pipeline.h"
#include "train/trainer.h"

#ifndef OCRKIT_GIT_COMMIT
#define OCRKIT_GIT_COMMIT "unknown"
#endif

extern char** environ;

namespace ocrkit::bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A fresh folder under the system temp dir, removed with everything in it when the object goes.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    std::string pattern = (fs::temp_directory_path() / ("ocrkit-bench-" + tag + "-XXXXXX")).string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error(pattern + ": cannot create a temporary folder");
    path_ = pattern;
  }
  ~TempDir() {
    ocrkit::remove_tree(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Peak resident memory: the kernel's high-water mark (VmHWM), reset before each measurement where the
// kernel allows it (/proc/self/clear_refs), else the process peak from getrusage (never decreasing).
// CUDA: the caching allocator's pool is emptied before each measurement and never shrinks during it,
// so the device memory it adds is the measurement's peak reserved memory.
int64_t reset_peak_memory(bool cuda) {
  std::ofstream("/proc/self/clear_refs") << "5";
  if (!cuda) return 0;
  compat::cuda_synchronize();
  compat::cuda_release_cached();
  return compat::cuda_device_bytes_in_use();
}

double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

// `cuda_base`: what reset_peak_memory returned.
void add_memory(Row& row, bool cuda, int64_t cuda_base) {
  row.figures["rss_mb"] = peak_rss_mib();
  if (cuda) row.figures["cuda_mb"] = double(std::max<int64_t>(0, compat::cuda_device_bytes_in_use() - cuda_base)) / (1024.0 * 1024.0);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown";
}

// The metadata shared by every row of one invocation; `device_name` is the runtime's ("cuda:0 (NAME)").
Row machine_row(const std::string& command, const std::string& target, const std::string& device_name) {
  Row r;
  r.created = eval::utc_now_iso();
  r.commit = OCRKIT_GIT_COMMIT;
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  r.host = host;
  r.cpu = cpu_model();
  r.cores = int(std::thread::hardware_concurrency());
  r.torch = compat::torch_version();
  r.device = device_name;
  if (device_name.rfind("cuda", 0) == 0) {
    auto open = device_name.find('('), close = device_name.rfind(')');
    if (open != std::string::npos && close > open) r.gpu = device_name.substr(open + 1, close - open - 1);
  }
  r.command = command;
  r.target = target;
  return r;
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && access((fs::path(dir) / program).c_str(), X_OK) == 0) return true;
  return false;
}

// Runs argv with OMP_THREAD_LIMIT=1 added to the environment and its output discarded; returns the exit
// status (or 127 when it could not start). Everything the child needs is prepared before fork().
int run_quietly(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  static const std::string omp = "OMP_THREAD_LIMIT=1";
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("OMP_THREAD_LIMIT=", 0) != 0) envp.push_back(*e);
  envp.push_back(const_cast<char*>(omp.c_str()));
  envp.push_back(nullptr);
  int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  pid_t pid = fork();
  if (pid == 0) {
    if (devnull >= 0) {
      dup2(devnull, 1);
      dup2(devnull, 2);
    }
    execvpe(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  if (devnull >= 0) close(devnull);
  if (pid < 0) return 127;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

// Page images Tesseract reads: single-page image files as they are, PDF (and multi-frame) pages rendered
// once at `dpi` into `dir`.
std::vector<std::string> tesseract_pages(const std::vector<infer::InputFile>& inputs, int dpi, const std::string& dir) {
  infer::SourceOptions so;
  so.dpi = dpi;
  std::vector<std::string> pages;
  for (const auto& in : inputs) {
    auto doc = infer::Document::open(in.path, so);
    if (!doc->is_pdf() && doc->page_count() == 1) {
      pages.push_back(in.path);
      continue;
    }
    for (int p = 1; p <= doc->page_count(); ++p) {
      std::string png = dir + "/page-" + std::to_string(pages.size()) + ".png";
      if (!cv::imwrite(png, doc->render(p).gray)) throw std::runtime_error(png + ": cannot write the rendered page");
      pages.push_back(png);
    }
  }
  return pages;
}

// Wall seconds for `tesseract PAGE OUT --psm 3 -l eng tsv` over all pages with `procs` processes at once.
double time_tesseract(const std::vector<std::string>& pages, int procs, const std::string& out_dir) {
  std::atomic<size_t> next{0};
  std::vector<std::string> failures(pages.size());
  auto worker = [&] {
    for (size_t i; (i = next++) < pages.size();) {
      int rc = run_quietly({"tesseract", pages[i], out_dir + "/" + std::to_string(i), "--psm", "3", "-l", "eng", "tsv"});
      if (rc != 0) failures[i] = pages[i] + ": tesseract exited with status " + std::to_string(rc);
    }
  };
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < procs; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  const double seconds = seconds_since(start);
  for (const auto& f : failures)
    if (!f.empty()) throw std::runtime_error(f);
  return seconds;
}

// Each figure once, in column order: infer, train, memory.
const std::vector<Figure> kFigures = {
    {"pages", "pages", 0},         {"lines", "lines", 0},           {"seconds", "s", 2},
    {"pages_s", "pages/s", 2},     {"lines_s", "lines/s", 1},       {"render_s", "render s*", 2},
    {"layout_s", "layout s*", 2},  {"recognize_s", "recog s", 2},
    {"prepare_s", "prep s*", 2},    {"stack_s", "stack s", 2},       {"model_s", "model s", 2},       {"decode_s", "decode s", 2},
    {"model_calls", "model calls", 0}, {"write_s", "write s", 2},
    {"tess_pages_s", "tess pages/s", 2}, {"speedup", "x tess", 2},
    {"steps", "steps", 0},         {"samples_s", "samples/s", 1},   {"step_ms", "step ms", 1},
    {"wait_ms", "wait ms", 1},     {"compute_ms", "compute ms", 1},
    {"rss_mb", "peak RSS MiB", 0}, {"cuda_mb", "CUDA MiB", 0},
};

// Metadata columns, in table order, with a row's value as text.
const std::vector<std::pair<const char*, std::string (*)(const Row&)>> kMeta = {
    {"id", [](const Row& r) { return std::to_string(r.id); }},
    {"created", [](const Row& r) { return r.created; }},
    {"commit", [](const Row& r) { return r.commit; }},
    {"host", [](const Row& r) { return r.host; }},
    {"cpu", [](const Row& r) { return r.cpu; }},
    {"cores", [](const Row& r) { return std::to_string(r.cores); }},
    {"gpu", [](const Row& r) { return r.gpu; }},
    {"torch", [](const Row& r) { return r.torch; }},
    {"device", [](const Row& r) { return r.device; }},
    {"command", [](const Row& r) { return r.command; }},
    {"target", [](const Row& r) { return r.target; }},
    {"batch_size", [](const Row& r) { return std::to_string(r.batch_size); }},
};

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// The figures any of the rows has, in column order.
std::vector<Figure> present_figures(const std::vector<Row>& rows) {
  std::vector<Figure> out;
  for (const auto& f : kFigures)
    for (const auto& r : rows)
      if (r.figures.count(f.name)) {
        out.push_back(f);
        break;
      }
  return out;
}

}  // namespace

const std::vector<Figure>& figures() { return kFigures; }

std::vector<int> parse_batch_sizes(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < 1)
      throw std::invalid_argument("batch sizes must be positive integers separated by commas, got '" + text + "'");
    out.push_back(v);
  }
  if (out.empty()) throw std::invalid_argument("no batch sizes given");
  return out;
}

std::vector<Row> bench_infer(const InferBenchOptions& o) {
  const std::string model = infer::resolve_model(o.model);  // throws naming a missing file
  const auto inputs = infer::collect_inputs(o.inputs);
  if (inputs.empty()) throw std::invalid_argument("no PDF or image files found in the --in paths");
  RecognizerOptions ro;
  ro.runtime = o.runtime;
  Recognizer recognizer(model, ro);
  const infer::LineRecognizer recognize = infer::line_recognizer(recognizer);
  const Row meta = machine_row("infer", model, recognizer.device_name());
  const bool cuda = !meta.gpu.empty();

  std::vector<Row> rows;
  for (int batch : o.batch_sizes) {
    TempDir out("infer");
    infer::InferOptions io;
    io.out_dir = out.path();
    io.formats = "json";
    io.model = model;
    io.source.dpi = o.dpi;
    io.jobs = o.jobs;
    io.batch_size = batch;
    io.existing = infer::Existing::overwrite;
    io.progress = false;
    const int64_t cuda_base = reset_peak_memory(cuda);
    recognizer.times() = {};
    const infer::InferSummary s = infer::run_infer(inputs, io, recognize);
    if (!s.errors.empty())
      throw std::runtime_error("infer failed on " + std::to_string(s.errors.size()) + " input(s), first: " +
                               s.errors.front().message());
    Row r = meta;
    r.batch_size = batch;
    const double secs = std::max(1e-9, s.seconds);
    r.figures = {{"pages", double(s.pages)},
                 {"lines", double(s.lines)},
                 {"seconds", s.seconds},
                 {"pages_s", s.pages / secs},
                 {"lines_s", s.lines / secs},
                 {"render_s", s.render_seconds},
                 {"layout_s", s.layout_seconds},
                 {"recognize_s", s.recognize_seconds},
                 {"prepare_s", s.prepare_seconds},  // on the page threads (LineRecognizer)
                 {"stack_s", recognizer.times().stack},
                 {"model_s", recognizer.times().model},
                 {"decode_s", recognizer.times().decode},
                 {"model_calls", double(recognizer.times().batches)},
                 {"write_s", s.write_seconds}};
    add_memory(r, cuda, cuda_base);
    log_line("bench", "infer batch " + std::to_string(batch) + ": " + s.line());
    rows.push_back(std::move(r));
  }

  if (o.tesseract) {
    if (!on_path("tesseract")) {
      log_line("bench", "tesseract is not on PATH: skipping the Tesseract comparison (Debian: apt-get install tesseract-ocr)");
    } else {
      TempDir dir("tesseract");
      const auto pages = tesseract_pages(inputs, o.dpi, dir.path());
      const int procs = o.tesseract_procs > 0 ? o.tesseract_procs : int(std::max(1u, std::thread::hardware_concurrency()));
      const double secs = std::max(1e-9, time_tesseract(pages, procs, dir.path()));
      const double tess_pages_s = pages.size() / secs;
      log_line("bench", "tesseract --psm 3 -l eng tsv, " + std::to_string(procs) + " processes (OMP_THREAD_LIMIT=1): " +
                            std::to_string(pages.size()) + " pages in " + fixed(secs, 2) + " s");
      for (auto& r : rows) {
        r.figures["tess_pages_s"] = tess_pages_s;
        r.figures["speedup"] = r.figures["pages_s"] / tess_pages_s;
      }
    }
  }
  return rows;
}

std::vector<Row> bench_train(const TrainBenchOptions& o) {
  if (o.steps < 1) throw std::invalid_argument("--steps must be >= 1");
  if (o.warmup < 0) throw std::invalid_argument("--warmup must be >= 0");
  Config base;
  base.merge_file(o.config_path);
  for (const auto& s : o.sets) base.set(s);
  o.runtime.override_config(base);  // as in `ocrkit train`
  const std::string steps = std::to_string(o.warmup + o.steps);
  base.set("train.max_steps=" + steps);
  base.set("train.val_every=" + std::to_string(o.warmup + o.steps + 1));  // the last step still "validates" an empty set
  base.set("train.log_every=" + steps);
  base.set("data.val=[]");
  const Row meta = machine_row("train", o.config_path, select_runtime(RuntimeRequest::from_config(base)).device_name);
  const bool cuda = !meta.gpu.empty();

  std::vector<Row> rows;
  for (int batch : o.batch_sizes) {
    TempDir run("train");
    Config config = base;
    config.set("train.batch_size=" + std::to_string(batch));
    config.set("train.out=" + run.path());
    const int64_t cuda_base = reset_peak_memory(cuda);
    TrainOptions timing;
    timing.untimed_steps = o.warmup;
    const TrainSummary s = train_model(config, timing);
    Row r = meta;
    r.batch_size = batch;
    const double n = std::max<int64_t>(1, s.steps - o.warmup);
    r.figures = {{"steps", n},
                 {"samples_s", s.samples_per_s},
                 {"step_ms", 1000 * (s.wait_seconds + s.compute_seconds) / n},
                 {"wait_ms", 1000 * s.wait_seconds / n},
                 {"compute_ms", 1000 * s.compute_seconds / n}};
    add_memory(r, cuda, cuda_base);
    rows.push_back(std::move(r));
  }
  return rows;
}

void store_rows(const std::string& db_path, std::vector<Row>& rows) {
  std::string create = "CREATE TABLE IF NOT EXISTS bench (id INTEGER PRIMARY KEY AUTOINCREMENT";
  std::string columns, marks;
  for (size_t i = 1; i < kMeta.size(); ++i) {
    const std::string name = kMeta[i].first;
    const bool integer = name == "cores" || name == "batch_size";
    create += ", \"" + name + "\" " + (integer ? "INTEGER" : "TEXT");
    columns += (columns.empty() ? "\"" : ", \"") + name + "\"";
    marks += marks.empty() ? "?" : ",?";
  }
  for (const auto& f : kFigures) {
    create += std::string(", ") + f.name + " REAL";
    columns += std::string(", ") + f.name;
    marks += ",?";
  }
  create += ")";

  std::unique_ptr<sqlite3, int (*)(sqlite3*)> guard(
      eval::sqlite_open(db_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "the benchmark database"), sqlite3_close);
  sqlite3* db = guard.get();
  sqlite3_busy_timeout(db, 60000);
  eval::sqlite_exec(db, "PRAGMA journal_mode = WAL", db_path);
  eval::sqlite_transaction(db, db_path, [&] {
    eval::sqlite_exec(db, create, db_path);
    eval::Stmt ins(db, "INSERT INTO bench(" + columns + ") VALUES (" + marks + ")", db_path);
    for (auto& r : rows) {
      int c = 1;
      for (size_t i = 1; i < kMeta.size(); ++i) {
        const std::string name = kMeta[i].first;
        if (name == "cores") ins.bind(c++, int64_t{r.cores});
        else if (name == "batch_size") ins.bind(c++, int64_t{r.batch_size});
        else ins.bind(c++, kMeta[i].second(r));
      }
      for (const auto& f : kFigures) {
        auto it = r.figures.find(f.name);
        ins.bind(c++, it == r.figures.end() ? std::optional<double>() : std::optional<double>(it->second));
      }
      ins.step();
      ins.reset();
      r.id = sqlite3_last_insert_rowid(db);
    }
  });
  log_line("bench", "stored " + std::to_string(rows.size()) + " row(s) in " + db_path + " (table bench)");
}

std::string format_rows(const std::vector<Row>& rows, const std::string& format) {
  const auto figs = present_figures(rows);
  auto value = [](const Row& r, const Figure& f) {
    auto it = r.figures.find(f.name);
    return it == r.figures.end() ? std::string() : fixed(it->second, f.decimals);
  };
  std::string out;
  if (format == "json") {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& r : rows) {
      nlohmann::json j = {{"id", r.id}, {"cores", r.cores}, {"batch_size", r.batch_size}};
      for (const auto& [name, get] : kMeta)
        if (!j.contains(name)) j[name] = get(r);
      for (const auto& f : figs) {
        auto it = r.figures.find(f.name);
        if (it == r.figures.end()) j[f.name] = nullptr;
        else if (f.decimals == 0 && it->second == std::floor(it->second)) j[f.name] = int64_t(it->second);  // counts
        else j[f.name] = it->second;
      }
      a.push_back(j);
    }
    return a.dump(2) + "\n";
  }
  if (format == "csv") {
    for (const auto& [name, get] : kMeta) out += std::string(out.empty() ? "" : ",") + name;
    for (const auto& f : figs) out += std::string(",") + f.name;
    out += "\n";
    for (const auto& r : rows) {
      std::string line;
      for (const auto& [name, get] : kMeta) line += (line.empty() ? "" : ",") + eval::csv_field(get(r));
      for (const auto& f : figs) line += "," + value(r, f);
      out += line + "\n";
    }
    return out;
  }
  if (format != "md") throw std::invalid_argument("unknown format '" + format + "' (md, csv or json)");
  // llama-bench style: what ran, then the figures; the machine once below the table.
  out = "| command | model / config | device | batch |";
  std::string rule = "|---|---|---|---:|";
  for (const auto& f : figs) {
    out += std::string(" ") + f.header + " |";
    rule += "---:|";
  }
  out += "\n" + rule + "\n";
  for (const auto& r : rows) {
    out += "| " + eval::md_cell(r.command) + " | " + eval::md_cell(fs::path(r.target).filename().string()) + " | " +
           eval::md_cell(r.device) + " | " + std::to_string(r.batch_size) + " |";
    for (const auto& f : figs) {
      std::string v = value(r, f);
      out += " " + (v.empty() ? std::string("-") : v) + " |";
    }
    out += "\n";
  }
  if (!rows.empty()) {
    const Row& r = rows.front();
    out += "\ncommit " + r.commit + ", host " + r.host + ", " + r.cpu + " (" + std::to_string(r.cores) + " threads)" +
           (r.gpu.empty() ? "" : ", " + r.gpu) + ", libtorch " + r.torch + ", " + r.created + "\n";
    bool infer = false;
    for (const auto& x : rows) infer |= x.command == "infer";
    if (infer) out += "* thread-seconds summed over the page threads; recog/write s are wall time\n";
  }
  return out;
}

}  // namespace ocrkit::bench
