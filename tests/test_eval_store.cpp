// The SQLite store: round trips, recomputation from the samples table, schema checks, concurrent
// writers and killed writers.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "test_eval_util.h"

using namespace ocrkit::eval;
using namespace ocrkit::eval::testing;

namespace {

int64_t query_int(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  int64_t v = -1;
  if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

std::string query_text(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::string v;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

const std::vector<Row> kRows = {
    {"/img/a.png", "1M8GDM9AXKP042788", "1M8GDM9AXKP042788", 0.98},
    {"/img/b.png", "1M8GDM9AXKP042788", "1M8GDM9AXKP04Z788", 0.61},
    {"/img/c.png", "caf\u00e9 \U0001F600", "cafe\u0301", 0.40},
    {"/img/d.png", "", "x", -1},
};

}  // namespace

TEST(EvalStore, RoundTripAndRecompute) {
  const auto dir = fresh_dir();
  const std::string db = (dir / "r.sqlite").string();
  std::vector<Sample> samples;
  MetricsOptions opt;
  opt.vin = true;
  RunRecord run = make_run("round", kRows, samples, opt);
  run.extra["note"] = "hello";
  Sample err;
  err.path = "/img/e.png";
  err.truth = "zz";
  err.error = "unreadable";
  samples.push_back(err);
  run.metrics = compute_metrics(samples, opt);
  {
    Store store(db);
    EXPECT_EQ(store.add_run(run, samples), 1);
  }
  Store store(db);
  RunRecord back = store.find_run("round");
  EXPECT_EQ(back.id, 1);
  EXPECT_EQ(back.name, "round");
  EXPECT_EQ(back.time, run.time);
  EXPECT_EQ(back.data_sha256, run.data_sha256);
  EXPECT_EQ(back.extra["note"], "hello");
  EXPECT_EQ(back.metrics.n, 4);
  EXPECT_EQ(back.metrics.n_errors, 1);
  EXPECT_DOUBLE_EQ(back.metrics.cer, run.metrics.cer);
  EXPECT_EQ(back.metrics.position_accuracy, run.metrics.position_accuracy);
  ASSERT_TRUE(back.metrics.vin.has_value());
  EXPECT_DOUBLE_EQ(back.metrics.vin->pred_valid, run.metrics.vin->pred_valid);
  ASSERT_TRUE(back.metrics.mean_confidence.has_value());

  // Recompute everything from the stored samples, with the stored normalisation.
  std::vector<Sample> stored = store.samples(back.id);
  ASSERT_EQ(stored.size(), samples.size());
  EXPECT_EQ(stored[2].truth, samples[2].truth);  // UTF-8 survives
  EXPECT_FALSE(stored[3].confidence.has_value());
  EXPECT_EQ(stored[4].error, "unreadable");
  for (Sample& s : stored) score_sample(s, Normalization::parse(back.normalization));
  Metrics again = compute_metrics(stored, opt);
  EXPECT_DOUBLE_EQ(again.cer, back.metrics.cer);
  EXPECT_DOUBLE_EQ(again.cer_macro, back.metrics.cer_macro);
  EXPECT_DOUBLE_EQ(again.wer, back.metrics.wer);
  EXPECT_DOUBLE_EQ(again.seq_acc, back.metrics.seq_acc);
  EXPECT_DOUBLE_EQ(again.ned, back.metrics.ned);
  EXPECT_NEAR(*again.mean_confidence, *back.metrics.mean_confidence, 1e-12);

  // The confusions table matches the metrics.
  auto conf = store.confusions(back.id);
  ASSERT_EQ(conf.size(), run.metrics.confusions.size());
  for (size_t i = 0; i < conf.size(); ++i) EXPECT_EQ(conf[i].count, run.metrics.confusions[i].count);

  // And plain SQL over the samples table gives the same micro CER.
  const int64_t dist = query_int(db, "SELECT SUM(distance) FROM samples WHERE run_id = 1 AND error IS NULL");
  const int64_t len = query_int(db, "SELECT SUM(ref_len) FROM samples WHERE run_id = 1 AND error IS NULL");
  EXPECT_DOUBLE_EQ(static_cast<double>(dist) / len, back.metrics.cer);
  EXPECT_EQ(query_int(db, "SELECT version FROM schema_version"), kStoreSchemaVersion);

  EXPECT_EQ(store.find_run("1").id, 1);
  EXPECT_THROW(store.find_run("nope"), std::runtime_error);
}

TEST(EvalStore, NewestRunWinsANameLookup) {
  const auto dir = fresh_dir();
  Store store((dir / "r.sqlite").string());
  std::vector<Sample> samples;
  RunRecord a = make_run("same", kRows, samples), b = make_run("same", kRows, samples);
  store.add_run(a, samples);
  store.add_run(b, samples);
  EXPECT_EQ(store.find_run("same").id, b.id);
  EXPECT_EQ(store.runs().size(), 2u);
}

TEST(EvalStore, RefusesNewerSchemaAndForeignFiles) {
  const auto dir = fresh_dir();
  const std::string db = (dir / "r.sqlite").string();
  { Store store(db); }
  query_int(db, "UPDATE schema_version SET version = 99");
  try {
    Store store(db);
    FAIL() << "opened a newer schema";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(db), std::string::npos) << e.what();
  }
  const std::string junk = (dir / "junk.sqlite").string();
  std::ofstream(junk) << "this is not a database, just some text that is long enough to have a header.......";
  EXPECT_THROW(Store{junk}, std::runtime_error);
  StoreOptions ro;
  ro.read_only = true;
  EXPECT_THROW(Store((dir / "missing.sqlite").string(), ro), std::runtime_error);
}

TEST(EvalStore, ConcurrentWritersBothSucceed) {
  const auto dir = fresh_dir();
  const std::string db = (dir / "r.sqlite").string();
  constexpr int kRuns = 15;
  std::vector<Row> rows;
  for (int i = 0; i < 400; ++i) rows.push_back({"/img/" + std::to_string(i) + ".png", "ABC123", i % 3 ? "ABC123" : "A8C12", 0.5});
  auto writer = [&](const std::string& name, std::string* error) {
    try {
      Store store(db);  // each writer has its own connection, opened at the same time
      for (int r = 0; r < kRuns; ++r) {
        std::vector<Sample> samples;
        RunRecord run = make_run(name, rows, samples);
        store.add_run(run, samples);
      }
    } catch (const std::exception& e) {
      *error = e.what();
    }
  };
  std::string e1, e2;
  std::thread t1(writer, "one", &e1), t2(writer, "two", &e2);
  t1.join();
  t2.join();
  EXPECT_EQ(e1, "");
  EXPECT_EQ(e2, "");
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM runs"), 2 * kRuns);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM samples"), 2 * kRuns * 400);
  EXPECT_EQ(query_text(db, "PRAGMA journal_mode"), "wal");
  Store store(db);
  for (const auto& run : store.runs()) EXPECT_EQ(store.samples(run.id).size(), 400u);
}

TEST(EvalStore, ConcurrentProcessesBothSucceed) {
  const auto dir = fresh_dir();
  const std::string db = (dir / "r.sqlite").string();
  std::vector<Row> rows;
  for (int i = 0; i < 300; ++i) rows.push_back({"/img/" + std::to_string(i) + ".png", "HELLO", "HELL0", 0.5});
  std::vector<pid_t> kids;
  for (int k = 0; k < 2; ++k) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      try {
        Store store(db);
        for (int r = 0; r < 10; ++r) {
          std::vector<Sample> samples;
          RunRecord run = make_run("proc" + std::to_string(k), rows, samples);
          store.add_run(run, samples);
        }
      } catch (...) {
        _exit(1);
      }
      _exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer process failed";
  }
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM runs"), 20);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM samples"), 20 * 300);
}

TEST(EvalStore, KilledWriterLeavesNothingHalfWritten) {
  const auto dir = fresh_dir();
  const std::string db = (dir / "r.sqlite").string();
  { Store store(db); }
  std::vector<Row> rows;
  for (int i = 0; i < 20000; ++i) rows.push_back({"/img/" + std::to_string(i) + ".png", "HELLO WORLD", "HELL0 W0RLD", 0.5});
  std::vector<Sample> samples;
  RunRecord proto = make_run("killed", rows, samples);
  for (int attempt = 0; attempt < 3; ++attempt) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      Store store(db);
      for (;;) {
        RunRecord run = proto;
        store.add_run(run, samples);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + 70 * attempt));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  // Every run that exists is complete; no sample or confusion row lacks its run.
  Store store(db);
  for (const auto& run : store.runs()) {
    EXPECT_EQ(static_cast<int64_t>(store.samples(run.id).size()), run.metrics.n + run.metrics.n_errors);
    EXPECT_EQ(store.confusions(run.id).size(), proto.metrics.confusions.size());
  }
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM samples WHERE run_id NOT IN (SELECT id FROM runs)"), 0);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM samples"),
            query_int(db, "SELECT COUNT(*) FROM runs") * static_cast<int64_t>(rows.size()));
}
