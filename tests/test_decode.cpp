#include <gtest/gtest.h>

#include "core/decode.h"

#include <cmath>
#include <random>

using namespace ocrkit;

namespace {
// Builds T x C probabilities where frame t puts `p` on class path[t] and spreads the rest evenly.
std::vector<float> frames(const std::vector<int>& path, int classes, float p = 0.9f) {
  std::vector<float> out(path.size() * classes, (1 - p) / (classes - 1));
  for (size_t t = 0; t < path.size(); ++t) out[t * classes + path[t]] = p;
  return out;
}
}  // namespace

TEST(Decode, GreedyCollapsesRepeatsAndBlanks) {
  Charset cs = Charset::from_spec("ab");
  auto probs = frames({1, 1, 0, 1, 2, 2, 0}, 3);
  Decoded d = ctc_decode(probs.data(), 7, 3, cs, {});
  EXPECT_EQ(d.text, "aab");
  ASSERT_EQ(d.char_conf.size(), 3u);
  EXPECT_NEAR(d.char_conf[0], 0.9f, 1e-6);
  EXPECT_EQ(d.char_frame, (std::vector<int>{0, 3, 4}));
  EXPECT_NEAR(d.confidence, 0.9f, 1e-6);
}

TEST(Decode, BeamMatchesGreedyOnPeakedInput) {
  Charset cs = Charset::from_spec("abc");
  auto probs = frames({1, 0, 2, 2, 0, 3, 0, 1}, 4);
  DecodeOptions beam;
  beam.method = "beam";
  Decoded b = ctc_decode(probs.data(), 8, 4, cs, beam), g = ctc_decode(probs.data(), 8, 4, cs, {});
  EXPECT_EQ(b.text, "abca");
  EXPECT_EQ(g.text, "abca");
  // Both report each character's peak probability.
  EXPECT_EQ(b.char_conf, g.char_conf);
  EXPECT_EQ(b.char_frame, g.char_frame);
  EXPECT_NEAR(b.confidence, 0.9f, 1e-6);
}

TEST(Decode, BeamSumsPathsWhereGreedyCannot) {
  // Classic case: best single path is blank-blank, but "a" has more total probability.
  Charset cs = Charset::from_spec("a");
  std::vector<float> probs = {0.4f, 0.6f, 0.4f, 0.6f};  // T=2, C=2 (blank, a): P(blank,blank)=.16, P("a")=.84
  probs = {0.55f, 0.45f, 0.55f, 0.45f};                  // P(""),=.3025 P("a")=.45*.55*2+.45*.45=.6975
  DecodeOptions beam;
  beam.method = "beam";
  EXPECT_EQ(ctc_decode(probs.data(), 2, 2, cs, {}).text, "");
  EXPECT_EQ(ctc_decode(probs.data(), 2, 2, cs, beam).text, "a");
}

TEST(Decode, AlphabetAndLengthConstraints) {
  Charset cs = Charset::from_spec("0O1");
  // Model prefers 'O' (class 2) but the alphabet forbids it: next best digit wins.
  std::vector<float> probs = {0.05f, 0.35f, 0.55f, 0.05f,   // frame 0: O > 0
                              0.90f, 0.03f, 0.04f, 0.03f,   // blank
                              0.05f, 0.05f, 0.10f, 0.80f};  // 1
  DecodeOptions digits;
  digits.alphabet = "01";
  EXPECT_EQ(ctc_decode(probs.data(), 3, 4, cs, digits).text, "01");
  EXPECT_EQ(ctc_decode(probs.data(), 3, 4, cs, {}).text, "O1");
  // Exact length 3 forces the blank frame to emit a character.
  DecodeOptions len3;
  len3.length = 3;
  Decoded d = ctc_decode(probs.data(), 3, 4, cs, len3);
  EXPECT_EQ(d.chars.size(), 3u) << d.text;
  EXPECT_EQ(d.char_conf.size(), 3u);
}

TEST(Decode, RejectsCharsetMismatch) {
  Charset cs = Charset::from_spec("ab");
  std::vector<float> probs(8, 0.25f);
  EXPECT_THROW(ctc_decode(probs.data(), 2, 4, cs, {}), std::invalid_argument);
}

TEST(Decode, FrameBestGivesTheSameAsGreedy) {
  // What recognize_crops does on the device (best allowed class, its probability, the blank's) decodes
  // exactly like greedy over all classes, with and without an alphabet constraint and for empty reads.
  Charset cs = Charset::from_spec("vin");
  const int C = cs.num_classes(), T = 60;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (const std::string alphabet : {"", "digits"}) {
    DecodeOptions opt;
    opt.alphabet = alphabet;
    const std::vector<char> allowed = allowed_classes(cs, alphabet, C);
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<float> probs(size_t(T) * C);
      for (int t = 0; t < T; ++t) {
        float sum = 0;
        for (int c = 0; c < C; ++c) sum += probs[size_t(t) * C + c] = std::pow(u(rng), 4.f) + (c == 0 && trial == 0 ? 100.f : 0.f);
        for (int c = 0; c < C; ++c) probs[size_t(t) * C + c] /= sum;
      }
      std::vector<int64_t> best(T);
      std::vector<float> best_p(T), blank(T);
      for (int t = 0; t < T; ++t) {
        const float* row = &probs[size_t(t) * C];
        int b = 0;
        for (int c = 1; c < C; ++c)
          if (allowed[size_t(c)] && row[c] > row[b]) b = c;
        best[size_t(t)] = b, best_p[size_t(t)] = row[b], blank[size_t(t)] = row[0];
      }
      Decoded g = ctc_decode(probs.data(), T, C, cs, opt);
      Decoded f = ctc_decode_best(best.data(), best_p.data(), blank.data(), T, cs);
      EXPECT_EQ(f.text, g.text) << alphabet << " " << trial;
      EXPECT_EQ(f.char_conf, g.char_conf);
      EXPECT_EQ(f.char_frame, g.char_frame);
      EXPECT_FLOAT_EQ(f.confidence, g.confidence);
      if (trial == 0) EXPECT_EQ(g.text, "");  // all blank: the confidence comes from the blank
    }
  }
}

namespace {
// A VIN read one character per frame (then a blank frame), where character `pos` is `a` with
// probability pa and `b` with 1 - pa.
std::vector<float> vin_frames(const Charset& cs, const std::string& vin, int pos, char a, char b, float pa) {
  const int C = cs.num_classes();
  std::vector<float> probs;
  for (int i = 0; i < int(vin.size()); ++i) {
    std::vector<float> row(C, 0.f), blank(C, 0.f);
    if (i == pos) {
      row[cs.id(std::string(1, a))] = pa;
      row[cs.id(std::string(1, b))] = 1 - pa;
    } else {
      row[cs.id(std::string(1, vin[i]))] = 1.f;
    }
    blank[0] = 1.f;
    probs.insert(probs.end(), row.begin(), row.end());
    probs.insert(probs.end(), blank.begin(), blank.end());
  }
  return probs;
}
}  // namespace

TEST(Decode, VinCheckPrefersAValidReadingOnlyWhenTheModelHesitates) {
  Charset cs = Charset::from_spec("vin");
  const int C = cs.num_classes(), T = 34;
  DecodeOptions vin;
  vin.alphabet = "vin";
  vin.length = 17;  // check: auto -> vin
  ASSERT_TRUE(uses_vin_check(vin));
  // "1M8GDM9AXKP042788" is valid; the model says 9 (60%) or 8 (40%) for the last character.
  auto unsure = vin_frames(cs, "1M8GDM9AXKP042788", 16, '9', '8', 0.6f);
  EXPECT_EQ(ctc_decode(unsure.data(), T, C, cs, vin).text, "1M8GDM9AXKP042788");
  DecodeOptions no_check = vin;
  no_check.check = "none";
  EXPECT_EQ(ctc_decode(unsure.data(), T, C, cs, no_check).text, "1M8GDM9AXKP042789");
  // A confident read keeps its failing check digit (a European VIN has none): 999 > check_ratio 100.
  auto sure = vin_frames(cs, "1M8GDM9AXKP042788", 16, '9', '8', 0.999f);
  EXPECT_EQ(ctc_decode(sure.data(), T, C, cs, vin).text, "1M8GDM9AXKP042789");
  DecodeOptions lenient = vin;
  lenient.check_ratio = 5000;
  EXPECT_EQ(ctc_decode(sure.data(), T, C, cs, lenient).text, "1M8GDM9AXKP042788");
  // auto needs the VIN alphabet and length; an explicit vin turns the rule on for any beam decode.
  DecodeOptions any_text;
  EXPECT_FALSE(uses_vin_check(any_text));
  EXPECT_EQ(ctc_decode(unsure.data(), T, C, cs, any_text).text, "1M8GDM9AXKP042789");
  any_text.check = "vin";
  EXPECT_EQ(ctc_decode(unsure.data(), T, C, cs, any_text).text, "1M8GDM9AXKP042788");
}
