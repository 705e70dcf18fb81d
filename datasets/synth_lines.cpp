#include "datasets/synth_lines.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <opencv2/freetype.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <unordered_map>

#include "core/charset.h"
#include "core/text.h"
#include "datasets/synth_common.h"
#include "datasets/synth_vin.h"

namespace fs = std::filesystem;

namespace ocrkit {

using degrade::Random;
using synth::engine_for;

AugmentOptions synth_lines_degrade_defaults() {
  AugmentOptions o;
  o.probability = 0.6;
  o.rotate_deg = 1.5;
  o.shear = 0.03;
  o.perspective = 0.004;
  o.scale_jitter = 0.05;
  o.blur = 1.0;
  o.noise = 8.0;
  o.jpeg_min_quality = 35;
  o.low_res = 0.55;
  o.contrast = 0.35;
  o.invert = 0.0;
  return o;
}

const std::string& printed_characters() {
  static const std::string chars = Charset::preset_characters("printed");
  return chars;
}

namespace {

// Code point -> index in the printed charset (-1: outside it).
const std::unordered_map<char32_t, int>& charset_index() {
  static const std::unordered_map<char32_t, int> index = [] {
    std::unordered_map<char32_t, int> m;
    for (char32_t c : utf8_to_u32(printed_characters())) m.emplace(c, int(m.size()));
    return m;
  }();
  return index;
}

int char_index(char32_t c) {
  const auto& m = charset_index();
  auto it = m.find(c);
  return it == m.end() ? -1 : it->second;
}

bool is_space(char32_t c) { return c == U' '; }

std::u32string trim(const std::u32string& s) {
  size_t a = 0, b = s.size();
  while (a < b && is_space(s[a])) ++a;
  while (b > a && is_space(s[b - 1])) --b;
  return s.substr(a, b - a);
}

// ASCII and Latin-1 upper case (ß stays).
char32_t to_upper(char32_t c) {
  if (c >= U'a' && c <= U'z') return c - 32;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  switch (c) {
    case 0xFF: return 0x178;
    case 0x153: return 0x152;
    case 0x161: return 0x160;
    case 0x17E: return 0x17D;
    default: return c;
  }
}

std::u32string clean_u32(const std::string& text) {
  if (!valid_utf8(text)) return {};
  std::u32string in = utf8_to_u32(normalize_label(text)), out;
  for (char32_t c : in) {
    if (char_index(c) < 0) continue;
    if (is_space(c) && (out.empty() || is_space(out.back()))) continue;
    out += c;
  }
  return trim(out);
}

// -------------------------------------------------------------------------------------------- text

template <size_t N>
const char* pick(const char* const (&list)[N], Random& r) {
  return list[r.integer(0, int(N) - 1)];
}

std::string digits(Random& r, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += char('0' + r.integer(i == 0 && n > 1 ? 1 : 0, 9));
  return s;
}

std::string letters(Random& r, int n, bool upper) {
  std::string s;
  for (int i = 0; i < n; ++i) s += char((upper ? 'A' : 'a') + r.integer(0, 25));
  return s;
}

// 1234567 -> "1,234,567" with the given separator.
std::string grouped(const std::string& d, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i > 0 && (d.size() - i) % 3 == 0) out += sep;
    out += d[i];
  }
  return out;
}

std::string number_token(Random& r) {
  const double u = r.uniform();
  if (u < 0.25) return digits(r, r.integer(1, 4));
  if (u < 0.4) return grouped(digits(r, r.integer(4, 9)), pick({",", ".", " ", "\u2009", ","}, r));
  if (u < 0.6) return digits(r, r.integer(1, 4)) + pick({".", ",", "."}, r) + std::to_string(r.integer(0, 999)).substr(0, r.integer(1, 3));
  if (u < 0.7) return digits(r, r.integer(1, 2)) + (r.chance(0.5) ? "." + digits(r, 1) : "") + pick({"%", " %", "‰", "°", "°C", " kg", " mm", " cm", " ms", " MB"}, r);
  if (u < 0.78) return pick({"-", "−", "+", "±", "–"}, r) + digits(r, r.integer(1, 3)) + (r.chance(0.5) ? "." + digits(r, 2) : "");
  if (u < 0.85) return digits(r, 1) + "." + digits(r, 2) + pick({"e", "E", "×10^", "e-"}, r) + digits(r, r.integer(1, 2));
  if (u < 0.93) {
    int n = r.integer(1, 120);
    const char* suffix = (n % 100 >= 11 && n % 100 <= 13) ? "th" : n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
    return std::to_string(n) + suffix;
  }
  return pick({"½", "¼", "¾", "²", "³", "¹"}, r) + std::string(r.chance(0.5) ? "" : " ") + digits(r, r.integer(1, 2));
}

std::string two(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }

std::string date_token(Random& r) {
  static const char* kMonths[] = {"January", "February", "March", "April", "May", "June", "July", "August",
                                  "September", "October", "November", "December"};
  const int y = r.integer(1890, 2039), m = r.integer(1, 12), d = r.integer(1, 28);
  const std::string month = kMonths[m - 1];
  switch (r.integer(0, 8)) {
    case 0: return std::to_string(y) + "-" + two(m) + "-" + two(d);
    case 1: return two(d) + "/" + two(m) + "/" + std::to_string(y);
    case 2: return std::to_string(m) + "/" + std::to_string(d) + "/" + std::to_string(y % 100);
    case 3: return two(d) + "." + two(m) + "." + std::to_string(y);
    case 4: return month + " " + std::to_string(d) + ", " + std::to_string(y);
    case 5: return std::to_string(d) + " " + month.substr(0, 3) + (r.chance(0.5) ? ". " : " ") + std::to_string(y);
    case 6: return two(r.integer(0, 23)) + ":" + two(r.integer(0, 59)) + (r.chance(0.3) ? ":" + two(r.integer(0, 59)) : "");
    case 7: return std::to_string(r.integer(1, 12)) + ":" + two(r.integer(0, 59)) + pick({" am", " pm", " a.m.", " p.m.", " AM", " PM"}, r);
    default: return std::to_string(y) + (r.chance(0.5) ? "–" : "-") + std::to_string(y + r.integer(1, 30));
  }
}

std::string price_token(Random& r) {
  std::string amount = r.chance(0.5) ? digits(r, r.integer(1, 3)) : grouped(digits(r, r.integer(4, 7)), ",");
  const bool cents = r.chance(0.7);
  switch (r.integer(0, 6)) {
    case 0: return "$" + amount + (cents ? "." + digits(r, 2) : "");
    case 1: return "€" + amount + (cents ? "." + digits(r, 2) : "");
    case 2: return amount + (cents ? "," + digits(r, 2) : "") + " €";
    case 3: return "£" + amount + (cents ? "." + digits(r, 2) : "");
    case 4: return "¥" + amount;
    case 5: return pick({"USD ", "EUR ", "CHF ", "GBP "}, r) + amount + (cents ? "." + digits(r, 2) : "");
    default: return amount + (cents ? "." + digits(r, 2) : "") + pick({" ¢", " $", " EUR", " Fr."}, r);
  }
}

std::string code_token(Random& r) {
  switch (r.integer(0, 11)) {
    case 0: return letters(r, r.integer(2, 4), true) + "-" + digits(r, r.integer(3, 6));
    case 1: return "ISBN " + std::string("978-") + digits(r, 1) + "-" + digits(r, 2) + "-" + digits(r, 6) + "-" + digits(r, 1);
    case 2: return pick({"Ref. ", "No. ", "Nr. ", "Art. ", "Inv. ", "ID "}, r) + letters(r, 1, true) + digits(r, 2) + "/" + digits(r, 3);
    case 3: return pick({"Section ", "§ ", "§", "Fig. ", "Table ", "Eq. ", "p. ", "pp. ", "Chapter "}, r) + std::to_string(r.integer(1, 30)) + (r.chance(0.6) ? "." + std::to_string(r.integer(1, 12)) : "");
    case 4: return "(" + std::string(1, char(r.chance(0.5) ? 'a' + r.integer(0, 7) : '1' + r.integer(0, 8))) + ")";
    case 5: return "[" + std::to_string(r.integer(1, 99)) + (r.chance(0.3) ? "–" + std::to_string(r.integer(1, 99)) : "") + "]";
    case 6: return "v" + std::to_string(r.integer(0, 12)) + "." + std::to_string(r.integer(0, 40)) + (r.chance(0.5) ? "." + std::to_string(r.integer(0, 99)) : "");
    case 7: return "#" + digits(r, r.integer(2, 6));
    case 8: return pick({"Tel. ", "Fax ", "Phone: ", "+"}, r) + digits(r, 2) + " (0)" + digits(r, 2) + " " + digits(r, r.integer(5, 8));
    case 9: return letters(r, r.integer(1, 3), true) + digits(r, r.integer(1, 4)) + letters(r, r.integer(0, 2), true);
    case 10: return "0x" + [&] { std::string s; for (int i = r.integer(2, 8); i > 0; --i) s += "0123456789ABCDEF"[r.integer(0, 15)]; return s; }();
    default: return digits(r, 3) + "-" + digits(r, 3) + "-" + digits(r, 4);
  }
}

std::string url_token(Random& r, const std::string& word) {
  const std::string& w = word;
  std::string lw;  // letters and digits of the word, lower case
  for (char c : w)
    if (std::isalnum(static_cast<unsigned char>(c))) lw += char(std::tolower(static_cast<unsigned char>(c)));
  if (lw.empty()) lw = letters(r, r.integer(3, 9), false);
  static const char* kTld[] = {".org", ".com", ".net", ".de", ".fr", ".edu", ".io", ".co.uk", ".gov", ".ch"};
  switch (r.integer(0, 6)) {
    case 0: return "https://www." + lw + pick(kTld, r) + "/" + letters(r, r.integer(2, 8), false) + (r.chance(0.5) ? ".html" : "/");
    case 1: return "http://" + lw + pick(kTld, r) + "/~" + letters(r, r.integer(3, 6), false) + "/" + letters(r, 4, false) + ".pdf";
    case 2: return letters(r, r.integer(1, 8), false) + pick({".", "_", "-", ""}, r) + lw + "@" + letters(r, r.integer(3, 8), false) + pick(kTld, r);
    case 3: return "www." + lw + pick(kTld, r);
    case 4: return pick({"/usr/share/", "~/", "./", "../", "/etc/", "C:\\Users\\"}, r) + lw + pick({"/", "\\", "_"}, r) + letters(r, r.integer(2, 6), false) + pick({".txt", ".tex", ".cfg", ".py", ".c", ".sty", ""}, r);
    case 5: return "ftp://ftp." + lw + pick(kTld, r) + "/pub/" + letters(r, 4, false) + "-" + std::to_string(r.integer(1, 9)) + "." + std::to_string(r.integer(0, 9)) + ".tar.gz";
    default: return "<" + lw + "@" + letters(r, r.integer(3, 8), false) + pick(kTld, r) + ">";
  }
}

const char* accented_word(Random& r) {
  static const char* kWords[] = {
      "café", "naïve", "résumé", "déjà", "façade", "élève", "château", "crème", "brûlée", "garçon", "hôtel", "où",
      "été", "Noël", "français", "à", "être", "très", "Müller", "Straße", "Größe", "für", "über", "Ärger", "Übersicht",
      "schön", "Köln", "Zürich", "Mädchen", "Grüße", "mañana", "niño", "señor", "España", "Málaga", "corazón", "así",
      "¿Qué", "¡Hola!", "São", "Paulo", "ação", "informação", "você", "coração", "Ångström", "Øresund", "København",
      "smørrebrød", "Åland", "fjärd", "Malmö", "Þórr", "Ísland", "Reykjavík", "Dvořák", "Œuvre", "cœur", "Š", "Ÿ",
      "Gödel", "Erdős", "Poincaré", "Schrödinger", "Bézier", "Fréchet", "Hölder", "Lévy", "Cauchy–Schwarz",
      "naïveté", "coöperate", "rôle", "señora", "piñata", "jalapeño", "façon", "Genève", "Besançon", "Île-de-France"};
  return pick(kWords, r);
}

std::string symbol_token(Random& r) {
  static const char* kSymbols[] = {"©", "®", "™", "°", "±", "×", "÷", "§", "¶", "†", "‡", "‰", "′", "″", "→", "←",
                                   "≤", "≥", "≠", "≈", "∞", "√", "µ", "·", "•", "…", "–", "—", "«", "»", "¬", "¦",
                                   "¤", "¢", "∑", "∂", "∆", "∈", "∩", "∪", "↑", "↓", "¹", "²", "³", "ª", "º", "¿",
                                   "¡", "∫", "∏", "∇", "∉", "⊂", "⊃", "∧", "∨", "−", "‹", "›", "€", "ƒ", "¨", "´",
                                   "¯", "¸", "∗", "⊕", "⊗", "▷", "α", "β", "γ", "δ", "ε", "ζ", "η", "θ", "λ", "ξ",
                                   "π", "σ", "τ", "φ", "χ", "ψ", "ω", "Γ", "Θ", "Λ", "Ξ", "Φ", "Ψ", "Ω", "├──", "└──",
                                   "│", "─", "┌─┐", "└─┘", "┬", "┴", "┼", "┤"};
  return pick(kSymbols, r);
}

const char* punct_token(Random& r) {
  static const char* kPunct[] = {",", ";", ":", ".", "!", "?", "(", ")", "[", "]", "{", "}", "\"", "'", "`", "&",
                                 "*", "@", "#", "%", "^", "_", "|", "\\", "/", "<", ">", "=", "+", "~", "$", "-",
                                 "--", "...", "!=", "==", "<=", ">=", "->", "=>", "::", "&&", "||", "/*", "*/", "//"};
  return pick(kPunct, r);
}

// Quote or bracket pairs, typographic ones included.
std::pair<std::string, std::string> quote_pair(Random& r) {
  static const char* kPairs[][2] = {{"“", "”"}, {"‘", "’"}, {"\"", "\""}, {"'", "'"}, {"„", "“"}, {"«", "»"},
                                    {"« ", " »"}, {"‚", "‘"}, {"‹", "›"}, {"(", ")"}, {"[", "]"}, {"{", "}"},
                                    {"``", "''"}, {"»", "«"}, {"⟨", "⟩"}};
  const auto& p = kPairs[r.integer(0, int(std::size(kPairs)) - 1)];
  return {p[0], p[1]};
}

// A random word of a random corpus line (may carry punctuation).
std::u32string corpus_word(const LineCorpus& corpus, Random& r) {
  const std::u32string& line = corpus.lines()[size_t(r.integer(0, int(corpus.size()) - 1))];
  size_t pos = size_t(r.integer(0, int(line.size()) - 1));
  size_t a = pos, b = pos;
  while (a > 0 && !is_space(line[a - 1])) --a;
  while (b < line.size() && !is_space(line[b])) ++b;
  std::u32string w = line.substr(a, b - a);
  return w.empty() ? U"the" : w;
}

// A span of about `target` characters from the corpus, usually cut at word boundaries.
std::u32string corpus_span(const LineCorpus& corpus, int target, Random& r) {
  const int n = int(corpus.size());
  int i = r.integer(0, n - 1);
  std::u32string text = corpus.lines()[size_t(i)];
  for (int k = 0; k < 6 && int(text.size()) < target + 10; ++k) text += U" " + corpus.lines()[size_t((i + 1 + k) % n)];
  if (int(text.size()) <= target) return trim(text);
  const bool aligned = r.chance(0.85);
  size_t start = size_t(r.integer(0, int(text.size()) - target));
  if (aligned) {
    while (start > 0 && !is_space(text[start - 1])) --start;
  }
  size_t end = std::min(text.size(), start + size_t(target));
  if (aligned && end < text.size()) {
    size_t e = end;
    while (e > start && !is_space(text[e])) --e;
    if (e > start) end = e;
  }
  return trim(text.substr(start, end - start));
}

int target_length(Random& r) {
  const double u = r.uniform();
  if (u < 0.06) return r.integer(1, 6);
  if (u < 0.16) return r.integer(7, 19);
  if (u < 0.92) return r.integer(20, 70);
  return r.integer(71, 80);
}

std::u32string upper(std::u32string s) {
  for (auto& c : s) c = to_upper(c);
  return s;
}

std::string to_utf8(const std::u32string& s) { return u32_to_utf8(s); }

// A generated line: tokens corpus words rarely provide, set among corpus words.
std::string synthetic_line(const LineCorpus& corpus, int target, Random& r) {
  const double kind = r.uniform();
  if (kind < 0.12) return to_utf8(upper(corpus_span(corpus, std::min(target, 50), r)));  // ALL CAPS heading
  if (kind < 0.2) {  // list item
    static const char* kBullets[] = {"• ", "· ", "– ", "— ", "- ", "* ", "> ", "→ ", "1. ", "2) ", "a) ", "(iv) ", "§ "};
    std::string b = pick(kBullets, r);
    if (b == "1. ") b = std::to_string(r.integer(1, 40)) + ". ";
    return b + to_utf8(corpus_span(corpus, std::max(3, target - 3), r));
  }
  if (kind < 0.28) {  // quoted phrase within text
    auto [open, close] = quote_pair(r);
    std::u32string a = corpus_span(corpus, std::max(3, target / 3), r), b = corpus_span(corpus, std::max(3, target / 2), r);
    return to_utf8(a) + " " + open + to_utf8(b) + close + pick({"", ".", ",", " —", ";"}, r);
  }
  std::string out;
  const double mix = r.uniform(0.25, 0.8);  // share of generated tokens
  const int theme = r.integer(0, 7);        // the favoured generator
  while (int(utf8_to_u32(out).size()) < target) {
    std::string token;
    if (r.chance(mix)) {
      const int g = r.chance(0.6) ? theme : r.integer(0, 7);
      switch (g) {
        case 0: token = number_token(r); break;
        case 1: token = date_token(r); break;
        case 2: token = price_token(r); break;
        case 3: token = code_token(r); break;
        case 4: token = url_token(r, to_utf8(corpus_word(corpus, r))); break;
        case 5: token = accented_word(r); break;
        case 6: token = symbol_token(r); break;
        default: token = punct_token(r); break;
      }
    } else {
      token = to_utf8(corpus_word(corpus, r));
      if (r.chance(0.1)) token = to_utf8(upper(utf8_to_u32(token)));
    }
    if (!out.empty()) {
      const bool punct = r.chance(0.12);
      if (punct) out += punct_token(r);
      out += punct && r.chance(0.3) ? "" : " ";  // "a,b" or "x=y" at times; never two words run together
    }
    if (r.chance(0.06)) {
      auto [open, close] = quote_pair(r);
      token = open + token + close;
    }
    out += token;
  }
  return out;
}

std::u32string truncate_words(const std::u32string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > max / 2 && !is_space(s[end])) --end;
  if (end <= max / 2) end = max;
  return trim(s.substr(0, end));
}

}  // namespace

std::string clean_line_text(const std::string& text) { return to_utf8(clean_u32(text)); }

LineCorpus LineCorpus::from_lines(const std::vector<std::string>& lines) {
  LineCorpus c;
  for (const auto& l : lines) {
    std::u32string s = clean_u32(l);
    if (s.empty()) ++c.skipped_;
    else c.lines_.push_back(std::move(s));
  }
  return c;
}

LineCorpus LineCorpus::from_files(const std::vector<std::string>& files) {
  LineCorpus c;
  for (const auto& file : files) {
    std::ifstream f(file, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read text file '" + file + "'");
    std::string line;
    const size_t before = c.lines_.size();
    while (std::getline(f, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const size_t tab = line.find('\t');
      if (tab != std::string::npos) line = line.substr(tab + 1);
      std::u32string s = clean_u32(line);
      if (s.empty()) ++c.skipped_;
      else c.lines_.push_back(std::move(s));
    }
    if (f.bad()) throw std::runtime_error("error reading text file '" + file + "'");
    if (c.lines_.size() == before) throw std::runtime_error("text file '" + file + "' holds no usable UTF-8 text");
  }
  return c;
}

LineCorpus LineCorpus::builtin() {
  static const char* kCommon[] = {
      "the", "of", "and", "to", "in", "is", "for", "that", "with", "as", "on", "are", "this", "be", "by", "or", "from",
      "which", "an", "it", "can", "at", "we", "not", "if", "all", "one", "has", "have", "was", "when", "each", "used",
      "file", "page", "value", "section", "table", "function", "example", "option", "set", "data", "number", "line",
      "text", "font", "document", "figure", "package", "command", "default", "output", "input", "system", "user",
      "order", "time", "first", "new", "other", "these", "more", "see", "also", "must", "should", "may", "will",
      "into", "only", "between", "following", "given", "using", "where", "such", "two", "three", "list", "name"};
  static const char* kSyllables[] = {"ka", "ter", "mon", "li", "sa", "ven", "tor", "pre", "in", "con", "de", "ra",
                                     "tion", "ble", "ment", "ing", "al", "er", "es", "ro", "qui", "ph", "st", "ex",
                                     "un", "ly", "ous", "ic", "an", "ge", "wh", "th", "ch", "sk", "ze", "ju"};
  std::mt19937 engine = engine_for(0x5eed);
  Random r(engine);
  std::vector<std::string> lines;
  for (int i = 0; i < 3000; ++i) {
    std::string line;
    const int words = r.integer(4, 16);
    for (int w = 0; w < words; ++w) {
      std::string word;
      if (r.chance(0.5)) {
        word = pick(kCommon, r);
      } else {
        for (int s = r.integer(1, 4); s > 0; --s) word += pick(kSyllables, r);
      }
      if (w == 0 || r.chance(0.08)) word[0] = char(std::toupper(static_cast<unsigned char>(word[0])));
      line += (w ? " " : "") + word;
      if (w + 1 < words && r.chance(0.1)) line += pick({",", ";", ":", " -", ","}, r);
    }
    line += pick({".", ".", ".", "?", "!", ":"}, r);
    lines.push_back(line);
  }
  return from_lines(lines);
}

std::string sample_line_text(const LineCorpus& corpus, uint64_t seed, double synthetic_share) {
  if (corpus.empty()) throw std::invalid_argument("sample_line_text: empty corpus");
  std::mt19937 engine = engine_for(seed);
  Random r(engine);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const int target = target_length(r);
    std::string raw = r.chance(synthetic_share) ? synthetic_line(corpus, target, r) : to_utf8(corpus_span(corpus, target, r));
    std::u32string s = truncate_words(clean_u32(raw), 80);
    if (!s.empty()) return to_utf8(s);
  }
  return "text";
}

// ------------------------------------------------------------------------------------------- fonts

namespace {

// Glyphs are rendered once per font at this em size; a line is set at this size, then scaled once.
constexpr int kEm = 64;

struct LineGlyph {
  cv::Mat mask;        // CV_8U ink coverage, cropped to the ink
  int left = 0;        // ink box relative to the pen position on the baseline
  int top = 0;         // (negative: above the baseline)
  float advance = 0;   // pen advance (pixels at kEm)
  bool ok = false;     // a real glyph (not .notdef, has ink)
};

struct LineFont {
  std::string path, error;        // error non-empty: unusable
  std::vector<LineGlyph> glyphs;  // by printed-charset index
  float space = 0;                // advance of ' '
  float cap = 0, xheight = 0;     // ink heights of 'H' and 'x'
};

bool same_mask(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && (a.empty() || cv::norm(a, b, cv::NORM_INF) == 0);
}

std::shared_ptr<const LineFont> build_line_font(const std::string& path) {
  auto font = std::make_shared<LineFont>();
  font->path = path;
  cv::Ptr<cv::freetype::FreeType2> ft;
  try {
    ft = cv::freetype::createFreeType2();
    ft->loadFontData(path, 0);
  } catch (const cv::Exception&) {
    font->error = "does not load";
    return font;
  }
  if (fs::path(path).stem().string() == "OCRBF") {  // hollow outline letters: not document print
    font->error = "outline font";
    return font;
  }
  const int R = kEm;
  const cv::Point origin(R, 2 * R);
  cv::Mat canvas(3 * R, 4 * R, CV_8UC3), ink;
  auto render = [&](const std::string& s, cv::Rect& box) {
    canvas.setTo(cv::Scalar::all(0));
    ft->putText(canvas, s, origin, R, cv::Scalar::all(255), -1, cv::LINE_AA, true);
    cv::extractChannel(canvas, ink, 0);
    box = cv::boundingRect(ink);
    return box.area() > 0 ? ink(box).clone() : cv::Mat();
  };
  auto width = [&](const std::string& s) {
    int baseline = 0;
    return ft->getTextSize(s, R, -1, &baseline).width;
  };
  try {
    cv::Rect box;
    // U+0378 is unassigned: every font draws its .notdef for it.
    const cv::Mat notdef = render("\u0378", box);
    const int hh = width("HH");
    font->space = float(width("H H") - hh);
    const auto chars = utf8_chars(printed_characters());
    font->glyphs.resize(chars.size());
    for (size_t i = 0; i < chars.size(); ++i) {
      if (chars[i] == " ") continue;
      LineGlyph& g = font->glyphs[i];
      g.mask = render(chars[i], box);
      if (g.mask.empty() || same_mask(g.mask, notdef)) {
        g.mask.release();
        continue;
      }
      g.left = box.x - origin.x;
      g.top = box.y - origin.y;
      g.advance = float(width("H" + chars[i] + "H") - hh);
      g.ok = g.advance > 0;
      if (!g.ok) g.mask.release();
    }
    // A non-ASCII character drawn exactly like an ASCII one (OCR-B's typographic quotes look like '"')
    // would teach the wrong label: treat it as missing.
    std::map<std::vector<uint8_t>, int> ascii_shapes;
    auto shape_key = [](const cv::Mat& m) {
      std::vector<uint8_t> key = {uint8_t(m.cols), uint8_t(m.cols >> 8), uint8_t(m.rows), uint8_t(m.rows >> 8)};
      for (int y = 0; y < m.rows; ++y) key.insert(key.end(), m.ptr<uint8_t>(y), m.ptr<uint8_t>(y) + m.cols);
      return key;
    };
    for (size_t i = 0; i < chars.size(); ++i)
      if (font->glyphs[i].ok && static_cast<unsigned char>(chars[i][0]) < 0x80)
        ascii_shapes.emplace(shape_key(font->glyphs[i].mask), int(i));
    for (size_t i = 0; i < chars.size(); ++i) {
      LineGlyph& g = font->glyphs[i];
      if (g.ok && static_cast<unsigned char>(chars[i][0]) >= 0x80 && ascii_shapes.count(shape_key(g.mask))) {
        g.ok = false;
        g.mask.release();
      }
    }
    auto h = font->glyphs[size_t(char_index(U'H'))], x = font->glyphs[size_t(char_index(U'x'))];
    if (!h.ok || !x.ok) font->error = "no 'H' or 'x'";
    else {
      font->cap = float(h.mask.rows);
      font->xheight = float(x.mask.rows);
    }
    if (font->error.empty() && (font->space <= 0 || font->cap < 0.3 * R || font->cap > 1.2 * R))
      font->error = "odd metrics";
  } catch (const cv::Exception& e) {
    font->error = std::string("render failed: ") + e.what();
  }
  return font;
}

std::shared_ptr<const LineFont> get_line_font(const std::string& path) {
  return synth::cached_per_file<LineFont>(path, build_line_font);
}

// Characters of `text` (as charset indices; spaces -1) the font lacks.
int missing_glyphs(const LineFont& font, const std::vector<int>& ids) {
  if (!font.error.empty()) return int(ids.size()) + 1;
  int missing = 0;
  for (int id : ids)
    if (id >= 0 && !font.glyphs[size_t(id)].ok) ++missing;
  return missing;
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A typeface (NimbusRoman, DejaVuSansMono, ...) and the style classes of its files.
struct FontChoice {
  struct Face {
    std::vector<size_t> styles[4];  // regular, italic, bold, bold italic: indices into fonts
  };
  std::vector<Face> faces;
};

FontChoice group_fonts(const std::vector<std::string>& fonts) {
  std::map<std::string, size_t> by_face;
  FontChoice choice;
  for (size_t i = 0; i < fonts.size(); ++i) {
    const fs::path p(fonts[i]);
    std::string stem = p.stem().string(), face = stem.substr(0, stem.find('-'));
    const std::string folder = lower(p.parent_path().filename().string());
    if (folder == "ocr-b") face = "OCRB";
    static const char* kStyles[] = {"BoldOblique", "BoldItalic", "Oblique", "Italic", "Bold", "Regular", "Roman"};
    for (bool again = true; again;) {
      again = false;
      for (const char* s : kStyles) {
        const std::string suffix = s;
        if (face.size() > suffix.size() && face.compare(face.size() - suffix.size(), suffix.size(), suffix) == 0) {
          face.resize(face.size() - suffix.size());
          again = true;
        }
      }
    }
    const std::string name = lower(stem);
    const bool bold = name.find("bold") != std::string::npos || name.find("demi") != std::string::npos ||
                      name.find("bd") != std::string::npos;
    const bool italic = name.find("italic") != std::string::npos || name.find("oblique") != std::string::npos ||
                        name.find("ita") != std::string::npos;
    auto [it, inserted] = by_face.emplace(face, choice.faces.size());
    if (inserted) choice.faces.emplace_back();
    choice.faces[it->second].styles[(bold ? 2 : 0) + (italic ? 1 : 0)].push_back(i);
  }
  return choice;
}

const FontChoice& font_choice(const std::vector<std::string>& fonts) {
  static std::mutex mutex;
  static std::map<std::vector<std::string>, std::shared_ptr<FontChoice>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[fonts];
  if (!slot) slot = std::make_shared<FontChoice>(group_fonts(fonts));
  return *slot;
}

// A typeface uniformly, then mostly its regular style.
size_t pick_font_index(const FontChoice& choice, Random& r) {
  const auto& face = choice.faces[size_t(r.integer(0, int(choice.faces.size()) - 1))];
  static const double kWeights[4] = {0.55, 0.2, 0.18, 0.07};
  double total = 0;
  for (int s = 0; s < 4; ++s) total += face.styles[s].empty() ? 0 : kWeights[s];
  double u = r.uniform(0, total);
  int style = 0;
  for (int s = 0; s < 4; ++s) {
    if (face.styles[s].empty()) continue;
    style = s;
    if (u < kWeights[s]) break;
    u -= kWeights[s];
  }
  const auto& list = face.styles[style];
  return list[size_t(r.integer(0, int(list.size()) - 1))];
}

// ------------------------------------------------------------------------------------------ layout

struct Placed {
  const cv::Mat* mask;
  int x, y;  // top-left at kEm scale, relative to the line's pen start on the baseline
};

struct SetLine {
  std::vector<Placed> glyphs;
  cv::Rect ink;  // union of the glyph boxes (baseline at y = 0)
  std::vector<std::pair<int, int>> words;  // x extents of words (for underlines)
};

SetLine set_line(const std::u32string& text, const LineFont& font, double tracking, double word_space, int x0, int y0) {
  SetLine line;
  double pen = x0;
  int word_start = -1, word_end = 0;
  for (char32_t c : text) {
    if (is_space(c)) {
      if (word_start >= 0) line.words.emplace_back(word_start, word_end);
      word_start = -1;
      pen += font.space * word_space;
      continue;
    }
    const int id = char_index(c);
    if (id < 0 || !font.glyphs[size_t(id)].ok) continue;
    const LineGlyph& g = font.glyphs[size_t(id)];
    const int x = int(std::lround(pen)) + g.left, y = y0 + g.top;
    line.glyphs.push_back({&g.mask, x, y});
    const cv::Rect box(x, y, g.mask.cols, g.mask.rows);
    line.ink = line.ink.area() ? (line.ink | box) : box;
    if (word_start < 0) word_start = x;
    word_end = std::max(word_end, x + g.mask.cols);
    pen += g.advance + tracking * kEm;
  }
  if (word_start >= 0) line.words.emplace_back(word_start, word_end);
  return line;
}

// Draws the glyphs into `canvas` (CV_8U, max-blend), shifted by `offset`.
void draw_line(cv::Mat& canvas, const SetLine& line, cv::Point offset) {
  const cv::Rect bounds(0, 0, canvas.cols, canvas.rows);
  for (const auto& g : line.glyphs) {
    const cv::Rect box(g.x + offset.x, g.y + offset.y, g.mask->cols, g.mask->rows);
    const cv::Rect clip = box & bounds;
    if (clip.area() == 0) continue;
    cv::Mat dst = canvas(clip);
    cv::max(dst, (*g.mask)(cv::Rect(clip.x - box.x, clip.y - box.y, clip.width, clip.height)), dst);
  }
}

// Text for a neighbouring line: the line's own characters from a random place, repeated to fill.
std::u32string neighbour_text(const std::u32string& text, size_t min_chars, Random& r) {
  std::u32string out;
  if (text.empty()) return out;
  size_t i = size_t(r.integer(0, int(text.size()) - 1));
  while (out.size() < min_chars) {
    out += text[i];
    i = (i + 1) % text.size();
    if (i == 0) out += U' ';
  }
  return out;
}

struct Colours {
  bool gray = true;
  cv::Vec3b paper, ink;
};

Colours pick_colours(Random& r) {
  Colours c;
  const double u = r.uniform();
  auto g = [](double v) { auto b = cv::saturate_cast<uint8_t>(v); return cv::Vec3b(b, b, b); };
  if (u < 0.72) {  // black or dark print on white or off-white paper
    c.paper = g(r.chance(0.7) ? r.uniform(235, 255) : r.uniform(205, 240));
    c.ink = g(r.chance(0.8) ? r.uniform(0, 50) : r.uniform(50, 100));
  } else if (u < 0.82) {  // grey background (shaded table cells, boxes)
    c.paper = g(r.uniform(165, 215));
    c.ink = g(r.uniform(0, 40));
  } else if (u < 0.86) {  // light print on a dark band (headers)
    c.paper = g(r.uniform(20, 90));
    c.ink = g(r.uniform(220, 255));
  } else {  // coloured ink and/or tinted paper
    c.gray = false;
    static const cv::Vec3b kInks[] = {{140, 40, 10}, {30, 30, 170}, {30, 110, 20}, {20, 60, 110}, {100, 30, 90},
                                      {90, 60, 0},   {10, 10, 10},  {60, 60, 60},  {150, 80, 30}, {0, 0, 120}};
    static const cv::Vec3b kPapers[] = {{255, 255, 255}, {225, 245, 250}, {240, 240, 240}, {210, 235, 245},
                                        {250, 235, 220}, {230, 250, 230}, {200, 230, 255}, {245, 245, 255}};
    c.ink = kInks[r.integer(0, int(std::size(kInks)) - 1)];
    c.paper = kPapers[r.integer(0, int(std::size(kPapers)) - 1)];
    for (int k = 0; k < 3; ++k) {
      c.ink[k] = cv::saturate_cast<uint8_t>(c.ink[k] + r.symmetric(20));
      c.paper[k] = cv::saturate_cast<uint8_t>(c.paper[k] + r.symmetric(6));
    }
  }
  return c;
}

// Paper: a flat colour with optional smooth blotches and fine grain.
cv::Mat make_paper(cv::Size size, const Colours& c, Random& r) {
  cv::Mat img(size, c.gray ? CV_8UC1 : CV_8UC3, c.gray ? cv::Scalar(c.paper[0]) : cv::Scalar(c.paper[0], c.paper[1], c.paper[2]));
  if (r.chance(0.3)) {  // low-frequency unevenness (recycled paper, toner haze)
    cv::Mat small(r.integer(2, 4), r.integer(4, 16), CV_32F);
    for (int y = 0; y < small.rows; ++y)
      for (int x = 0; x < small.cols; ++x) small.at<float>(y, x) = float(r.symmetric(1));
    cv::Mat big;
    cv::resize(small, big, size, 0, 0, cv::INTER_CUBIC);
    const double amp = r.uniform(3, 12);
    if (!c.gray) cv::cvtColor(big, big, cv::COLOR_GRAY2BGR);
    cv::Mat offset;
    big.convertTo(offset, c.gray ? CV_16S : CV_16SC3, amp);
    cv::add(img, offset, img, cv::noArray(), img.type());
  }
  if (r.chance(0.15)) {  // fine grain (rarely: noise is what makes PNGs big, and training adds its own)
    degrade::add_noise(img, r.uniform(1, 4), r.bits64());
    if (r.chance(0.5)) degrade::gaussian_blur(img, 0.6);
  }
  return img;
}

// img = img + (ink - img) * mask.
void apply_ink(cv::Mat& img, const cv::Mat& mask, const cv::Vec3b& ink, double opacity) {
  const float o = float(opacity / 255.0);
  const int ch = img.channels();
  for (int y = 0; y < img.rows; ++y) {
    const uint8_t* m = mask.ptr<uint8_t>(y);
    uint8_t* p = img.ptr<uint8_t>(y);
    for (int x = 0; x < img.cols; ++x, p += ch) {
      if (!m[x]) continue;
      const float a = m[x] * o;
      for (int k = 0; k < ch; ++k) p[k] = cv::saturate_cast<uint8_t>(p[k] + (ink[k] - p[k]) * a);
    }
  }
}

}  // namespace

bool font_covers(const std::string& font, const std::string& text) {
  auto f = get_line_font(font);
  if (f->error == "does not load") throw std::runtime_error("font '" + font + "' does not load");
  std::vector<int> ids;
  for (char32_t c : utf8_to_u32(text)) {
    if (is_space(c)) continue;
    const int id = char_index(c);
    if (id < 0) return false;
    ids.push_back(id);
  }
  return missing_glyphs(*f, ids) == 0;
}

LineRender render_line(const std::string& text, uint64_t seed, const SynthLinesOptions& options) {
  if (options.min_height < 12 || options.max_height < options.min_height)
    throw std::invalid_argument("render_line: need 12 <= min_height <= max_height");
  const std::vector<std::string>& fonts = options.fonts.empty() ? default_fonts() : options.fonts;
  if (fonts.empty()) throw std::runtime_error("render_line: no fonts");
  std::mt19937 engine = engine_for(seed);
  Random r(engine);

  // The characters (outside the charset: dropped) and the font: the drawn one, else up to 8 other draws,
  // else the first font (in list order) with every glyph, else the one missing the fewest.
  std::u32string chars;
  std::vector<int> ids;
  for (char32_t c : clean_u32(text)) {
    chars += c;
    ids.push_back(is_space(c) ? -1 : char_index(c));
  }
  if (chars.empty()) throw std::runtime_error("render_line: nothing to render in '" + text + "'");
  const FontChoice& choice = font_choice(fonts);
  std::shared_ptr<const LineFont> font;
  for (int attempt = 0; attempt < 9 && !font; ++attempt) {
    auto f = get_line_font(fonts[pick_font_index(choice, r)]);
    if (missing_glyphs(*f, ids) == 0) font = f;
  }
  if (!font) {
    int best = int(ids.size()) + 2;
    for (const auto& path : fonts) {
      auto f = get_line_font(path);
      const int m = missing_glyphs(*f, ids);
      if (m < best) best = m, font = f;
      if (m == 0) break;
    }
    if (!font || !font->error.empty()) throw std::runtime_error("render_line: no usable font");
    // Leave out what this font lacks: the label says what is drawn.
    std::u32string kept;
    for (char32_t c : chars) {
      const int id = char_index(c);
      if (is_space(c) || font->glyphs[size_t(id)].ok) {
        if (is_space(c) && (kept.empty() || is_space(kept.back()))) continue;
        kept += c;
      }
    }
    chars = trim(kept);
    if (chars.empty()) throw std::runtime_error("render_line: no font has the characters of '" + text + "'");
  }

  // Set the line at kEm: slight tracking, word spacing as justified text varies it.
  const double tracking = r.chance(0.7) ? r.symmetric(0.012) : r.uniform(-0.02, 0.07);
  const double word_space = r.chance(0.75) ? r.uniform(0.85, 1.2) : r.uniform(1.2, 1.9);
  SetLine line = set_line(chars, *font, tracking, word_space, 0, 0);
  if (line.glyphs.empty()) throw std::runtime_error("render_line: nothing drawn for '" + text + "'");
  cv::Rect ink = line.ink;
  // Underline (links, emphasis, headings): part of the ink box, as a layout analyser sees it.
  cv::Rect underline;
  if (r.chance(0.05) && !line.words.empty()) {
    const int thick = std::max(2, int(std::lround(kEm * r.uniform(0.04, 0.07))));
    const int y = int(std::lround(kEm * r.uniform(0.1, 0.2)));
    size_t a = 0, b = line.words.size() - 1;
    if (r.chance(0.5) && line.words.size() > 2) {
      a = size_t(r.integer(0, int(line.words.size()) - 1));
      b = std::min(line.words.size() - 1, a + size_t(r.integer(0, 3)));
    }
    underline = cv::Rect(line.words[a].first, y, line.words[b].second - line.words[a].first, thick);
    ink |= underline;
  }

  // A slight tilt (the page's residual skew), bounded by the line's length too: a long line tilted by
  // 1.5 degrees would drift by more than its height (a deskewed page leaves far less). Done here rather
  // than in augment(), whose warp replicates the border and would smear the neighbouring lines' cut ink.
  const AugmentOptions& dg = options.degrade;
  const double max_tilt = std::min(dg.rotate_deg, std::atan(0.3 * ink.height / std::max(1, ink.width)) * 180 / CV_PI);
  const double tilt = dg.enabled && r.chance(dg.probability * 0.6) ? r.symmetric(max_tilt) : 0.0;
  const double ca = std::cos(tilt * CV_PI / 180), sa = std::abs(std::sin(tilt * CV_PI / 180));
  const double wr = ink.width * ca + ink.height * sa, hr = ink.height * ca + ink.width * sa;  // tilted ink box

  // Crop like infer's layout: the ink box grown by 5-20% of its height vertically, 0-1 character
  // horizontally; then scaled to the drawn crop height (and slightly condensed or expanded).
  const int top = int(std::lround(hr * r.uniform(0.05, 0.2))), bottom = int(std::lround(hr * r.uniform(0.05, 0.2)));
  const double char_w = std::max(0.3 * kEm, 0.5 * font->cap);
  const int left = int(std::lround(char_w * (r.chance(0.8) ? r.uniform(0, 0.6) : r.uniform(0.6, 1.0))));
  const int right = int(std::lround(char_w * (r.chance(0.8) ? r.uniform(0, 0.6) : r.uniform(0.6, 1.0))));
  const cv::Size crop(int(std::ceil(wr)) + left + right, int(std::ceil(hr)) + top + bottom);
  // The page around the line, large enough for whatever the tilted crop shows.
  const int mx = crop.width / 2 + crop.height, my = crop.height + 2;
  cv::Mat page = cv::Mat::zeros(ink.height + 2 * my, ink.width + 2 * mx, CV_8U);
  const cv::Point offset(mx - ink.x, my - ink.y);
  draw_line(page, line, offset);
  if (underline.area()) page(underline + offset).setTo(cv::Scalar(255));
  // Parts of the neighbouring lines above and below, one leading (baseline to baseline) away: in most
  // crops nothing shows, in some the descenders of the line above or the capitals of the line below.
  // Never closer than the outer half of the padding (closer, a descender tip reads as an accent).
  const double drift = hr - ink.height * ca;  // how much a tilt moves a parallel line into the crop
  const double leading = kEm * r.uniform(1.0, 1.3);
  for (int side : {-1, 1}) {
    if (!r.chance(0.4)) continue;
    const int pad = side < 0 ? top : bottom;
    const size_t n = size_t(page.cols / (0.3 * kEm)) + 4;
    const std::u32string other = neighbour_text(chars, n, r);
    const int start = -mx + (r.chance(0.3) ? int(std::lround(r.uniform(0, 0.5) * crop.width)) : 0);
    const SetLine nb = set_line(other, *font, tracking, word_space, start, 0);
    if (nb.glyphs.empty()) continue;
    const int gap = int(std::lround(0.75 * drift)) +  // nearest allowed distance to the ink box
                    std::max(pad - pad / 2 + 1, int(std::lround(0.12 * ink.height)));
    const int baseline = offset.y + int(std::lround(side * leading));
    const int dy = side < 0 ? std::min(baseline, my - gap - (nb.ink.y + nb.ink.height))
                            : std::max(baseline, my + ink.height + gap - nb.ink.y);
    draw_line(page, nb, cv::Point(offset.x, dy));
  }
  cv::Mat canvas;
  if (tilt == 0) {
    canvas = page(cv::Rect(mx - left, my - top, crop.width, crop.height)).clone();
  } else {
    const cv::Point2f centre(float(mx + ink.width / 2.0), float(my + ink.height / 2.0));
    cv::Mat m = cv::getRotationMatrix2D(centre, tilt, 1.0);
    m.at<double>(0, 2) += left + wr / 2 - centre.x;
    m.at<double>(1, 2) += top + hr / 2 - centre.y;
    cv::warpAffine(page, canvas, m, crop, cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0));
  }

  const int height = r.integer(options.min_height, options.max_height);
  const double scale = height / double(canvas.rows);
  const double x_scale = r.chance(0.75) ? 1.0 : r.uniform(0.88, 1.12);
  const cv::Size size(std::max(1, int(std::lround(canvas.cols * scale * x_scale))), height);
  cv::Mat mask;
  cv::resize(canvas, mask, size, 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);

  const Colours colours = pick_colours(r);
  cv::Mat img = make_paper(size, colours, r);
  apply_ink(img, mask, colours.ink, r.uniform(0.88, 1.0));
  LineRender out;
  AugmentOptions degrade = options.degrade;
  degrade.rotate_deg = 0;  // tilted above
  out.image = augment(img, degrade, engine);
  out.text = to_utf8(chars);
  out.font = font->path;
  for (int id : ids) out.dropped += id >= 0 && !font->glyphs[size_t(id)].ok;
  return out;
}

SynthLineSample synth_line_sample(const LineCorpus& corpus, uint64_t seed, uint64_t index,
                                  const SynthLinesOptions& options) {
  std::mt19937 engine = engine_for(sample_seed(seed, index));
  Random r(engine);
  // A draw that OpenCV rejects (seen once in 300k lines: an ROI outside the image) is redrawn from the
  // same engine, so the data set stays a function of the seed; the third failure names the sample.
  for (int attempt = 1;; ++attempt) {
    const uint64_t text_seed = r.bits64(), render_seed = r.bits64();
    const std::string text = sample_line_text(corpus, text_seed, options.synthetic_share);
    try {
      LineRender render = render_line(text, render_seed, options);
      return {std::move(render.text), std::move(render.image), std::move(render.font), render.dropped};
    } catch (const cv::Exception& e) {
      if (attempt == 3)
        throw std::runtime_error("synth-lines: sample " + std::to_string(index) + " ('" + text + "', render seed " +
                                 std::to_string(render_seed) + "): " + e.what());
    }
  }
}

SynthLinesReport write_synth_lines(const std::string& out_dir, const LineCorpus& corpus, int count, uint64_t seed,
                                   const SynthLinesOptions& options, int jobs,
                                   const std::function<void(int)>& progress) {
  if (count < 0) throw std::invalid_argument("synth-lines: count must be >= 0");
  if (corpus.empty()) throw std::invalid_argument("synth-lines: empty text corpus");
  if (options.synthetic_share < 0 || options.synthetic_share > 1)
    throw std::invalid_argument("synth-lines: synthetic share must be in [0, 1]");
  const auto start = std::chrono::steady_clock::now();
  SynthLinesOptions opts = options;
  if (opts.fonts.empty()) opts.fonts = default_fonts();
  // Glyph atlases for every font, in parallel, before the workers need them.
  std::atomic<int> usable{0};
  parallel_for(int(opts.fonts.size()), jobs, [&](int i) { usable += get_line_font(opts.fonts[size_t(i)])->error.empty(); });
  if (usable == 0) throw std::runtime_error("synth-lines: none of the " + std::to_string(opts.fonts.size()) + " fonts is usable");

  const fs::path out(out_dir), img_dir = out / "img";
  std::error_code ec;
  fs::create_directories(img_dir, ec);
  if (ec) throw std::runtime_error("cannot create '" + img_dir.string() + "': " + ec.message());

  auto name = [&](int i) { return synth::sample_image_name(i, count); };

  std::vector<std::string> texts(size_t(std::max(count, 0)));
  std::atomic<int> gray{0}, dropped{0};
  parallel_for(count, jobs, [&](int i) {
    SynthLineSample s = synth_line_sample(corpus, seed, uint64_t(i), opts);
    cv::Mat image = s.image;
    if (image.channels() == 3) {  // colour that is really gray: store 1 channel
      std::vector<cv::Mat> ch;
      cv::split(image, ch);
      if (cv::norm(ch[0], ch[1], cv::NORM_INF) <= 2 && cv::norm(ch[1], ch[2], cv::NORM_INF) <= 2)
        cv::cvtColor(image, image, cv::COLOR_BGR2GRAY);
    }
    if (image.channels() == 1) ++gray;
    dropped += s.dropped;
    const std::string path = (out / name(i)).string();
    if (!cv::imwrite(path, image)) throw std::runtime_error("cannot write '" + path + "'");
    texts[size_t(i)] = std::move(s.text);
  }, progress);

  synth::write_sample_labels(out_dir, texts);

  SynthLinesReport report;
  report.count = count;
  report.fonts = usable;
  report.gray = gray;
  report.dropped_chars = dropped;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (progress) progress(count);
  return report;
}

}  // namespace ocrkit
