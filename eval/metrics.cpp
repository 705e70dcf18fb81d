#include "eval/metrics.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "core/text.h"
#include "core/vin.h"

namespace ocrkit::eval {

Normalization Normalization::parse(const std::string& spec) {
  Normalization n;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = collapse_whitespace(item);
    if (item.empty() || item == "none" || item == "nfc") continue;
    if (item == "casefold") n.casefold = true;
    else if (item == "whitespace") n.whitespace = true;
    else if (item == "nfkc") n.nfkc = true;
    else throw std::runtime_error("unknown normalisation '" + item + "' (expected casefold, whitespace, nfkc)");
  }
  return n;
}

std::string Normalization::to_string() const {
  std::string s = nfkc ? "nfkc" : "nfc";
  if (casefold) s += "+casefold";
  if (whitespace) s += "+whitespace";
  return s;
}

std::string Normalization::apply(const std::string& text) const {
  std::string t = casefold ? case_fold(text) : text;
  t = nfkc ? ocrkit::nfkc(t) : nfc(t);  // after case folding, which may decompose
  return whitespace ? collapse_whitespace(t) : t;
}

Alignment align(const std::u32string& ref, const std::u32string& hyp) {
  const size_t n = ref.size(), m = hyp.size();
  std::vector<int> d((n + 1) * (m + 1));
  auto at = [&](size_t i, size_t j) -> int& { return d[i * (m + 1) + j]; };
  for (size_t i = 0; i <= n; ++i) at(i, 0) = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) at(0, j) = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j)
      at(i, j) = std::min({at(i - 1, j - 1) + (ref[i - 1] != hyp[j - 1]), at(i - 1, j) + 1, at(i, j - 1) + 1});
  Alignment a;
  a.distance = at(n, m);
  size_t i = n, j = m;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && at(i, j) == at(i - 1, j - 1) + (ref[i - 1] != hyp[j - 1])) {
      bool same = ref[i - 1] == hyp[j - 1];
      a.ops.push_back({same ? EditKind::match : EditKind::substitution, ref[i - 1], hyp[j - 1], int(i - 1)});
      --i, --j;
    } else if (i > 0 && at(i, j) == at(i - 1, j) + 1) {
      a.ops.push_back({EditKind::deletion, ref[i - 1], 0, int(i - 1)});
      --i;
    } else {
      a.ops.push_back({EditKind::insertion, 0, hyp[j - 1], -1});
      --j;
    }
  }
  std::reverse(a.ops.begin(), a.ops.end());
  return a;
}

namespace {

// Two-row Levenshtein over tokens.
int levenshtein(const std::vector<std::string>& ref, const std::vector<std::string>& hyp) {
  std::vector<int> prev(hyp.size() + 1), cur(hyp.size() + 1);
  for (size_t j = 0; j <= hyp.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= ref.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= hyp.size(); ++j)
      cur[j] = std::min({prev[j - 1] + (ref[i - 1] == hyp[j - 1] ? 0 : 1), prev[j] + 1, cur[j - 1] + 1});
    std::swap(prev, cur);
  }
  return prev[hyp.size()];
}

// Error count over a denominator, with the empty-reference rule from metrics.h.
double error_rate(int64_t errors, int64_t total) {
  if (total > 0) return static_cast<double>(errors) / static_cast<double>(total);
  return errors > 0 ? 1.0 : 0.0;
}

}  // namespace

int edit_distance(const std::vector<std::string>& ref, const std::vector<std::string>& hyp) {
  return levenshtein(ref, hyp);
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      if (!cur.empty()) words.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

void score_sample(Sample& s, const Normalization& norm) {
  if (!s.error.empty()) return;
  const std::string truth = norm.apply(s.truth), pred = norm.apply(s.prediction);
  const std::u32string r = utf8_to_u32(truth), h = utf8_to_u32(pred);
  s.distance = static_cast<int>(ocrkit::edit_distance(r, h));
  s.ref_len = static_cast<int>(r.size());
  s.pred_len = static_cast<int>(h.size());
  const auto rw = split_words(truth), hw = split_words(pred);
  s.word_distance = edit_distance(rw, hw);
  s.word_count = static_cast<int>(rw.size());
}

double sample_cer(const Sample& s) { return s.error.empty() ? error_rate(s.distance, s.ref_len) : 0.0; }

Metrics compute_metrics(const std::vector<Sample>& samples, const MetricsOptions& opt) {
  Metrics m;
  double cer_sum = 0, ned_sum = 0, conf_sum = 0;
  int64_t exact = 0, with_conf = 0;
  int common_len = -1;  // -2 once lengths differ
  std::vector<int64_t> pos_hits;
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> pairs;
  const int nb = std::max(1, opt.confidence_buckets);
  std::vector<ConfidenceBucket> buckets(nb);
  std::vector<double> bucket_conf(nb), bucket_exact(nb);
  int64_t vin_truth = 0, vin_pred = 0, vin_chars = 0, vin_len = 0;

  for (const Sample& s : samples) {
    if (!s.error.empty()) {
      ++m.n_errors;
      continue;
    }
    ++m.n;
    m.chars += s.ref_len;
    m.char_errors += s.distance;
    m.words += s.word_count;
    m.word_errors += s.word_distance;
    cer_sum += sample_cer(s);
    const int longest = std::max(s.ref_len, s.pred_len);
    ned_sum += longest == 0 ? 1.0 : 1.0 - static_cast<double>(s.distance) / longest;
    exact += s.distance == 0;

    const std::u32string ref = utf8_to_u32(opt.normalization.apply(s.truth));
    const std::u32string hyp = utf8_to_u32(opt.normalization.apply(s.prediction));
    const Alignment a = align(ref, hyp);
    if (common_len == -1) {
      common_len = static_cast<int>(ref.size());
      pos_hits.assign(ref.size(), 0);
    } else if (common_len != static_cast<int>(ref.size())) {
      common_len = -2;
    }
    for (const EditOp& op : a.ops) {
      if (op.kind == EditKind::match) {
        if (common_len >= 0) ++pos_hits[op.ref_pos];
        continue;
      }
      const char* kind = op.kind == EditKind::substitution ? "sub" : op.kind == EditKind::insertion ? "ins" : "del";
      std::string t = op.ref ? u32_to_utf8(std::u32string(1, op.ref)) : "";
      std::string p = op.hyp ? u32_to_utf8(std::u32string(1, op.hyp)) : "";
      ++pairs[{kind, t, p}];
    }

    if (s.confidence) {
      const double c = *s.confidence;
      conf_sum += c;
      ++with_conf;
      const int b = std::clamp(static_cast<int>(c * nb), 0, nb - 1);
      ++buckets[b].count;
      bucket_conf[b] += c;
      bucket_exact[b] += s.distance == 0;
    }
    if (opt.vin) {
      const std::string pred = opt.normalization.apply(s.prediction);
      vin_truth += vin_check_valid(opt.normalization.apply(s.truth));
      vin_pred += vin_check_valid(pred);
      vin_chars += !std::all_of(pred.begin(), pred.end(), [](char c) { return in_vin_alphabet(c); });
      vin_len += utf8_to_u32(pred).size() != static_cast<size_t>(kVinLength);
    }
  }

  if (m.n > 0) {
    m.cer = error_rate(m.char_errors, m.chars);
    m.wer = error_rate(m.word_errors, m.words);
    m.cer_macro = cer_sum / m.n;
    m.ned = ned_sum / m.n;
    m.seq_acc = static_cast<double>(exact) / m.n;
    if (common_len > 0)
      for (int64_t hits : pos_hits) m.position_accuracy.push_back(static_cast<double>(hits) / m.n);
  }
  if (with_conf > 0) {
    m.mean_confidence = conf_sum / with_conf;
    for (int b = 0; b < nb; ++b) {
      buckets[b].low = static_cast<double>(b) / nb;
      buckets[b].high = static_cast<double>(b + 1) / nb;
      if (buckets[b].count > 0) {
        buckets[b].mean_confidence = bucket_conf[b] / buckets[b].count;
        buckets[b].accuracy = bucket_exact[b] / buckets[b].count;
      }
    }
    m.buckets = std::move(buckets);
  }
  for (const auto& [key, count] : pairs)
    m.confusions.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), count});
  std::stable_sort(m.confusions.begin(), m.confusions.end(),
                   [](const ConfusionPair& a, const ConfusionPair& b) { return a.count > b.count; });
  if (opt.vin && m.n > 0) {
    const double n = static_cast<double>(m.n);
    m.vin = VinStats{vin_truth / n, vin_pred / n, vin_chars / n, vin_len / n};
  }
  return m;
}

}  // namespace ocrkit::eval
