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
