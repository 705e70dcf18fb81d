// Building runs: scoring predictions made elsewhere (`eval score`) and running a checkpoint over a
// labelled set (`ocrkit eval`). Both produce an EvalRun that the caller stores and summarises.
#pragma once
#include <string>
#include <vector>

#include "core/recognizer.h"
#include "eval/metrics.h"
#include "eval/store.h"

namespace ocrkit::eval {

struct EvalRun {
  RunRecord run;                      // metrics filled, id 0 until stored
  std::vector<Sample> samples;        // in label-file order
  std::vector<std::string> problems;  // "file:line: reason" for skipped labels, unmatched predictions
  double lines_per_s = 0;             // recognition throughput (model runs)
};

struct ScoreOptions {
  std::string truth_path;        // label file or folder (any DESIGN.md format)
  std::string pred_path;         // TSV: path<TAB>prediction[<TAB>confidence]
  std::string name;              // run name; empty = the engine name
  std::string engine = "external";  // who made the predictions ("tesseract", ...)
  std::string config;            // free text describing the engine's settings (stored with the run)
  MetricsOptions metrics;        // normalisation, VIN mode, buckets
};

// Matches predictions to truth items by path (absolute, or relative to the current folder, the TSV's
// folder or the label file's folder). Truth items without a prediction become error samples;
// predictions matching no item, duplicates and bad lines are listed in problems.
EvalRun score_predictions(const ScoreOptions& options);

struct ModelEvalOptions {
  std::string model_path;        // checkpoint
  std::string data_path;         // label file or folder
  std::string name;              // run name; empty = the checkpoint's file stem
  RecognizerOptions recognizer;  // runtime (device, precision, ...) and batching
  int batch_size = 64;           // crops read and recognised per call
  MetricsOptions metrics;        // normalisation, VIN mode, buckets
};

// Recognises every item through the checkpoint's own preprocessing. An unreadable image becomes an
// error sample and the run goes on.
EvalRun evaluate_model(const ModelEvalOptions& options);

// Absolute, lexically normal form of a path (symlinks resolved where they exist): the sample key.
std::string canonical_path(const std::string& path);
// sha256 of a label file; for a folder, of its labels.tsv/labels.jsonl or else of its sorted *.gt.txt files.
std::string label_source_sha256(const std::string& path);
// Truth items of a label source as unscored samples (label order, canonical paths); skipped labels
// become problems.
std::vector<Sample> load_truth(const std::string& path, EvalRun& result);
// Logs a problem (the first few individually) and keeps it for the run record.
void add_problem(EvalRun& result, const std::string& message);
// Scores the samples, computes the metrics and fills run.metrics / normalization / extra.
void finish_run(EvalRun& result, const MetricsOptions& options);

}  // namespace ocrkit::eval
