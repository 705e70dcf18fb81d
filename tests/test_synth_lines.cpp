// Synthetic printed text lines (datasets/synth_lines.h): corpus reading and text sampling, glyph
// coverage, rendering, determinism, the data set writer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <cstring>
#include <set>
#include <sstream>
#include <unistd.h>

#include "core/text.h"
#include "core/fs.h"
#include "datasets/synth_lines.h"
#include "datasets/synth_vin.h"
#include "test_image_util.h"

namespace fs = std::filesystem;
using namespace ocrkit;
using test::gray_stddev;
using test::identical;

namespace {

bool in_printed_charset(const std::string& text, std::string* bad = nullptr) {
  static const std::set<std::string> allowed = [] {
    auto v = utf8_chars(printed_characters());
    return std::set<std::string>(v.begin(), v.end());
  }();
  for (const auto& c : utf8_chars(text))
    if (!allowed.count(c)) {
      if (bad) *bad = c;
      return false;
    }
  return true;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const std::vector<std::string> kCorpus = {
    "The quick brown fox jumps over the lazy dog near the riverbank every morning.",
    "Zebras graze quietly while the photographer adjusts her telephoto lens.",
    "Über den Wolken muss die Freiheit wohl grenzenlos sein, sagte der Pilot.",
    "Section 4.2 describes the configuration file format in detail.",
    "A well-formed document contains exactly one root element."};

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("ocrkit_test_synth_lines_" + name + "_" + std::to_string(::getpid()));
  ocrkit::remove_tree(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

// ------------------------------------------------------------------------------------------------ text

TEST(SynthLinesText, CleaningKeepsOnlyPrintedCharacters) {
  EXPECT_EQ(clean_line_text("  ﬁne\tα-helix  café  "), "fine α-helix café");
  EXPECT_EQ(clean_line_text("ﬁne κ-helix"), "fine -helix");  // kappa is not printed (a k look-alike)
  EXPECT_EQ(clean_line_text("日本語"), "");
  EXPECT_EQ(clean_line_text("“quoted” — 5 €"), "“quoted” — 5 €");
}

TEST(SynthLinesText, ReadsPlainTextAndPaddleTsv) {
  fs::path dir = temp_dir("corpus");
  {
    std::ofstream(dir / "plain.txt") << "first line\n\nsecond line\r\n";
    std::ofstream(dir / "labels.tsv") << "img/000001.png\tHarvested label one\nimg/000002.png\t\n";
  }
  LineCorpus c = LineCorpus::from_files({(dir / "plain.txt").string(), (dir / "labels.tsv").string()});
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(u32_to_utf8(c.lines()[0]), "first line");
  EXPECT_EQ(u32_to_utf8(c.lines()[1]), "second line");
  EXPECT_EQ(u32_to_utf8(c.lines()[2]), "Harvested label one");
  EXPECT_EQ(c.skipped(), 2u);
  ocrkit::remove_tree(dir);
}

TEST(SynthLinesText, MissingTextFileNamesTheFile) {
  try {
    LineCorpus::from_files({"/nonexistent/ocrkit-corpus.txt"});
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ocrkit-corpus.txt"), std::string::npos) << e.what();
  }
}

TEST(SynthLinesText, SamplesComeFromTheCorpus) {
  LineCorpus corpus = LineCorpus::from_lines(kCorpus);
  std::string all;
  for (const auto& l : kCorpus) all += l + " ";
  std::set<std::string> words;
  {
    std::istringstream ss(all);
    for (std::string w; ss >> w;) words.insert(w);
  }
  int lengths_20_70 = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    const std::string t = sample_line_text(corpus, seed, /*synthetic_share=*/0.0);
    ASSERT_FALSE(t.empty());
    const size_t n = utf8_chars(t).size();
    EXPECT_LE(n, 80u) << t;
    lengths_20_70 += n >= 20 && n <= 70;
    // Every inner word is a corpus word (the first and last may be cut mid-word).
    std::istringstream ss(t);
    std::vector<std::string> ws;
    for (std::string w; ss >> w;) ws.push_back(w);
    for (size_t i = 1; i + 1 < ws.size(); ++i) EXPECT_TRUE(words.count(ws[i])) << "'" << ws[i] << "' in '" << t << "'";
  }
  EXPECT_GT(lengths_20_70, 150);  // mostly 20-70 characters
}

TEST(SynthLinesText, SyntheticLinesStayInTheCharsetAndVary) {
  LineCorpus corpus = LineCorpus::from_lines(kCorpus);
  int digits = 0, non_ascii = 0;
  std::set<std::string> distinct;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    const std::string t = sample_line_text(corpus, seed, /*synthetic_share=*/1.0);
    std::string bad;
    ASSERT_FALSE(t.empty());
    EXPECT_TRUE(in_printed_charset(t, &bad)) << "'" << bad << "' in '" << t << "'";
    EXPECT_LE(utf8_chars(t).size(), 80u);
    digits += t.find_first_of("0123456789") != std::string::npos;
    for (unsigned char c : t) non_ascii += c >= 0x80;
    distinct.insert(t);
    EXPECT_EQ(t, sample_line_text(corpus, seed, 1.0));  // deterministic
  }
  EXPECT_GT(digits, 100);
  EXPECT_GT(non_ascii, 100);
  EXPECT_GT(distinct.size(), 390u);
}

TEST(SynthLinesText, BuiltinFallbackIsUsable) {
  LineCorpus c = LineCorpus::builtin();
  EXPECT_GT(c.size(), 1000u);
  EXPECT_FALSE(sample_line_text(c, 1).empty());
}

// ----------------------------------------------------------------------------------------------- fonts

// A font lacking a glyph of the line is never used for it: the renderer falls back to a font that has
// it, and with only the lacking font the character is left out of the label rather than drawn as a box.
TEST(SynthLinesFonts, LackingGlyphIsNeverUsed) {
  const auto& fonts = default_fonts();
  const std::vector<std::string> probes = {"∫", "∇", "⊃", "€", "≈", "ƒ", "‰"};
  std::string lacking, covering, probe;
  for (const auto& p : probes) {
    lacking.clear(), covering.clear();
    for (const auto& f : fonts) {
      if (font_covers(f, p)) {
        if (covering.empty()) covering = f;
      } else if (lacking.empty() && font_covers(f, "Hello")) {
        lacking = f;
      }
    }
    if (!lacking.empty() && !covering.empty()) {
      probe = p;
      break;
    }
  }
  if (probe.empty()) GTEST_SKIP() << "every installed font has every probe character";
  EXPECT_TRUE(font_covers(covering, "Hello " + probe + " x"));
  EXPECT_FALSE(font_covers(lacking, "Hello " + probe + " x"));

  SynthLinesOptions both;
  both.fonts = {lacking, covering};
  const std::string text = "Hello " + probe + " world";
  for (uint64_t seed = 0; seed < 20; ++seed) {
    LineRender r = render_line(text, seed, both);
    EXPECT_EQ(r.font, covering) << "seed " << seed;
    EXPECT_EQ(r.text, text);
  }
  SynthLinesOptions only;
  only.fonts = {lacking};
  LineRender r = render_line(text, 3, only);
  EXPECT_EQ(r.font, lacking);
  EXPECT_EQ(r.text, "Hello world");  // the missing character is dropped from the label, spaces collapsed
  EXPECT_EQ(r.dropped, 1);
}

TEST(SynthLinesFonts, CommonFontsCoverLatin1) {
  int full = 0;
  for (const auto& f : default_fonts()) full += font_covers(f, "Ångström café naïve ß Œuvre “quotes” — €5 • …");
  EXPECT_GT(full, 5);
}

// --------------------------------------------------------------------------------------------- render

TEST(SynthLinesRender, DeterministicPerSeed) {
  LineCorpus corpus = LineCorpus::from_lines(kCorpus);
  SynthLinesOptions o;
  for (uint64_t i = 0; i < 10; ++i) {
    SynthLineSample a = synth_line_sample(corpus, 7, i, o), b = synth_line_sample(corpus, 7, i, o);
    EXPECT_EQ(a.text, b.text);
    EXPECT_TRUE(identical(a.image, b.image)) << "index " << i;
  }
  int differ = 0;
  for (uint64_t i = 0; i < 10; ++i) {
    SynthLineSample a = synth_line_sample(corpus, 7, i, o), b = synth_line_sample(corpus, 8, i, o);
    differ += a.text != b.text || !identical(a.image, b.image);
  }
  EXPECT_EQ(differ, 10);
}

TEST(SynthLinesRender, LabelsAndImagesAreSane) {
  LineCorpus corpus = LineCorpus::from_lines(kCorpus);
  SynthLinesOptions o;
  o.min_height = 20;
  o.max_height = 64;
  int gray = 0;
  for (uint64_t i = 0; i < 120; ++i) {
    SynthLineSample s = synth_line_sample(corpus, 11, i, o);
    std::string bad;
    ASSERT_FALSE(s.text.empty());
    EXPECT_TRUE(in_printed_charset(s.text, &bad)) << "'" << bad << "' in '" << s.text << "'";
    EXPECT_EQ(s.text, clean_line_text(s.text));
    ASSERT_FALSE(s.image.empty());
    EXPECT_EQ(s.image.depth(), CV_8U);
    // Degradations may grow the crop a little (rotation, margins).
    EXPECT_GE(s.image.rows, 14) << i;
    EXPECT_LE(s.image.rows, 64 * 1.5) << i;
    EXPECT_GT(s.image.cols, 4) << i;
    EXPECT_GT(gray_stddev(s.image), 8.0) << "blank crop " << i << " '" << s.text << "'";
    gray += s.image.channels() == 1;
  }
  EXPECT_GT(gray, 60);  // mostly gray print
}

TEST(SynthLinesRender, RejectsBadHeights) {
  SynthLinesOptions o;
  o.min_height = 30;
  o.max_height = 20;
  EXPECT_THROW(render_line("text", 1, o), std::invalid_argument);
}

// --------------------------------------------------------------------------------------------- writer

TEST(SynthLinesWriter, SameFilesForAnyJobs) {
  LineCorpus corpus = LineCorpus::from_lines(kCorpus);
  fs::path dir = temp_dir("writer");
  SynthLinesOptions o;
  SynthLinesReport a = write_synth_lines((dir / "a").string(), corpus, 24, 5, o, 1);
  SynthLinesReport b = write_synth_lines((dir / "b").string(), corpus, 24, 5, o, 2);
  EXPECT_EQ(a.count, 24);
  EXPECT_EQ(b.gray, a.gray);
  EXPECT_FALSE(fs::exists(dir / "a" / "labels.tsv.tmp"));
  const std::string labels = read_file(dir / "a" / "labels.tsv");
  EXPECT_EQ(labels, read_file(dir / "b" / "labels.tsv"));
  std::istringstream ss(labels);
  int n = 0;
  for (std::string line; std::getline(ss, line); ++n) {
    char name[32];
    std::snprintf(name, sizeof name, "img/%06d.png\t", n);
    ASSERT_EQ(line.rfind(name, 0), 0u) << line;
    EXPECT_GT(line.size(), std::strlen(name));
    const std::string file = line.substr(0, line.find('\t'));
    EXPECT_EQ(read_file(dir / "a" / file), read_file(dir / "b" / file)) << file;
    cv::Mat img = cv::imread((dir / "a" / file).string(), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(img.empty());
  }
  EXPECT_EQ(n, 24);
  ocrkit::remove_tree(dir);
}
