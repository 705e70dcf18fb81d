// Small SQLite helpers shared by the results store (eval/store.cpp) and the benchmark table
// (bench/bench.cpp): a self-finalising prepared statement, the ISO time stamp the rows carry, opening a
// database and write transactions.
#pragma once
#include <sqlite3.h>

#include <cmath>
#include <cstdint>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <string>

namespace ocrkit::eval {

// A prepared statement that finalises itself; bind()/step() throw with the database's message.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql, const std::string& where) : db_(db), where_(where) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt& bind(int i, const std::string& v) {
    check(sqlite3_bind_text(s_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  // Empty text binds NULL (used for the error column, so `error IS NULL` selects scored samples).
  Stmt& bind_or_null(int i, const std::string& v) {
    return v.empty() ? (check(sqlite3_bind_null(s_, i)), *this) : bind(i, v);
  }
  Stmt& bind(int i, int64_t v) { check(sqlite3_bind_int64(s_, i, v)); return *this; }
  Stmt& bind(int i, double v) {
    check(std::isfinite(v) ? sqlite3_bind_double(s_, i, v) : sqlite3_bind_null(s_, i));
    return *this;
  }
  Stmt& bind(int i, const std::optional<double>& v) {
    return v ? bind(i, *v) : (check(sqlite3_bind_null(s_, i)), *this);
  }
  // True while rows come back.
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) fail("step");
    return false;
  }
  void reset() { sqlite3_reset(s_); sqlite3_clear_bindings(s_); }
  std::string text(int col) const {
    const unsigned char* t = sqlite3_column_text(s_, col);
    return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(s_, col)) : std::string();
  }
  int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }
  double real(int col) const { return sqlite3_column_double(s_, col); }
  std::optional<double> maybe_real(int col) const {
    if (sqlite3_column_type(s_, col) == SQLITE_NULL) return std::nullopt;
    return real(col);
  }

 private:
  void check(int rc) { if (rc != SQLITE_OK) fail("bind"); }
  [[noreturn]] void fail(const char* what) {
    throw std::runtime_error(where_ + ": SQLite " + what + " failed: " + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  std::string where_;
};

inline std::string utc_now_iso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Runs SQL without results; throws naming `where` (the database file) with SQLite's message.
inline void sqlite_exec(sqlite3* db, const std::string& sql, const std::string& where) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    throw std::runtime_error(where + ": SQLite error: " + msg);
  }
}

// Opens `path` with `flags` (SQLITE_OPEN_*); throws "PATH: cannot open WHAT: message".
inline sqlite3* sqlite_open(const std::string& path, int flags, const std::string& what) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw std::runtime_error(path + ": cannot open " + what + ": " + msg);
  }
  return db;
}

// Runs write() inside BEGIN IMMEDIATE ... COMMIT (waiting up to the busy timeout for other writers);
// any exception rolls back and propagates, so a failed or killed writer leaves nothing half written.
template <class Write>
void sqlite_transaction(sqlite3* db, const std::string& where, Write&& write) {
  sqlite_exec(db, "BEGIN IMMEDIATE", where);
  try {
    write();
    sqlite_exec(db, "COMMIT", where);
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

}  // namespace ocrkit::eval
