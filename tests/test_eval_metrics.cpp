// Known answers for the eval metrics, worked out by hand (see the comments beside each case).
#include <gtest/gtest.h>

#include "core/text.h"
#include "core/vin.h"
#include "eval/metrics.h"

using namespace ocrkit;
using namespace ocrkit::eval;

namespace {

Sample scored(const std::string& truth, const std::string& pred, const Normalization& norm = {}) {
  Sample s;
  s.path = truth + "|" + pred;
  s.truth = truth;
  s.prediction = pred;
  score_sample(s, norm);
  return s;
}

Metrics metrics_of(const std::vector<Sample>& samples, MetricsOptions opt = {}) {
  return compute_metrics(samples, opt);
}

}  // namespace

TEST(EvalDistance, SubstitutionsInsertionsDeletions) {
  // kitten -> sitting: k->s, e->i, +g.
  Sample s = scored("kitten", "sitting");
  EXPECT_EQ(s.distance, 3);
  EXPECT_EQ(s.ref_len, 6);
  EXPECT_EQ(s.pred_len, 7);
  EXPECT_DOUBLE_EQ(sample_cer(s), 0.5);
  EXPECT_EQ(scored("abc", "abxc").distance, 1);  // one insertion
  EXPECT_EQ(scored("abcd", "abd").distance, 1);  // one deletion
  EXPECT_EQ(scored("abc", "abc").distance, 0);
  EXPECT_EQ(scored("abc", "cba").distance, 2);   // two substitutions (a<->c)
}

TEST(EvalDistance, CombiningCharactersAreEqualAfterNfc) {
  // "cafe" + U+0301 (5 code points) is "caf" + U+00E9 (4) after NFC.
  Sample s = scored("caf\u00e9", "cafe\u0301");
  EXPECT_EQ(s.distance, 0);
  EXPECT_EQ(s.ref_len, 4);
  EXPECT_EQ(s.pred_len, 4);
  // e + U+0301 in the truth is one character: reading plain "e" is one substitution out of one.
  Sample t = scored("e\u0301", "e");
  EXPECT_EQ(t.ref_len, 1);
  EXPECT_EQ(t.distance, 1);
  EXPECT_DOUBLE_EQ(sample_cer(t), 1.0);
}

TEST(EvalDistance, EmojiAreOneCodePointEach) {
  // U+1F600 vs U+1F603 share 3 of 4 UTF-8 bytes; over code points it is one substitution in 3.
  Sample s = scored("a\U0001F600b", "a\U0001F603b");
  EXPECT_EQ(s.ref_len, 3);
  EXPECT_EQ(s.distance, 1);
  EXPECT_NEAR(sample_cer(s), 1.0 / 3, 1e-12);
  Sample t = scored("\U0001F600\U0001F600", "\U0001F600");
  EXPECT_EQ(t.ref_len, 2);
  EXPECT_EQ(t.distance, 1);
}

TEST(EvalDistance, EmptyStrings) {
  Sample both = scored("", "");
  EXPECT_EQ(both.distance, 0);
  EXPECT_DOUBLE_EQ(sample_cer(both), 0.0);
  Sample extra = scored("", "ab");  // empty reference: counts the prediction, CER 1 by definition
  EXPECT_EQ(extra.distance, 2);
  EXPECT_EQ(extra.ref_len, 0);
  EXPECT_DOUBLE_EQ(sample_cer(extra), 1.0);
  Sample missing = scored("ab", "");
  EXPECT_EQ(missing.distance, 2);
  EXPECT_DOUBLE_EQ(sample_cer(missing), 1.0);

  Metrics m = metrics_of({both});
  EXPECT_DOUBLE_EQ(m.cer, 0.0);
  EXPECT_DOUBLE_EQ(m.ned, 1.0);  // both empty: 1-NED = 1
  EXPECT_DOUBLE_EQ(m.seq_acc, 1.0);
  Metrics e = metrics_of({extra});
  EXPECT_DOUBLE_EQ(e.cer, 1.0);  // all references empty, something predicted
  EXPECT_DOUBLE_EQ(e.ned, 0.0);  // 1 - 2/max(0,2)
}

TEST(EvalMetrics, MicroMacroNedOnAKnownSet) {
  // abcd/abd: d=1, ref 4; ""/x: d=1, ref 0.  micro = 2/4; macro = (1/4 + 1)/2;
  // 1-NED = ((1 - 1/4) + (1 - 1/1))/2 = 0.375; no exact match.
  Metrics m = metrics_of({scored("abcd", "abd"), scored("", "x")});
  EXPECT_EQ(m.n, 2);
  EXPECT_EQ(m.chars, 4);
  EXPECT_EQ(m.char_errors, 2);
  EXPECT_DOUBLE_EQ(m.cer, 0.5);
  EXPECT_DOUBLE_EQ(m.cer_macro, 0.625);
  EXPECT_DOUBLE_EQ(m.ned, 0.375);
  EXPECT_DOUBLE_EQ(m.seq_acc, 0.0);

  // kitten/sitting (3 of 6, 1-NED 1-3/7) + abc/abc (0 of 3, 1-NED 1).
  Metrics k = metrics_of({scored("kitten", "sitting"), scored("abc", "abc")});
  EXPECT_NEAR(k.cer, 3.0 / 9, 1e-12);
  EXPECT_NEAR(k.cer_macro, 0.25, 1e-12);
  EXPECT_NEAR(k.ned, (1 - 3.0 / 7 + 1) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(k.seq_acc, 0.5);
}

TEST(EvalMetrics, WordErrorRate) {
  Sample a = scored("the quick brown fox", "the quick brown fix");  // 1 substitution of 4 words
  EXPECT_EQ(a.word_count, 4);
  EXPECT_EQ(a.word_distance, 1);
  Sample b = scored("a b c", "a  c");  // tokens [a c]: one deletion of 3
  EXPECT_EQ(b.word_count, 3);
  EXPECT_EQ(b.word_distance, 1);
  Metrics m = metrics_of({a, b});
  EXPECT_NEAR(m.wer, 2.0 / 7, 1e-12);
}

TEST(EvalMetrics, ErrorSamplesAreCountedNotScored) {
  Sample bad;
  bad.truth = "abc";
  bad.error = "unreadable image";
  score_sample(bad, {});
  Metrics m = metrics_of({scored("abc", "abc"), bad});
  EXPECT_EQ(m.n, 1);
  EXPECT_EQ(m.n_errors, 1);
  EXPECT_DOUBLE_EQ(m.cer, 0.0);
  EXPECT_DOUBLE_EQ(m.seq_acc, 1.0);
}

TEST(EvalNormalization, OptionsChangeTheDistance) {
  EXPECT_EQ(scored("Hello", "hello").distance, 1);
  EXPECT_EQ(scored("Hello", "hello", Normalization::parse("casefold")).distance, 0);
  // U+FB01 (fi ligature) is one code point: f->fi-ligature and a deleted i.
  EXPECT_EQ(scored("fi", "\uFB01").distance, 2);
  EXPECT_EQ(scored("fi", "\uFB01", Normalization::parse("nfkc")).distance, 0);
  EXPECT_EQ(scored("a b", " a  b ").distance, 3);
  EXPECT_EQ(scored("a b", " a  b ", Normalization::parse("whitespace")).distance, 0);
  EXPECT_EQ(Normalization::parse("whitespace, casefold").to_string(), "nfc+casefold+whitespace");
  EXPECT_EQ(Normalization::parse("").to_string(), "nfc");
  EXPECT_EQ(Normalization::parse("nfkc,casefold").to_string(), "nfkc+casefold");
  EXPECT_THROW(Normalization::parse("lowercase"), std::runtime_error);
}

TEST(EvalAlignment, KnownAlignment) {
  // abcd -> xbd: a->x, b, c deleted, d.
  Alignment a = align(U"abcd", U"xbd");
  EXPECT_EQ(a.distance, 2);
  ASSERT_EQ(a.ops.size(), 4u);
  EXPECT_EQ(a.ops[0].kind, EditKind::substitution);
  EXPECT_EQ(a.ops[0].ref, U'a');
  EXPECT_EQ(a.ops[0].hyp, U'x');
  EXPECT_EQ(a.ops[1].kind, EditKind::match);
  EXPECT_EQ(a.ops[2].kind, EditKind::deletion);
  EXPECT_EQ(a.ops[2].ref, U'c');
  EXPECT_EQ(a.ops[2].ref_pos, 2);
  EXPECT_EQ(a.ops[3].kind, EditKind::match);
  Alignment b = align(U"ab", U"abz");
  ASSERT_EQ(b.ops.size(), 3u);
  EXPECT_EQ(b.ops[2].kind, EditKind::insertion);
  EXPECT_EQ(b.ops[2].hyp, U'z');
  // Distance from the alignment equals the two-row distance on random-ish strings.
  for (auto [r, h] : std::vector<std::pair<std::u32string, std::u32string>>{
           {U"intention", U"execution"}, {U"", U"abc"}, {U"abc", U""}, {U"sunday", U"saturday"}})
    EXPECT_EQ(static_cast<size_t>(align(r, h).distance), ocrkit::edit_distance(r, h));
  EXPECT_EQ(align(U"intention", U"execution").distance, 5);
  EXPECT_EQ(align(U"sunday", U"saturday").distance, 3);
}

TEST(EvalMetrics, ConfusionPairs) {
  // abcd/xbd: a->x, del c.  ab/abz: ins z.  aa/xa: a->x.
  Metrics m = metrics_of({scored("abcd", "xbd"), scored("ab", "abz"), scored("aa", "xa")});
  ASSERT_EQ(m.confusions.size(), 3u);
  EXPECT_EQ(m.confusions[0].kind, "sub");
  EXPECT_EQ(m.confusions[0].truth, "a");
  EXPECT_EQ(m.confusions[0].pred, "x");
  EXPECT_EQ(m.confusions[0].count, 2);
  int64_t del = 0, ins = 0;
  for (const auto& c : m.confusions) {
    if (c.kind == "del" && c.truth == "c" && c.pred.empty()) del = c.count;
    if (c.kind == "ins" && c.truth.empty() && c.pred == "z") ins = c.count;
  }
  EXPECT_EQ(del, 1);
  EXPECT_EQ(ins, 1);
}

TEST(EvalMetrics, PositionAccuracy) {
  // Position 1 is matched only in the first sample (a->x; a deleted); positions 2 and 3 always.
  Metrics m = metrics_of({scored("abc", "abc"), scored("abc", "xbc"), scored("abc", "bc")});
  ASSERT_EQ(m.position_accuracy.size(), 3u);
  EXPECT_NEAR(m.position_accuracy[0], 1.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(m.position_accuracy[1], 1.0);
  EXPECT_DOUBLE_EQ(m.position_accuracy[2], 1.0);
  EXPECT_TRUE(metrics_of({scored("abc", "abc"), scored("ab", "ab")}).position_accuracy.empty());
}

TEST(EvalMetrics, ConfidenceBuckets) {
  Sample a = scored("x", "x"), b = scored("x", "y"), c = scored("x", "y");
  a.confidence = 0.95;
  b.confidence = 0.92;
  c.confidence = 0.15;
  Metrics m = metrics_of({a, b, c, scored("x", "x")});  // the last has no confidence
  ASSERT_TRUE(m.mean_confidence.has_value());
  EXPECT_NEAR(*m.mean_confidence, (0.95 + 0.92 + 0.15) / 3, 1e-12);
  ASSERT_EQ(m.buckets.size(), 10u);
  EXPECT_EQ(m.buckets[9].count, 2);
  EXPECT_DOUBLE_EQ(m.buckets[9].accuracy, 0.5);
  EXPECT_EQ(m.buckets[1].count, 1);
  EXPECT_DOUBLE_EQ(m.buckets[1].accuracy, 0.0);
  EXPECT_EQ(m.buckets[5].count, 0);
  EXPECT_FALSE(metrics_of({scored("x", "x")}).mean_confidence.has_value());
}

TEST(EvalVin, CheckDigit) {
  EXPECT_TRUE(vin_check_valid("1M8GDM9AXKP042788"));
  EXPECT_FALSE(vin_check_valid("1N8GDM9AXKP042788"));  // one character changed
  EXPECT_FALSE(vin_check_valid("1M8GDM9A1KP042788"));  // wrong check character
  EXPECT_FALSE(vin_check_valid("1M8GDM9AXKP04278"));   // 16 characters
}

TEST(EvalVin, Statistics) {
  const std::string vin = "1M8GDM9AXKP042788";
  MetricsOptions opt;
  opt.vin = true;
  Metrics m = metrics_of({scored(vin, vin), scored(vin, "1M8GDM9AXKP04278"), scored(vin, "1M8GDM9AXKP04278O")}, opt);
  ASSERT_TRUE(m.vin.has_value());
  EXPECT_DOUBLE_EQ(m.vin->truth_valid, 1.0);
  EXPECT_NEAR(m.vin->pred_valid, 1.0 / 3, 1e-12);
  EXPECT_NEAR(m.vin->pred_bad_chars, 1.0 / 3, 1e-12);   // the O
  EXPECT_NEAR(m.vin->pred_bad_length, 1.0 / 3, 1e-12);  // 16 characters
  EXPECT_FALSE(metrics_of({scored(vin, vin)}).vin.has_value());
}
