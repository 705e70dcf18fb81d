// Character-accuracy metrics: edit distances over Unicode code points, CER/WER/sequence accuracy/1-NED,
// per-position accuracy, confusion pairs, confidence buckets and VIN checks.
//
// Definitions (what the report and the store mean by each number):
// - Texts are compared as Unicode code points after NFC plus the chosen Normalization (applied to truth
//   and prediction alike). An emoji is one code point; "e" + U+0301 equals U+00E9. Truths arrive already
//   label-normalised by the label reader (ligatures spelt out, whitespace collapsed: datasets/labels.h);
//   predictions do not, so an engine that prints a ligature or stray spaces pays for it unless the run
//   asks for nfkc / whitespace.
// - distance: Levenshtein distance (unit costs) between truth and prediction.
// - CER (micro) = sum(distance) / sum(ref_len) over scored samples; CER macro = mean of per-sample CER.
// - WER: the same over whitespace-separated tokens.
// - Empty reference: its distance (= prediction length) is added to the numerator and nothing to the
//   denominator; its per-sample CER is 0 when the prediction is empty too, else 1. A set whose references
//   are all empty has CER 0 when every prediction is empty, else 1.
// - Sequence accuracy: share of samples with distance 0.
// - 1-NED (ICDAR 2019): mean over samples of 1 - distance / max(ref_len, pred_len); 1 when both are empty.
// - Per-position accuracy (only when every reference has the same length L): for position i, the share
//   of samples whose reference character i is matched by the alignment (robust to a shifted read).
// - Samples with an error (unreadable image, no prediction) are counted in n_errors and excluded from
//   every metric.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ocrkit::eval {

// Normalisations applied to truth and prediction before scoring (NFC is always applied).
struct Normalization {
  bool nfkc = false;        // compatibility composition (ligatures, full-width forms) instead of NFC
  bool casefold = false;    // Unicode case folding
  bool whitespace = false;  // runs of whitespace -> one space, ends trimmed

  // "casefold,whitespace,nfkc" in any order; "" or "none" = NFC only. Throws on an unknown name.
  static Normalization parse(const std::string& spec);
  // Canonical form stored with each run: "nfc", "nfkc+casefold", "nfc+casefold+whitespace", ...
  std::string to_string() const;
  std::string apply(const std::string& text) const;
};

enum class EditKind { match, substitution, insertion, deletion };

// One step of an alignment: ref/hyp are the code points involved (0 for the missing side).
struct EditOp {
  EditKind kind;
  char32_t ref = 0;
  char32_t hyp = 0;
  int ref_pos = -1;  // index in the reference (-1 for insertions)
};

struct Alignment {
  int distance = 0;
  std::vector<EditOp> ops;  // in reading order
};

// Levenshtein alignment with a backtrace. Ties prefer match/substitution, then deletion, then insertion.
Alignment align(const std::u32string& ref, const std::u32string& hyp);
// Token-level distance (WER); code points use ocrkit::edit_distance (core/text.h).
int edit_distance(const std::vector<std::string>& ref, const std::vector<std::string>& hyp);
std::vector<std::string> split_words(const std::string& text);

// One evaluated item, as the store keeps it. truth/prediction are the texts as read (before the
// run's Normalization); the counts are after it.
struct Sample {
  std::string path;                   // image path (absolute), the key for compare
  std::string truth;
  std::string prediction;
  std::optional<double> confidence;  // engine's line confidence, if it gave one
  std::string error;                  // non-empty: not scored (unreadable image, no prediction)
  int distance = 0;                   // character edit distance
  int ref_len = 0;                    // reference length in code points
  int pred_len = 0;                   // prediction length in code points
  int word_distance = 0;              // token edit distance
  int word_count = 0;                 // reference tokens
};

// Fills the counts of a sample from its texts (no-op for error samples).
void score_sample(Sample& sample, const Normalization& norm);

struct ConfusionPair {
  std::string kind;   // "sub", "ins" or "del"
  std::string truth;  // empty for insertions
  std::string pred;   // empty for deletions
  int64_t count = 0;
};

struct ConfidenceBucket {
  double low = 0, high = 0;  // [low, high) (the last bucket includes 1)
  int64_t count = 0;
  double mean_confidence = 0;
  double accuracy = 0;  // sequence accuracy of the samples in the bucket
};

struct VinStats {
  double truth_valid = 0;      // share of truths whose check digit is right
  double pred_valid = 0;       // share of predictions whose check digit is right
  double pred_bad_chars = 0;   // share of predictions with characters outside the VIN alphabet
  double pred_bad_length = 0;  // share of predictions that are not 17 characters long
};

struct MetricsOptions {
  Normalization normalization;  // applied before alignment (confusions, positions)
  bool vin = false;             // compute VinStats
  int confidence_buckets = 10;  // equal-width buckets over [0, 1]
};

struct Metrics {
  int64_t n = 0;            // scored samples
  int64_t n_errors = 0;     // samples not scored
  int64_t chars = 0;        // sum of ref_len
  int64_t char_errors = 0;  // sum of distance
  int64_t words = 0;        // sum of word_count
  int64_t word_errors = 0;  // sum of word_distance
  double cer = 0, cer_macro = 0, wer = 0, seq_acc = 0, ned = 0;  // ned holds 1-NED
  std::optional<double> mean_confidence;    // over scored samples with a confidence
  std::vector<double> position_accuracy;    // empty unless every reference has the same length
  std::vector<ConfidenceBucket> buckets;    // empty when no sample has a confidence
  std::vector<ConfusionPair> confusions;    // most frequent first
  std::optional<VinStats> vin;
};

// Aggregates already-scored samples (score_sample) into the set's metrics.
Metrics compute_metrics(const std::vector<Sample>& samples, const MetricsOptions& options);

// Per-sample CER as defined above (0 for error samples).
double sample_cer(const Sample& s);

}  // namespace ocrkit::eval
