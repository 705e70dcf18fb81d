#include "core/decode.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

#include "core/config.h"
#include "core/text.h"
#include "core/vin.h"

namespace ocrkit {

DecodeOptions DecodeOptions::from_config(const Config& c) {
  DecodeOptions o;
  o.method = c.get_choice("decode.method", {"greedy", "beam"});
  o.beam_width = c.get_int("decode.beam_width");
  o.alphabet = c.get_string("decode.alphabet");
  o.length = c.get_int("decode.length");
  o.check = c.get_choice("decode.check", {"auto", "none", "vin"});
  o.check_ratio = c.get_double("decode.check_ratio");
  if (o.check_ratio < 1) throw ConfigError("config key 'decode.check_ratio' must be >= 1");
  if (o.beam_width < 1) throw ConfigError("config key 'decode.beam_width' must be >= 1");
  if (o.length < 0) throw ConfigError("config key 'decode.length' must be >= 0");
  return o;
}

std::vector<char> allowed_classes(const Charset& charset, const std::string& alphabet, int classes) {
  std::vector<char> allowed(classes, 1);
  if (alphabet.empty()) return allowed;
  std::fill(allowed.begin() + 1, allowed.end(), 0);
  for (const auto& ch : utf8_chars(Charset::preset_characters(alphabet))) {
    int id = charset.id(ch);
    if (id > 0 && id < classes) allowed[id] = 1;
  }
  return allowed;
}

namespace {

void finish(Decoded& d, const Charset& charset, const std::vector<int>& ids, const float* blank, size_t blank_stride,
            int frames) {
  for (int id : ids) {
    d.chars.push_back(charset.symbol(id));
    d.text += charset.symbol(id);
  }
  if (!d.char_conf.empty()) {
    d.confidence = *std::min_element(d.char_conf.begin(), d.char_conf.end());
  } else {
    double sum = 0;
    for (int t = 0; t < frames; ++t) sum += blank[size_t(t) * blank_stride];
    d.confidence = frames ? float(sum / frames) : 0.f;
  }
}

Decoded greedy_from_best(const int64_t* best_class, const float* best_prob, const float* blank, size_t blank_stride,
                         int T, const Charset& charset) {
  Decoded d;
  std::vector<int> ids;
  int prev = 0;
  for (int t = 0; t < T; ++t) {
    const int best = int(best_class[t]);
    if (best != 0 && best != prev) {
      ids.push_back(best);
      d.char_conf.push_back(best_prob[t]);
      d.char_frame.push_back(t);
    } else if (best != 0 && best == prev && !d.char_conf.empty()) {
      d.char_conf.back() = std::max(d.char_conf.back(), best_prob[t]);  // a character's confidence is its peak
    }
    prev = best;
  }
  finish(d, charset, ids, blank, blank_stride, T);
  return d;
}

Decoded greedy(const float* probs, int T, int C, const Charset& charset, const std::vector<char>& allowed) {
  std::vector<int64_t> best_class(size_t(std::max(T, 0)));
  std::vector<float> best_prob(best_class.size());
  for (int t = 0; t < T; ++t) {
    const float* row = probs + size_t(t) * C;
    int best = 0;
    for (int c = 1; c < C; ++c)
      if (allowed[c] && row[c] > row[best]) best = c;
    best_class[size_t(t)] = best;
    best_prob[size_t(t)] = row[best];
  }
  return greedy_from_best(best_class.data(), best_prob.data(), probs, size_t(C), T, charset);
}

double log_add(double a, double b) {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  double m = std::max(a, b);
  return m + std::log(std::exp(a - m) + std::exp(b - m));
}

struct Beam {
  double p_blank = -INFINITY, p_char = -INFINITY;  // log prob of prefix ending in blank / in its last char
  double total() const { return log_add(p_blank, p_char); }
};

// Viterbi alignment of `ids` to the frames (CTC topology: blank, c1, blank, c2, ..., blank); fills each
// character's peak probability and the frame of that peak. Used after beam search, which sums paths
// and so has no single path of its own.
void align_confidences(const float* probs, int T, int C, const std::vector<int>& ids, Decoded& d) {
  const int L = int(ids.size()), S = 2 * L + 1;
  d.char_conf.assign(L, 0.f);
  d.char_frame.assign(L, 0);
  if (L == 0 || T == 0) return;
  auto label = [&](int s) { return s % 2 == 0 ? 0 : ids[s / 2]; };
  auto lp = [&](int t, int s) { return std::log(std::max(1e-12f, probs[size_t(t) * C + label(s)])); };
  std::vector<double> score(size_t(T) * S, -INFINITY);
  std::vector<int> from(size_t(T) * S, -1);
  score[0] = lp(0, 0);
  if (S > 1) score[1] = lp(0, 1);
  for (int t = 1; t < T; ++t)
    for (int s = 0; s < S; ++s) {
      int best = s;
      double v = score[size_t(t - 1) * S + s];
      if (s >= 1 && score[size_t(t - 1) * S + s - 1] > v) { v = score[size_t(t - 1) * S + s - 1]; best = s - 1; }
      if (s >= 2 && label(s) != 0 && label(s) != label(s - 2) && score[size_t(t - 1) * S + s - 2] > v) {
        v = score[size_t(t - 1) * S + s - 2];
        best = s - 2;
      }
      if (v == -INFINITY) continue;
      score[size_t(t) * S + s] = v + lp(t, s);
      from[size_t(t) * S + s] = best;
    }
  int s = S - 1;
  if (S > 1 && score[size_t(T - 1) * S + S - 2] > score[size_t(T - 1) * S + S - 1]) s = S - 2;
  if (score[size_t(T - 1) * S + s] == -INFINITY) return;  // more characters than frames: no alignment
  for (int t = T - 1; t >= 0; --t) {
    if (s % 2 == 1) {
      float p = probs[size_t(t) * C + label(s)];
      if (p >= d.char_conf[s / 2]) { d.char_conf[s / 2] = p; d.char_frame[s / 2] = t; }
    }
    if (t > 0) s = from[size_t(t) * S + s];
  }
}

// CTC prefix beam search (Hannun et al. 2014) with an optional exact length and alphabet.
Decoded beam(const float* probs, int T, int C, const Charset& charset, const std::vector<char>& allowed,
             int width, int length, double vin_check_ratio) {
  const double floor_p = 1e-12;
  std::map<std::vector<int>, Beam> beams;
  beams[{}].p_blank = 0.0;
  // Classes worth expanding per frame: the top ones only (keeps beam search linear in C).
  const int top_k = std::min(C - 1, std::max(width, 8));
  std::vector<int> order(C - 1);
  for (int t = 0; t < T; ++t) {
    const float* row = probs + size_t(t) * C;
    for (int c = 1; c < C; ++c) order[c - 1] = c;
    std::partial_sort(order.begin(), order.begin() + top_k, order.end(),
                      [&](int a, int b) { return row[a] > row[b]; });
    std::map<std::vector<int>, Beam> next;
    const int remaining = T - t - 1;  // frames after this one
    for (const auto& [prefix, b] : beams) {
      double total = b.total();
      // Blank: prefix unchanged.
      Beam& same = next[prefix];
      same.p_blank = log_add(same.p_blank, total + std::log(std::max<double>(row[0], floor_p)));
      int last = prefix.empty() ? -1 : prefix.back();
      if (last > 0) same.p_char = log_add(same.p_char, b.p_char + std::log(std::max<double>(row[last], floor_p)));
      for (int k = 0; k < top_k; ++k) {
        int c = order[k];
        if (!allowed[c]) continue;
        if (length > 0 && int(prefix.size()) >= length) continue;
        std::vector<int> ext = prefix;
        ext.push_back(c);
        // Repeating the last char needs a blank in between.
        double from = c == last ? b.p_blank : total;
        Beam& e = next[ext];
        e.p_char = log_add(e.p_char, from + std::log(std::max<double>(row[c], floor_p)));
      }
    }
    std::vector<std::pair<double, std::vector<int>>> ranked;
    for (auto& [prefix, b] : next) {
      // A prefix that can no longer reach the required length (one char per frame at most) is dead.
      if (length > 0 && int(prefix.size()) + remaining < length) continue;
      ranked.push_back({b.total(), prefix});
    }
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    beams.clear();
    for (int i = 0; i < int(ranked.size()) && i < width; ++i) beams[ranked[i].second] = next[ranked[i].second];
  }
  const std::vector<int>* best = nullptr;
  double best_p = -INFINITY;
  for (const auto& [prefix, b] : beams) {
    if (length > 0 && int(prefix.size()) != length) continue;
    if (b.total() > best_p) { best_p = b.total(); best = &prefix; }
  }
  auto text_of = [&](const std::vector<int>& ids) {
    std::string t;
    for (int id : ids) t += charset.symbol(id);
    return t;
  };
  if (best && vin_check_ratio > 0 && !vin_check_valid(text_of(*best))) {
    const std::vector<int>* valid = nullptr;
    double valid_p = best_p - std::log(vin_check_ratio);
    for (const auto& [prefix, b] : beams)
      if (b.total() >= valid_p && vin_check_valid(text_of(prefix)))
        valid_p = b.total(), valid = &prefix;
    if (valid) best = valid;
  }
  Decoded d;
  if (!best) {  // no prefix of the required length: fall back to the unconstrained best
    for (const auto& [prefix, b] : beams)
      if (b.total() > best_p) { best_p = b.total(); best = &prefix; }
  }
  if (best) {
    align_confidences(probs, T, C, *best, d);
    finish(d, charset, *best, probs, size_t(C), T);
  }
  return d;
}

}  // namespace

Decoded ctc_decode(const float* probs, int frames, int classes, const Charset& charset, const DecodeOptions& opt) {
  require_charset_classes(classes, charset);
  std::vector<char> allowed = allowed_classes(charset, opt.alphabet, classes);
  if (decode_needs_all_classes(opt))
    return beam(probs, frames, classes, charset, allowed, std::max(opt.beam_width, 1), opt.length,
                uses_vin_check(opt) ? opt.check_ratio : 0.0);
  return greedy(probs, frames, classes, charset, allowed);
}

void require_charset_classes(int classes, const Charset& charset) {
  if (classes != charset.num_classes())
    throw std::invalid_argument("decoder: model has " + std::to_string(classes) + " classes, charset " +
                                std::to_string(charset.num_classes()));
}

bool uses_vin_check(const DecodeOptions& opt) {
  return opt.check == "vin" || (opt.check == "auto" && opt.alphabet == "vin" && opt.length == kVinLength);
}

bool decode_needs_all_classes(const DecodeOptions& opt) {
  return opt.method == "beam" || opt.length > 0 || uses_vin_check(opt);
}

Decoded ctc_decode_best(const int64_t* best_class, const float* best_prob, const float* blank_prob, int frames,
                        const Charset& charset) {
  return greedy_from_best(best_class, best_prob, blank_prob, 1, frames, charset);
}

}  // namespace ocrkit
