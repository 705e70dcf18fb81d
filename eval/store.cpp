#include "eval/store.h"

#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <stdexcept>

#include "core/log.h"
#include "eval/sqlite.h"

namespace ocrkit::eval {

namespace {

const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL, time TEXT NOT NULL, kind TEXT NOT NULL,
  model_path TEXT, model_sha256 TEXT, data_path TEXT, data_sha256 TEXT,
  engine TEXT, device TEXT, config TEXT, normalization TEXT NOT NULL,
  n INTEGER NOT NULL, n_errors INTEGER NOT NULL, chars INTEGER NOT NULL, char_errors INTEGER NOT NULL,
  words INTEGER NOT NULL, word_errors INTEGER NOT NULL,
  cer REAL, cer_macro REAL, wer REAL, seq_acc REAL, ned REAL, mean_confidence REAL,
  duration_s REAL, extra TEXT);
CREATE TABLE IF NOT EXISTS samples (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
  path TEXT NOT NULL, truth TEXT NOT NULL, prediction TEXT NOT NULL, confidence REAL,
  distance INTEGER NOT NULL, ref_len INTEGER NOT NULL, pred_len INTEGER NOT NULL,
  word_distance INTEGER NOT NULL, word_count INTEGER NOT NULL, error TEXT,
  PRIMARY KEY (run_id, idx));
CREATE TABLE IF NOT EXISTS confusions (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  kind TEXT NOT NULL, truth TEXT NOT NULL, pred TEXT NOT NULL, count INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS samples_path ON samples(path);
CREATE INDEX IF NOT EXISTS confusions_run ON confusions(run_id);
)";

// The Metrics vectors as JSON (kept in runs.extra["metrics"]).
nlohmann::json details_to_json(const Metrics& m) {
  nlohmann::json j = nlohmann::json::object();
  j["position_accuracy"] = m.position_accuracy;
  nlohmann::json buckets = nlohmann::json::array();
  for (const auto& b : m.buckets)
    buckets.push_back({{"low", b.low}, {"high", b.high}, {"count", b.count},
                       {"mean_confidence", b.mean_confidence}, {"accuracy", b.accuracy}});
  j["confidence_buckets"] = buckets;
  if (m.vin)
    j["vin"] = {{"truth_valid", m.vin->truth_valid}, {"pred_valid", m.vin->pred_valid},
                {"pred_bad_chars", m.vin->pred_bad_chars}, {"pred_bad_length", m.vin->pred_bad_length}};
  return j;
}

void details_from_json(const nlohmann::json& j, Metrics& m) {
  if (!j.is_object()) return;
  if (j.contains("position_accuracy")) m.position_accuracy = j["position_accuracy"].get<std::vector<double>>();
  if (j.contains("confidence_buckets"))
    for (const auto& b : j["confidence_buckets"])
      m.buckets.push_back({b.value("low", 0.0), b.value("high", 0.0), b.value("count", int64_t{0}),
                           b.value("mean_confidence", 0.0), b.value("accuracy", 0.0)});
  if (j.contains("vin")) {
    const auto& v = j["vin"];
    m.vin = VinStats{v.value("truth_valid", 0.0), v.value("pred_valid", 0.0), v.value("pred_bad_chars", 0.0),
                     v.value("pred_bad_length", 0.0)};
  }
}

// Every runs column but id, in insert order; kRunColumns adds the id in front (read order).
const std::string kRunValueColumns =
    "name, time, kind, model_path, model_sha256, data_path, data_sha256, engine, device, config, "
    "normalization, n, n_errors, chars, char_errors, words, word_errors, cer, cer_macro, wer, seq_acc, ned, "
    "mean_confidence, duration_s, extra";
const std::string kRunColumns = "id, " + kRunValueColumns;

RunRecord read_run(const Stmt& s) {
  RunRecord r;
  int c = 0;
  r.id = s.integer(c++);
  for (std::string* f : {&r.name, &r.time, &r.kind, &r.model_path, &r.model_sha256, &r.data_path, &r.data_sha256,
                         &r.engine, &r.device, &r.config, &r.normalization})
    *f = s.text(c++);
  Metrics& m = r.metrics;
  for (int64_t* f : {&m.n, &m.n_errors, &m.chars, &m.char_errors, &m.words, &m.word_errors}) *f = s.integer(c++);
  for (double* f : {&m.cer, &m.cer_macro, &m.wer, &m.seq_acc, &m.ned}) *f = s.real(c++);
  m.mean_confidence = s.maybe_real(c++);
  r.duration_s = s.real(c++);
  const std::string extra = s.text(c++);
  r.extra = extra.empty() ? nlohmann::json::object() : nlohmann::json::parse(extra, nullptr, false);
  if (r.extra.is_discarded()) r.extra = nlohmann::json::object();
  if (r.extra.contains("metrics")) details_from_json(r.extra["metrics"], m);
  return r;
}

}  // namespace

Store::Store(const std::string& path, const StoreOptions& opt) : path_(path) {
  std::error_code ec;
  if (opt.read_only && !std::filesystem::exists(path, ec))
    throw std::runtime_error(path + ": results database not found");
  const int flags = opt.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  db_ = sqlite_open(path, flags, "results database");
  try {
    sqlite3_busy_timeout(db_, opt.busy_timeout_ms);
    exec("PRAGMA foreign_keys = ON");
    if (!opt.read_only) {
      exec("PRAGMA journal_mode = WAL");
      sqlite_transaction(db_, path_, [&] {
        exec(kSchema);
        Stmt count(db_, "SELECT COUNT(*) FROM schema_version", path_);
        count.step();
        if (count.integer(0) == 0) {
          Stmt ins(db_, "INSERT INTO schema_version(version) VALUES (?)", path_);
          ins.bind(1, int64_t{kStoreSchemaVersion}).step();
          log_line("eval", "created results database " + path_ + " (schema " + std::to_string(kStoreSchemaVersion) + ")");
        }
      });
    }
    Stmt version(db_, "SELECT MAX(version) FROM schema_version", path_);
    version.step();
    const int64_t v = version.integer(0);
    if (v > kStoreSchemaVersion)
      throw std::runtime_error(path_ + ": results database has schema version " + std::to_string(v) +
                               ", newer than this ocrkit understands (" + std::to_string(kStoreSchemaVersion) +
                               "); use a newer ocrkit or another --db file");
  } catch (const std::runtime_error& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    const std::string what = e.what();
    if (what.find("no such table") != std::string::npos || what.find("file is not a database") != std::string::npos)
      throw std::runtime_error(path + ": not an ocrkit results database (" + what + ")");
    throw;
  }
}

Store::~Store() { sqlite3_close(db_); }

void Store::exec(const std::string& sql) const { sqlite_exec(db_, sql, path_); }

int64_t Store::add_run(RunRecord& run, const std::vector<Sample>& samples) {
  if (run.time.empty()) run.time = utc_now_iso();
  run.extra["metrics"] = details_to_json(run.metrics);
  sqlite_transaction(db_, path_, [&] {  // waits up to busy_timeout for other writers
    Stmt ins(db_, "INSERT INTO runs(" + kRunValueColumns +
                      ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", path_);
    int c = 1;
    for (const std::string* f : {&run.name, &run.time, &run.kind, &run.model_path, &run.model_sha256, &run.data_path,
                                 &run.data_sha256, &run.engine, &run.device, &run.config, &run.normalization})
      ins.bind(c++, *f);
    const Metrics& m = run.metrics;
    for (int64_t f : {m.n, m.n_errors, m.chars, m.char_errors, m.words, m.word_errors}) ins.bind(c++, f);
    for (double f : {m.cer, m.cer_macro, m.wer, m.seq_acc, m.ned}) ins.bind(c++, f);
    ins.bind(c++, m.mean_confidence);
    ins.bind(c++, run.duration_s);
    ins.bind(c++, run.extra.dump());
    ins.step();
    run.id = sqlite3_last_insert_rowid(db_);

    Stmt s(db_, "INSERT INTO samples(run_id, idx, path, truth, prediction, confidence, distance, ref_len, "
                "pred_len, word_distance, word_count, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", path_);
    for (size_t i = 0; i < samples.size(); ++i) {
      const Sample& x = samples[i];
      s.bind(1, run.id).bind(2, static_cast<int64_t>(i)).bind(3, x.path).bind(4, x.truth).bind(5, x.prediction);
      s.bind(6, x.confidence).bind(7, int64_t{x.distance}).bind(8, int64_t{x.ref_len}).bind(9, int64_t{x.pred_len});
      s.bind(10, int64_t{x.word_distance}).bind(11, int64_t{x.word_count});
      s.bind_or_null(12, x.error);
      s.step();
      s.reset();
    }
    Stmt cf(db_, "INSERT INTO confusions(run_id, kind, truth, pred, count) VALUES (?,?,?,?,?)", path_);
    for (const ConfusionPair& p : m.confusions) {
      cf.bind(1, run.id).bind(2, p.kind).bind(3, p.truth).bind(4, p.pred).bind(5, p.count);
      cf.step();
      cf.reset();
    }
  });
  log_line("eval", "stored run " + std::to_string(run.id) + " (" + run.name + ", " + std::to_string(samples.size()) +
                       " samples) in " + path_);
  return run.id;
}

std::vector<RunRecord> Store::runs() const {
  Stmt s(db_, "SELECT " + kRunColumns + " FROM runs ORDER BY id", path_);
  std::vector<RunRecord> out;
  while (s.step()) out.push_back(read_run(s));
  return out;
}

RunRecord Store::find_run(const std::string& key) const {
  const bool numeric = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos;
  if (numeric) {
    Stmt s(db_, "SELECT " + kRunColumns + " FROM runs WHERE id = ?", path_);
    s.bind(1, static_cast<int64_t>(std::stoll(key)));
    if (s.step()) return read_run(s);
  }
  Stmt s(db_, "SELECT " + kRunColumns + " FROM runs WHERE name = ? ORDER BY id DESC", path_);
  s.bind(1, key);
  if (!s.step()) throw std::runtime_error(path_ + ": no run with id or name '" + key + "'");
  RunRecord r = read_run(s);
  if (s.step()) log_line("eval", "several runs are named '" + key + "'; using the newest, id " + std::to_string(r.id));
  return r;
}

std::vector<Sample> Store::samples(int64_t run_id) const {
  Stmt s(db_, "SELECT path, truth, prediction, confidence, distance, ref_len, pred_len, word_distance, word_count, "
              "error FROM samples WHERE run_id = ? ORDER BY idx", path_);
  s.bind(1, run_id);
  std::vector<Sample> out;
  while (s.step()) {
    Sample x;
    x.path = s.text(0);
    x.truth = s.text(1);
    x.prediction = s.text(2);
    x.confidence = s.maybe_real(3);
    x.distance = static_cast<int>(s.integer(4));
    x.ref_len = static_cast<int>(s.integer(5));
    x.pred_len = static_cast<int>(s.integer(6));
    x.word_distance = static_cast<int>(s.integer(7));
    x.word_count = static_cast<int>(s.integer(8));
    x.error = s.text(9);
    out.push_back(std::move(x));
  }
  return out;
}

std::vector<ConfusionPair> Store::confusions(int64_t run_id) const {
  Stmt s(db_, "SELECT kind, truth, pred, count FROM confusions WHERE run_id = ? ORDER BY count DESC, rowid", path_);
  s.bind(1, run_id);
  std::vector<ConfusionPair> out;
  while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), s.integer(3)});
  return out;
}

}  // namespace ocrkit::eval
