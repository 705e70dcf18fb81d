// The SQLite results store (DESIGN.md contract): one file, many runs. Tables:
//   schema_version(version)
//   runs(id, name, time, kind, model_path, model_sha256, data_path, data_sha256, engine, device, config,
//        normalization, n, n_errors, chars, char_errors, words, word_errors, cer, cer_macro, wer, seq_acc,
//        ned, mean_confidence, duration_s, extra)            -- extra: JSON (positions, buckets, VIN, ...)
//   samples(run_id, idx, path, truth, prediction, confidence, distance, ref_len, pred_len, word_distance,
//           word_count, error)
//   confusions(run_id, kind, truth, pred, count)             -- kind: sub | ins | del
// WAL journal and a busy timeout let several processes write one file; each run is written in one
// BEGIN IMMEDIATE transaction, so a killed writer leaves nothing half written.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/metrics.h"

struct sqlite3;

namespace ocrkit::eval {

constexpr int kStoreSchemaVersion = 1;

struct RunRecord {
  int64_t id = 0;             // assigned by the store
  std::string name;           // user label (not unique: lookups by name take the newest)
  std::string time;           // ISO 8601 UTC, set when the run is added if empty
  std::string kind;           // "model" (ocrkit eval) or "score" (eval score)
  std::string model_path;     // checkpoint (model runs) or prediction TSV (score runs)
  std::string model_sha256;   // of that file
  std::string data_path;      // label file or folder
  std::string data_sha256;    // of the label file (folders: of their label listing)
  std::string engine;         // "ocrkit", "tesseract", ...
  std::string device;         // runtime summary for model runs
  std::string config;         // checkpoint config YAML / engine settings
  std::string normalization;  // Normalization::to_string()
  Metrics metrics;            // scalar columns; the vectors live in extra / confusions
  double duration_s = 0;      // wall time of recognition + scoring
  nlohmann::json extra = nlohmann::json::object();  // everything else (positions, buckets, VIN, issues)
};

struct StoreOptions {
  int busy_timeout_ms = 60000;  // how long a writer waits for another writer's transaction
  bool read_only = false;       // open an existing file without creating or migrating it
};

class Store {
 public:
  // Opens (and unless read_only, creates) the database. Throws naming the file when it cannot be
  // opened, is not an ocrkit store, or has a newer schema version than this build.
  explicit Store(const std::string& path, const StoreOptions& options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Writes the run, its samples and its confusions in one transaction; returns the new run id.
  int64_t add_run(RunRecord& run, const std::vector<Sample>& samples);

  // Oldest first. Metrics vectors (positions, buckets, VIN) come back from extra["metrics"]; the
  // confusions do not (see confusions()).
  std::vector<RunRecord> runs() const;
  // A run by id ("12") or name (newest with that name). Throws when there is none.
  RunRecord find_run(const std::string& id_or_name) const;
  std::vector<Sample> samples(int64_t run_id) const;  // in idx order
  std::vector<ConfusionPair> confusions(int64_t run_id) const;  // most frequent first
  const std::string& path() const { return path_; }

 private:
  void exec(const std::string& sql) const;
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace ocrkit::eval
