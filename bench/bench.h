// `ocrkit bench` as a library: speed and memory of the infer pipeline (optionally against Tesseract on the
// same page images) and of the training loop, per batch size, one row each, kept in a SQLite table and
// printed like llama-bench (markdown, CSV or JSON).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/runtime_request.h"

namespace ocrkit::bench {

// One measurement: where and what ran (the metadata) and the figures it produced.
struct Row {
  int64_t id = 0;            // assigned by the database
  std::string created;       // ISO 8601 UTC
  std::string commit;        // git hash the binary was built from (-DOCRKIT_COMMIT, else git; "unknown")
  std::string host, cpu;     // host name, CPU model (/proc/cpuinfo)
  int cores = 0;             // hardware threads
  std::string gpu;           // GPU the run used ("" on CPU)
  std::string torch;         // libtorch version
  std::string device;        // runtime device ("cpu", "cuda:0 (NVIDIA H100 80GB HBM3)")
  std::string command;       // "infer" | "train"
  std::string target;        // checkpoint (infer) or config file (train)
  int batch_size = 0;
  std::map<std::string, double> figures;  // by Figure::name; a missing figure was not measured
};

// The figures a row may carry, in column order (infer's, train's, then memory).
struct Figure {
  const char* name;   // column name (SQLite, CSV, JSON)
  const char* header; // markdown header
  int decimals;       // printed precision
};
const std::vector<Figure>& figures();

struct InferBenchOptions {
  std::string model;                          // checkpoint (must exist)
  std::vector<std::string> inputs;            // PDFs, images or folders
  std::vector<int> batch_sizes = {16, 64, 256};
  RuntimeRequest runtime;                     // --device etc.
  int jobs = 0;                               // page threads (0 = hardware threads)
  int dpi = 300;                              // PDF render resolution (ocrkit and the Tesseract pages)
  bool tesseract = false;                     // also time `tesseract PAGE out --psm 3 -l eng tsv`
  int tesseract_procs = 0;                    // parallel tesseract processes (0 = hardware threads)
};
// Loads the model once, then runs the whole infer pipeline (JSON output into a temporary folder) once per
// batch size. Throws with context (missing model, no inputs, failed pages, a failing tesseract run).
std::vector<Row> bench_infer(const InferBenchOptions& options);

struct TrainBenchOptions {
  std::string config_path;                    // YAML config (required)
  std::vector<std::string> sets;              // --set key=value overrides
  std::vector<int> batch_sizes = {32, 64, 128, 256};
  int steps = 50;                             // timed optimizer steps per batch size
  int warmup = 10;                            // untimed steps before them (kernels, allocator, loader)
  RuntimeRequest runtime;                     // explicit flags override the config's runtime.*
};
// Trains warmup + steps steps per batch size into a temporary run folder (no validation data; deleted
// after); the figures cover the last `steps`.
std::vector<Row> bench_train(const TrainBenchOptions& options);

// Appends the rows to the `bench` table of a SQLite file (created when missing; may be the eval results
// database), setting their ids. Throws naming the file.
void store_rows(const std::string& db_path, std::vector<Row>& rows);

// md (a markdown table and a line naming the machine) | csv | json. Throws std::invalid_argument for
// another format.
std::string format_rows(const std::vector<Row>& rows, const std::string& format);

// "16,64,256" -> {16, 64, 256}; throws std::invalid_argument for anything but positive integers.
std::vector<int> parse_batch_sizes(const std::string& text);

}  // namespace ocrkit::bench
