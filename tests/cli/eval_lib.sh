# Shared by the eval CLI tests (sourced): checks on a results database.

# They read the database back with the sqlite3 tool (setup.sh installs it; a bare GPU host lacks it): skip.
command -v sqlite3 >/dev/null || { echo "SKIP: the sqlite3 command-line tool is not installed"; exit 77; }

# Fails when any run's stored CER, WER, sequence accuracy or 1-NED differs from a recomputation in SQL
# over its own samples table (scored samples only), or when the database is not in WAL mode.
eval_check_recompute() {
  local db=$1 bad
  bad=$(sqlite3 -batch -noheader "$db" "SELECT r.id || ':' || r.name FROM runs r JOIN (
           SELECT run_id, SUM(distance) * 1.0 / SUM(ref_len) AS cer, SUM(word_distance) * 1.0 / SUM(word_count) AS wer,
                  AVG(distance = 0) AS acc,
                  AVG(CASE WHEN MAX(ref_len, pred_len) = 0 THEN 1.0 ELSE 1.0 - distance * 1.0 / MAX(ref_len, pred_len) END) AS ned,
                  COUNT(*) AS n
           FROM samples WHERE error IS NULL GROUP BY run_id) s ON s.run_id = r.id
         WHERE ABS(r.cer - s.cer) > 1e-9 OR ABS(r.wer - s.wer) > 1e-9 OR ABS(r.seq_acc - s.acc) > 1e-9
            OR ABS(r.ned - s.ned) > 1e-9 OR r.n != s.n")
  [[ -z $bad ]] || { echo "FAIL: stored metrics differ from the samples table for runs: $bad" >&2; return 1; }
  [[ $(sqlite3 -batch -noheader "$db" "SELECT journal_mode FROM pragma_journal_mode") == wal ]] ||
    { echo "FAIL: $db is not in WAL mode" >&2; return 1; }
}
