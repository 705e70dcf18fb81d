#include "datasets/synth_vin.h"

#include "core/fs.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <opencv2/freetype.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <stdexcept>

#include "core/vin.h"
#include "datasets/synth_common.h"

namespace fs = std::filesystem;

namespace ocrkit {

using degrade::Random;

AugmentOptions synth_degrade_defaults() {
  AugmentOptions o;
  o.probability = 0.95;
  o.rotate_deg = 2.5;
  o.shear = 0.2;
  o.perspective = 0.04;
  o.scale_jitter = 0.08;
  // Bounded so a person can still read every crop: a crop nobody can read only teaches label noise.
  o.blur = 1.0;
  o.noise = 10.0;
  o.jpeg_min_quality = 35;
  o.low_res = 0.6;
  o.contrast = 0.3;
  o.invert = 0.0;
  return o;
}

namespace synth {

std::mt19937 engine_for(uint64_t seed) {
  std::seed_seq seq{uint32_t(seed), uint32_t(seed >> 32)};  // seed_seq's algorithm is standardised
  return std::mt19937(seq);
}

std::string sample_image_name(int index, int count) {
  int digits = 6;
  for (int n = count - 1; n >= 1000000; n /= 10) ++digits;
  std::string s = std::to_string(index);
  return "img/" + std::string(std::max(0, digits - int(s.size())), '0') + s + ".png";
}

void write_sample_labels(const std::string& out_dir, const std::vector<std::string>& texts) {
  std::string content;
  for (size_t i = 0; i < texts.size(); ++i) content += sample_image_name(int(i), int(texts.size())) + '\t' + texts[i] + '\n';
  write_file_atomically((fs::path(out_dir) / "labels.tsv").string(), content);
}

}  // namespace synth

cv::Mat dot_matrix_print(const cv::Mat& mask, double pitch, double radius, double coverage, cv::Point2d offset) {
  // A dot prints where the glyph covers enough of the dot's grid cell (box-filter coverage at each grid
  // point): a stroke thinner than the pitch still lights the row it crosses most, and counters at least
  // a pitch tall stay open. Sampling the glyph at the grid points alone dropped thin horizontal strokes.
  cv::Mat covered;
  const int cell = std::max(1, int(std::lround(pitch)));
  cv::blur(mask, covered, cv::Size(cell, cell));
  const int pad = int(std::ceil(radius)) + 1;
  cv::Mat out = cv::Mat::zeros(mask.rows + 2 * pad, mask.cols + 2 * pad, CV_8U);
  constexpr int kShift = 4;  // sub-pixel bits for cv::circle
  for (double y = offset.y; y < covered.rows; y += pitch) {
    const uint8_t* row = covered.ptr<uint8_t>(int(y));
    for (double x = offset.x; x < covered.cols; x += pitch)
      if (row[int(x)] > 255 * coverage)
        cv::circle(out, cv::Point(int((x + pad) * 16), int((y + pad) * 16)), int(radius * 16), cv::Scalar(255),
                   cv::FILLED, cv::LINE_AA, kShift);
  }
  return out;
}

namespace {

using synth::engine_for;
using synth::sample_image_name;
using synth::write_sample_labels;

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ------------------------------------------------------------------------------------------------ fonts

// Glyphs are rendered once per font at this pixel size and scaled down per sample: FreeType through
// OpenCV costs ~40 us per glyph, a resize of a cached mask a few.
constexpr int kAtlasSize = 64;
// Characters beyond the VIN alphabet, for neighbouring-line fragments (and any text render_vin is given).
const std::string kExtraChars = "IOQabcdefghijklmnopqrstuvwxyz.:-/#";

struct Glyph {
  cv::Mat mask;  // CV_8U ink coverage, cropped to the ink
  int left = 0;  // ink box relative to the pen position on the baseline
  int top = 0;   // (negative: above the baseline)
};

struct FontAtlas {
  std::string path, why_unusable;  // why_unusable empty: usable
  Glyph glyphs[128];
  double cap_height = 0;  // ink height of the capitals
  int max_width = 0;      // widest VIN character (monospaced cells)
  const Glyph* glyph(char c) const {
    auto u = static_cast<unsigned char>(c);
    return u < 128 && !glyphs[u].mask.empty() ? &glyphs[u] : nullptr;
  }
};

std::shared_ptr<const FontAtlas> build_atlas(const std::string& path) {
  auto atlas = std::make_shared<FontAtlas>();
  atlas->path = path;
  cv::Ptr<cv::freetype::FreeType2> ft;
  try {
    ft = cv::freetype::createFreeType2();  // one FreeType library per call: safe on any thread
    ft->loadFontData(path, 0);
  } catch (const cv::Exception&) {
    atlas->why_unusable = "does not load";
    return atlas;
  }
  const int R = kAtlasSize;
  const cv::Point origin(R / 2, 3 * R / 2);  // pen position on the baseline (bottomLeftOrigin = true)
  cv::Mat canvas(2 * R, 3 * R, CV_8UC3), ink;
  std::map<std::vector<uint8_t>, char> shapes;  // to spot .notdef boxes standing in for several characters
  double coverage = 0;                           // mean ink share of the VIN glyphs' boxes
  for (char c : vin_alphabet() + kExtraChars) {
    canvas.setTo(cv::Scalar::all(0));
    // OpenCV 4.6's FreeType putText only draws on 3-channel images.
    ft->putText(canvas, std::string(1, c), origin, R, cv::Scalar::all(255), -1, cv::LINE_AA, true);
    cv::extractChannel(canvas, ink, 0);
    cv::Rect box = cv::boundingRect(ink);
    const bool vin_char = in_vin_alphabet(c);
    if (box.area() == 0) {
      if (vin_char && atlas->why_unusable.empty()) atlas->why_unusable = std::string("no ink for '") + c + "'";
      continue;
    }
    Glyph& g = atlas->glyphs[static_cast<unsigned char>(c)];
    g.mask = ink(box).clone();
    g.left = box.x - origin.x;
    g.top = box.y - origin.y;
    if (!vin_char) continue;
    std::vector<uint8_t> key = {uint8_t(box.width), uint8_t(box.height)};
    key.insert(key.end(), g.mask.datastart, g.mask.dataend);
    auto [it, inserted] = shapes.emplace(std::move(key), c);
    if (!inserted && atlas->why_unusable.empty())
      atlas->why_unusable = std::string("'") + c + "' looks like '" + it->second + "' (missing glyphs)";
    atlas->max_width = std::max(atlas->max_width, box.width);
    coverage += cv::mean(g.mask)[0] / 255.0 / double(vin_alphabet().size());
  }
  if (const Glyph* h = atlas->glyph('H')) atlas->cap_height = h->mask.rows;
  // Negative fonts (OCR-B's OCRBE/OCRBX: white letters cut out of black boxes) fill their boxes.
  if (atlas->why_unusable.empty() && coverage > 0.6) atlas->why_unusable = "inverted glyphs";
  if (atlas->why_unusable.empty() && (atlas->cap_height < 0.3 * R || atlas->cap_height > 1.2 * R))
    atlas->why_unusable = "odd capital height";
  return atlas;
}

std::shared_ptr<const FontAtlas> get_atlas(const std::string& path) {
  return synth::cached_per_file<FontAtlas>(path, build_atlas);
}

bool font_extension(const fs::path& p) {
  std::string ext = lower(p.extension().string());
  return ext == ".ttf" || ext == ".otf";
}

// Fonts whose letters are not Latin letters (they may still map A-Z to glyphs with ink).
bool denied_font(const std::string& filename) {
  static const char* kDenied[] = {"symbol", "dingbat", "d050000l", "math", "z003", "emoji", "icon"};
  std::string name = lower(filename);
  for (const char* d : kDenied)
    if (name.find(d) != std::string::npos) return true;
  return false;
}

// Family folder / file name: the sort key (independent of the root the font was found under).
std::string font_key(const std::string& path) {
  fs::path p(path);
  return p.parent_path().filename().string() + "/" + p.filename().string();
}

}  // namespace

std::vector<std::string> default_font_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("OCRKIT_FONTS_DIR"); env && *env) dirs.push_back(env);
  dirs.push_back("/usr/share/fonts");
  if (const char* deps = std::getenv("OCRKIT_DEPS"); deps && *deps)
    dirs.push_back(std::string(deps) + "/usr/share/fonts");
  std::vector<std::string> existing;
  std::error_code ec;
  for (const auto& d : dirs)
    if (fs::exists(d, ec)) existing.push_back(d);
  return existing;
}

std::vector<std::string> find_fonts(const std::vector<std::string>& dirs) {
  std::map<std::string, std::string> by_name;  // file name -> first path found
  for (const auto& dir : dirs) {
    std::vector<std::string> found;
    std::error_code ec;
    if (fs::is_regular_file(dir, ec)) {
      if (font_extension(dir)) found.push_back(dir);
    } else if (fs::is_directory(dir, ec)) {
      for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec) && font_extension(it->path())) found.push_back(it->path().string());
    }
    std::sort(found.begin(), found.end());  // directory iteration order is unspecified
    for (const auto& f : found) {
      std::string name = fs::path(f).filename().string();
      if (!denied_font(name)) by_name.emplace(name, f);
    }
  }
  std::vector<std::string> candidates;
  for (const auto& [name, path] : by_name) candidates.push_back(path);
  std::sort(candidates.begin(), candidates.end(),
            [](const std::string& a, const std::string& b) { return font_key(a) < font_key(b); });
  // Validate by rendering (loads and caches every atlas, in parallel).
  std::vector<char> usable(candidates.size(), 0);
  parallel_for(int(candidates.size()), 0,
               [&](int i) { usable[i] = get_atlas(candidates[i])->why_unusable.empty(); });
  std::vector<std::string> fonts;
  for (size_t i = 0; i < candidates.size(); ++i)
    if (usable[i]) fonts.push_back(candidates[i]);
  return fonts;
}

const std::vector<std::string>& default_fonts() {
  static const std::vector<std::string> fonts = [] {
    std::vector<std::string> dirs = default_font_dirs();
    std::vector<std::string> f = find_fonts(dirs);
    if (f.empty()) {
      std::string where;
      for (const auto& d : dirs) where += (where.empty() ? "" : ", ") + d;
      throw std::runtime_error("no usable .ttf/.otf font with the characters 0-9 A-Z found in {" + where +
                               "}: install fonts-dejavu-core (or the fonts of scripts/setup.sh), set "
                               "OCRKIT_FONTS_DIR, or pass --fonts DIR");
    }
    return f;
  }();
  return fonts;
}

// ------------------------------------------------------------------------------------------------- VINs

std::string random_vin(std::mt19937& rng, bool valid) {
  // Real world manufacturer identifiers (Ford, GM, Honda, Toyota, Tesla, VW, BMW, Volvo, Fiat, ...).
  static const char* kWmi[] = {"1FA", "1FT", "1G1", "1GC", "1HG", "1J4", "1N4", "2HG", "2T1", "3FA", "3VW",
                               "4T1", "5YJ", "5NP", "JHM", "JN1", "JTD", "JM1", "KMH", "KNA", "SAJ", "SAL",
                               "SCC", "VF1", "VF3", "VSS", "WAU", "WBA", "WDB", "WDD", "WP0", "WVW", "YV1",
                               "YS3", "ZFA", "ZAR", "LSV", "MA1", "9BW", "TMB"};
  static const std::string kRegion = "12345JKLSVWYZ";                       // first WMI character
  static const std::string kYear = "ABCDEFGHJKLMNPRSTVWXY123456789";       // position 10 (no U, Z, 0)
  const std::string& A = vin_alphabet();                                   // digits first, then letters
  Random r(rng);
  auto any = [&] { return A[r.integer(0, int(A.size()) - 1)]; };
  auto digit = [&] { return A[r.integer(0, 9)]; };
  auto letter = [&] { return A[r.integer(10, int(A.size()) - 1)]; };

  std::string v(kVinLength, '0');
  if (r.chance(0.25)) {
    // Fully uniform: keeps the model from learning a per-position language model.
    for (auto& c : v) c = any();
  } else {
    if (r.chance(0.5)) {
      v.replace(0, 3, kWmi[r.integer(0, int(std::size(kWmi)) - 1)]);
    } else {
      v[0] = kRegion[r.integer(0, int(kRegion.size()) - 1)];
      v[1] = r.chance(0.6) ? letter() : any();
      v[2] = any();
    }
    for (int i = 3; i < 8; ++i) v[i] = any();   // vehicle descriptor
    v[9] = kYear[r.integer(0, int(kYear.size()) - 1)];
    v[10] = any();                              // plant
    for (int i = 11; i < 17; ++i) v[i] = r.chance(0.85) ? digit() : letter();  // serial
  }
  const char check = vin_check_char(v);  // position 9 has weight 0: its placeholder does not matter
  if (valid) {
    v[8] = check;
  } else {
    static const std::string kCheck = "0123456789X";
    do v[8] = r.chance(0.5) ? kCheck[r.integer(0, 10)] : any();
    while (v[8] == check);
  }
  return v;
}

// ------------------------------------------------------------------------------------------- rendering

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// How characters are set in a line.
struct TextLayout {
  double x_scale = 1;         // glyph width factor (condensed / expanded print)
  double gap = 0.12;          // space between characters, share of the capital height
  double gap_jitter = 0.02;   // per-character variation of the gap
  bool monospace = false;     // characters centred in equal cells (typewriter, printer, stamping)
  double size_jitter = 0;     // per-character size variation (share)
  double baseline_jitter = 0; // per-character vertical offset (share of capital height)
  double rotate_jitter = 0;   // per-character rotation (degrees): hand-stamped characters
  int group_after = -1;       // an extra gap after this character index (grouped print)
  double group_gap = 0;
};

cv::Mat rotate_mask(const cv::Mat& m, double deg) {
  cv::Point2f c(m.cols / 2.f, m.rows / 2.f);
  cv::Mat rot = cv::getRotationMatrix2D(c, deg, 1.0);
  cv::Rect2f box = cv::RotatedRect(c, m.size(), float(deg)).boundingRect2f();
  rot.at<double>(0, 2) += box.width / 2.0 - c.x;
  rot.at<double>(1, 2) += box.height / 2.0 - c.y;
  cv::Mat out;
  cv::warpAffine(m, out, rot, cv::Size(int(std::ceil(box.width)), int(std::ceil(box.height))), cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar(0));
  return out;
}

// The ink coverage of `text` (CV_8U, cropped to the ink) with capitals `cap` pixels high. `boxes`
// (optional) receives each character's box in the mask.
cv::Mat layout_text(const std::string& text, const FontAtlas& atlas, double cap, const TextLayout& L, Random& r,
                    std::vector<cv::Rect>* boxes = nullptr) {
  struct Placed {
    cv::Mat mask;
    double x, y;
  };
  std::vector<Placed> placed;
  const double s = cap / atlas.cap_height;
  const double cell = atlas.max_width * s * L.x_scale;
  double cursor = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const double gap = std::max(0.04, L.gap + r.symmetric(L.gap_jitter)) * cap +
                       (int(i) == L.group_after ? L.group_gap * cap : 0);
    if (text[i] == ' ') {
      cursor += 0.35 * cap * L.x_scale + gap;
      continue;
    }
    const Glyph* g = atlas.glyph(text[i]);
    if (!g)
      throw std::runtime_error("font '" + atlas.path + "' cannot render '" + std::string(1, text[i]) + "'");
    const double si = s * (1 + r.symmetric(L.size_jitter));
    cv::Size size(std::max(1, int(std::lround(g->mask.cols * si * L.x_scale))),
                  std::max(1, int(std::lround(g->mask.rows * si))));
    cv::Mat m;
    cv::resize(g->mask, m, size, 0, 0, si < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    if (L.rotate_jitter > 0) m = rotate_mask(m, r.symmetric(L.rotate_jitter));
    // Keep the glyph's centre where the unrotated glyph's centre was.
    const double x = (L.monospace ? cursor + (cell - size.width) / 2 : cursor) - (m.cols - size.width) / 2.0;
    const double y = g->top * si + r.symmetric(L.baseline_jitter) * cap - (m.rows - size.height) / 2.0;
    placed.push_back({m, x, y});
    cursor += (L.monospace ? std::max(cell, double(size.width)) : size.width) + gap;
  }
  if (placed.empty()) return cv::Mat();
  double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
  for (const auto& p : placed) {
    x0 = std::min(x0, p.x), y0 = std::min(y0, p.y);
    x1 = std::max(x1, p.x + p.mask.cols), y1 = std::max(y1, p.y + p.mask.rows);
  }
  cv::Mat out = cv::Mat::zeros(int(std::ceil(y1 - y0)) + 1, int(std::ceil(x1 - x0)) + 1, CV_8U);
  if (boxes) boxes->clear();
  for (const auto& p : placed) {
    cv::Rect box(int(std::lround(p.x - x0)), int(std::lround(p.y - y0)), p.mask.cols, p.mask.rows);
    box &= cv::Rect(0, 0, out.cols, out.rows);
    cv::Mat roi = out(box);
    cv::max(roi, p.mask(cv::Rect(0, 0, box.width, box.height)), roi);  // overlapping ink merges
    if (boxes) boxes->push_back(box);
  }
  return out;
}

// Dot-matrix print: the glyph shapes sampled on a grid of round dots, 7 to 10 dots per capital and at
// least 5 per character width (narrow fonts would lose their shape otherwise).
cv::Mat dot_matrix(const cv::Mat& mask, double cap, double char_width, Random& r) {
  // At least ~2.5 px per dot, and dots that nearly touch: sparser or tinier dots do not survive the
  // photo degradations and leave crops nobody can read.
  const double pitch = std::max(2.5, std::min(cap / r.uniform(7, 9), char_width / r.uniform(5, 6)));
  const double radius = pitch * r.uniform(0.5, 0.62);
  const double coverage = r.uniform(0.2, 0.3);
  const double ox = r.uniform(0, pitch), oy = r.uniform(0, pitch);
  return dot_matrix_print(mask, pitch, radius, coverage, {ox, oy});
}

enum class Surface { Label, Plate, Metal, Paper, DotMatrix, Plain };

// Colours and finish of a surface (BGR).
struct Look {
  cv::Vec3b bg, fg, light, dark;
  int emboss = 0;          // +1 raised (light rim above-left), -1 stamped in (dark rim above-left)
  double texture = 2;      // grain noise std
  bool brushed = false;    // horizontal metal streaks and scratches
  bool fragments = false;  // parts of neighbouring text lines may show in the margins
};

double luma(const cv::Vec3b& c) { return 0.114 * c[0] + 0.587 * c[1] + 0.299 * c[2]; }

cv::Vec3b tinted(double v, double tb, double tg, double tr) {
  return cv::Vec3b(cv::saturate_cast<uint8_t>(v + tb), cv::saturate_cast<uint8_t>(v + tg),
                   cv::saturate_cast<uint8_t>(v + tr));
}

cv::Vec3b mix(const cv::Vec3b& a, const cv::Vec3b& b, double t) {
  cv::Vec3b out;
  for (int c = 0; c < 3; ++c) out[c] = cv::saturate_cast<uint8_t>(a[c] + (b[c] - a[c]) * t);
  return out;
}

cv::Vec3b random_colour(Random& r) {
  return cv::Vec3b(uint8_t(r.integer(0, 255)), uint8_t(r.integer(0, 255)), uint8_t(r.integer(0, 255)));
}

Look pick_look(Surface surface, Random& r) {
  Look k;
  auto jitter = [&](double amount) { return r.symmetric(amount); };
  switch (surface) {
    case Surface::Label:
    case Surface::DotMatrix: {
      // White, silver or pale yellow sticker; black, dark blue or faded ink.
      const double base = r.chance(0.7) ? r.uniform(215, 255) : r.uniform(175, 215);
      k.bg = r.chance(0.2) ? tinted(base, -25, -3, 0) : tinted(base, jitter(6), jitter(6), jitter(6));
      const double ink = surface == Surface::DotMatrix ? r.uniform(20, 110) : r.uniform(0, 70);
      k.fg = r.chance(0.25) ? tinted(ink, 50, 10, 0) : tinted(ink, jitter(8), jitter(8), jitter(8));
      k.texture = r.uniform(0.5, 4);
      k.fragments = r.chance(0.3);
      break;
    }
    case Surface::Plate: {
      // Dark anodised or painted plate with light characters, often raised.
      static const cv::Vec3b kPlates[] = {{25, 25, 25}, {70, 35, 20}, {30, 60, 25}, {30, 30, 90}, {55, 55, 55}};
      const cv::Vec3b& p = kPlates[r.integer(0, 4)];
      k.bg = tinted(0, p[0] + jitter(15), p[1] + jitter(15), p[2] + jitter(15));
      k.fg = r.chance(0.2) ? tinted(r.uniform(190, 235), -30, 0, 5) : tinted(r.uniform(185, 250), 0, 0, 0);
      k.texture = r.uniform(1, 6);
      if (r.chance(0.5)) {
        k.emboss = 1;
        k.light = mix(k.bg, cv::Vec3b(255, 255, 255), r.uniform(0.35, 0.7));
        k.dark = mix(k.bg, cv::Vec3b(0, 0, 0), 0.6);
      }
      break;
    }
    case Surface::Metal: {
      // Gray metal with stamped or engraved characters: darker recess (or bright fresh cut) with a
      // shadow on one side and a highlight on the other.
      k.bg = tinted(r.uniform(105, 200), jitter(10), jitter(6), jitter(6));
      k.brushed = true;
      k.texture = r.uniform(6, 18);
      const double l = luma(k.bg);
      k.fg = r.chance(0.75) || l > 170 ? mix(k.bg, cv::Vec3b(0, 0, 0), r.uniform(0.35, 0.7))
                                       : mix(k.bg, cv::Vec3b(255, 255, 255), r.uniform(0.5, 0.8));
      k.emboss = r.chance(0.8) ? -1 : 0;
      k.light = mix(k.bg, cv::Vec3b(255, 255, 255), r.uniform(0.3, 0.6));
      k.dark = mix(k.bg, cv::Vec3b(0, 0, 0), r.uniform(0.5, 0.75));
      break;
    }
    case Surface::Paper: {
      // Off-white or yellowed paper, printed or faded ink.
      k.bg = tinted(r.uniform(210, 250), -r.uniform(0, 25), -r.uniform(0, 8), 0);
      k.fg = r.chance(0.2) ? tinted(r.uniform(30, 80), 60, 10, 0) : tinted(r.uniform(0, 90), 0, 0, 0);
      k.texture = r.uniform(2, 7);
      k.fragments = r.chance(0.6);
      break;
    }
    case Surface::Plain: {
      // Any two colours far enough apart in brightness.
      k.bg = random_colour(r);
      do k.fg = random_colour(r);
      while (std::abs(luma(k.fg) - luma(k.bg)) < 90);
      k.texture = r.uniform(0, 5);
      break;
    }
  }
  // Legible before degradation: at least 80 levels between ink and ground (stamped metal relies on its
  // rims instead).
  if (surface != Surface::Metal && std::abs(luma(k.fg) - luma(k.bg)) < 80)
    k.fg = mix(k.fg, luma(k.bg) > 127 ? cv::Vec3b(0, 0, 0) : cv::Vec3b(255, 255, 255), 0.5);
  return k;
}

cv::Mat make_surface(const Look& k, cv::Size size, Random& r) {
  cv::Mat img(size, CV_8UC3, cv::Scalar(k.bg[0], k.bg[1], k.bg[2]));
  if (k.brushed) {
    // Brushed metal: noise smeared along the rows, plus a few scratches.
    cv::Mat grain(size, CV_8U, cv::Scalar(128));
    degrade::add_noise(grain, k.texture * 2.5, r.bits64());
    const int len = 2 * r.integer(4, 15) + 1;
    cv::blur(grain, grain, cv::Size(len, 1), cv::Point(-1, -1), cv::BORDER_REFLECT);
    cv::Mat grain3;
    cv::cvtColor(grain, grain3, cv::COLOR_GRAY2BGR);
    cv::Mat offset;
    grain3.convertTo(offset, CV_16SC3, 1, -128);
    cv::add(img, offset, img, cv::noArray(), CV_8UC3);
    // Short and faint: a long dark scratch through the middle reads as a strike-through.
    for (int i = r.integer(0, 3); i > 0; --i) {
      cv::Point a(r.integer(0, size.width), r.integer(0, size.height));
      cv::Point b = a + cv::Point(r.integer(-size.width / 5, size.width / 5), r.integer(-size.height / 3, size.height / 3));
      cv::Vec3b c = mix(k.bg, r.chance(0.5) ? k.light : k.dark, r.uniform(0.2, 0.45));
      cv::line(img, a, b, cv::Scalar(c[0], c[1], c[2]), 1, cv::LINE_AA);
    }
  } else {
    degrade::add_noise(img, k.texture, r.bits64());
    if (k.texture > 2) degrade::gaussian_blur(img, 0.6);  // grain, not sensor noise
  }
  return img;
}

// img = img + (colour - img) * mask * opacity, with `mask` placed at `at` (clipped to the image).
void blend(cv::Mat& img, const cv::Mat& mask, cv::Point at, const cv::Vec3b& colour, double opacity = 1.0) {
  cv::Rect area = cv::Rect(at, mask.size()) & cv::Rect(0, 0, img.cols, img.rows);
  const float o = float(opacity / 255.0);
  for (int y = area.y; y < area.y + area.height; ++y) {
    const uint8_t* m = mask.ptr<uint8_t>(y - at.y) + (area.x - at.x);
    uint8_t* p = img.ptr<uint8_t>(y) + 3 * area.x;
    for (int x = 0; x < area.width; ++x, p += 3) {
      if (!m[x]) continue;
      const float a = m[x] * o;
      for (int c = 0; c < 3; ++c) p[c] = cv::saturate_cast<uint8_t>(p[c] + (colour[c] - p[c]) * a);
    }
  }
}

// Frame or rule lines in the margins only (never across the text box).
void draw_frame_lines(cv::Mat& img, const cv::Rect& text, const cv::Vec3b& colour, double cap, Random& r) {
  const int thick = std::max(1, int(std::lround(cap * r.uniform(0.03, 0.1))));
  const cv::Scalar c(colour[0], colour[1], colour[2]);
  // Clear of the text: a rule touching the capitals hides their tops, a bar beside the last character
  // reads as a '1'.
  const int gap = 2 + thick + int(cap * 0.12), side_gap = 2 + thick + int(cap * 0.4);
  auto span = [&](int length) {  // a partial extent along the side
    int a = r.integer(0, length / 3), b = length - r.integer(0, length / 3);
    return std::make_pair(a, b);
  };
  if (r.chance(0.5) && text.y - gap > 0) {  // above
    int y = r.integer(0, text.y - gap);
    auto [a, b] = span(img.cols);
    cv::line(img, {a, y}, {b, y}, c, thick);
  }
  if (r.chance(0.5) && text.br().y + gap < img.rows) {  // below
    int y = r.integer(text.br().y + gap, img.rows - 1);
    auto [a, b] = span(img.cols);
    cv::line(img, {a, y}, {b, y}, c, thick);
  }
  if (r.chance(0.4) && text.x - side_gap > 0) {  // left
    int x = r.integer(0, text.x - side_gap);
    auto [a, b] = span(img.rows);
    cv::line(img, {x, a}, {x, b}, c, thick);
  }
  if (r.chance(0.4) && text.br().x + side_gap < img.cols) {  // right
    int x = r.integer(text.br().x + side_gap, img.cols - 1);
    auto [a, b] = span(img.rows);
    cv::line(img, {x, a}, {x, b}, c, thick);
  }
}

// Part of a neighbouring text line, above or below the VIN, cut by the crop and clear of the VIN's box.
void draw_fragment(cv::Mat& img, const cv::Rect& text, bool above, const FontAtlas& atlas, double cap,
                   const cv::Vec3b& colour, Random& r) {
  static const std::string kChars = "ABCDEFGHJKLMNPRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.:-/  ";
  std::string line;
  const int n = int(img.cols / (0.5 * cap)) + 4;
  for (int i = 0; i < n; ++i) {
    const char c = kChars[r.integer(0, int(kChars.size()) - 1)];
    if (c == ' ' || atlas.glyph(c)) line += c;  // fonts without lower case just skip those characters
  }
  TextLayout plain;
  cv::Mat m = layout_text(line, atlas, cap * r.uniform(0.7, 1.05), plain, r);
  if (m.empty()) return;
  // Line spacing: closer than ~0.3 capital heights, descender tips above read as accents.
  const int clearance = std::max(2, int(cap * 0.3));
  const int x = -r.integer(0, int(cap));
  int y;
  if (above) {
    const int room = text.y - clearance;  // the fragment's bottom may reach this row
    if (room < 2) return;
    y = room - r.integer(0, room / 2) - m.rows;
  } else {
    const int start = text.br().y + clearance;
    if (img.rows - start < 2) return;
    y = start + r.integer(0, (img.rows - start) / 2);
  }
  blend(img, m, {x, y}, colour, r.uniform(0.7, 1.0));
}

Surface pick_surface(Random& r) {
  const double u = r.uniform();
  if (u < 0.22) return Surface::Label;
  if (u < 0.36) return Surface::Plate;
  if (u < 0.56) return Surface::Metal;
  if (u < 0.76) return Surface::Paper;
  if (u < 0.88) return Surface::DotMatrix;
  return Surface::Plain;
}

TextLayout pick_layout(Surface surface, Random& r) {
  TextLayout L;
  L.x_scale = r.chance(0.6) ? r.uniform(0.9, 1.1) : r.uniform(0.75, 1.3);
  L.gap = r.chance(0.7) ? r.uniform(0.06, 0.25) : r.uniform(0.25, 0.6);
  L.gap_jitter = r.uniform(0, 0.04);
  L.monospace = surface == Surface::Metal || surface == Surface::DotMatrix ? r.chance(0.7) : r.chance(0.25);
  if (surface == Surface::Metal && r.chance(0.6)) {  // struck one punch at a time
    L.size_jitter = r.uniform(0, 0.05);
    L.baseline_jitter = r.uniform(0, 0.06);
    L.rotate_jitter = r.uniform(0, 4);
  }
  if (r.chance(0.1)) {  // some prints group the VIN (e.g. WMI | VDS | VIS)
    L.group_after = r.chance(0.5) ? 2 : 8;
    L.group_gap = r.uniform(0.2, 0.6);
  }
  return L;
}

// Fonts grouped by family folder, so a family with many files (URW) is not drawn more often than a
// single-file one (OpenDIN).
const std::string& pick_font(const std::vector<std::string>& fonts, Random& r) {
  std::vector<std::pair<size_t, size_t>> families;  // [begin, end) runs of the same folder
  for (size_t i = 0; i < fonts.size(); ++i) {
    std::string dir = fs::path(fonts[i]).parent_path().string();
    if (families.empty() || fs::path(fonts[families.back().first]).parent_path().string() != dir)
      families.emplace_back(i, i + 1);
    else
      families.back().second = i + 1;
  }
  auto [begin, end] = families[r.integer(0, int(families.size()) - 1)];
  return fonts[r.integer(int(begin), int(end) - 1)];
}

}  // namespace

cv::Mat render_vin(const std::string& text, uint64_t seed, const SynthVinOptions& options) {
  if (options.min_height < 12 || options.max_height < options.min_height)
    throw std::invalid_argument("render_vin: need 12 <= min_height <= max_height");
  const std::vector<std::string>& fonts = options.fonts.empty() ? default_fonts() : options.fonts;
  if (fonts.empty()) throw std::runtime_error("render_vin: no fonts");
  std::mt19937 engine = engine_for(seed);
  Random r(engine);

  auto atlas = get_atlas(pick_font(fonts, r));
  if (!atlas->why_unusable.empty())
    throw std::runtime_error("font '" + atlas->path + "' is unusable: " + atlas->why_unusable);
  const Surface surface = pick_surface(r);
  const Look look = pick_look(surface, r);
  const TextLayout layout = pick_layout(surface, r);

  // Crop height first, then the capital height that leaves the chosen margins. Dot-matrix crops start
  // at 40 px (capitals of ~25 px, 8 dots of ~3 px): smaller ones lose their dots to the resolution and
  // noise degradations and no one can read them.
  const int min_height = surface == Surface::DotMatrix ? std::min(options.max_height, std::max(options.min_height, 40)) : options.min_height;
  const int height = r.integer(min_height, options.max_height);
  const double top_share = r.uniform(0.12, 0.5), bottom_share = r.uniform(0.12, 0.5);
  const double cap = height / (1 + top_share + bottom_share);
  std::vector<cv::Rect> boxes;
  cv::Mat mask = layout_text(text, *atlas, cap, layout, r, &boxes);
  if (mask.empty()) throw std::runtime_error("render_vin: empty text");
  if (surface == Surface::DotMatrix) {
    double width = 0;
    for (const auto& b : boxes) width += b.width / double(boxes.size());
    mask = dot_matrix(mask, cap, std::max(width, 2.0), r);
  }
  else if (cap >= 18 && r.chance(0.15)) degrade::ink(mask, 2, true);  // faux bold

  const int left = int(std::lround(cap * r.uniform(0.15, 0.9))), right = int(std::lround(cap * r.uniform(0.15, 0.9)));
  const int top = std::max(2, int(std::lround(cap * top_share))), bottom = std::max(2, int(std::lround(cap * bottom_share)));
  const cv::Rect text_box(left, top, mask.cols, mask.rows);
  cv::Mat img = make_surface(look, cv::Size(left + mask.cols + right, top + mask.rows + bottom), r);

  if (look.fragments) {
    if (r.chance(0.6)) draw_fragment(img, text_box, true, *atlas, cap, look.fg, r);
    if (r.chance(0.6)) draw_fragment(img, text_box, false, *atlas, cap, look.fg, r);
  }
  if (surface != Surface::Metal && r.chance(0.35))
    draw_frame_lines(img, text_box, r.chance(0.5) ? look.fg : mix(look.fg, look.bg, 0.5), cap, r);

  if (look.emboss != 0) {
    // Raised: lit from the top left, so a light rim above-left and a shadow below-right; stamped in:
    // the other way round.
    const int d = std::max(1, int(std::lround(cap * r.uniform(0.03, 0.07))));
    const cv::Point up_left = text_box.tl() - cv::Point(d, d), down_right = text_box.tl() + cv::Point(d, d);
    blend(img, mask, look.emboss > 0 ? down_right : up_left, look.dark, 0.8);
    blend(img, mask, look.emboss > 0 ? up_left : down_right, look.light, 0.8);
  }
  blend(img, mask, text_box.tl(), look.fg, r.uniform(0.85, 1.0));
  return augment(img, options.degrade, engine);
}

uint64_t sample_seed(uint64_t seed, uint64_t index) { return splitmix64(splitmix64(seed) ^ index); }

SynthSample synth_vin_sample(uint64_t seed, uint64_t index, const SynthVinOptions& options) {
  std::mt19937 engine = engine_for(sample_seed(seed, index));
  Random r(engine);
  SynthSample s;
  s.vin = random_vin(engine, !r.chance(options.invalid_share));
  s.image = render_vin(s.vin, r.bits64(), options);
  return s;
}

SynthVinReport write_synth_vin(const std::string& out_dir, int count, uint64_t seed, const SynthVinOptions& options,
                               int jobs, const std::function<void(int)>& progress) {
  if (count < 0) throw std::invalid_argument("synth-vin: count must be >= 0");
  if (options.invalid_share < 0 || options.invalid_share > 1)
    throw std::invalid_argument("synth-vin: invalid share must be in [0, 1]");
  const auto start = std::chrono::steady_clock::now();
  SynthVinOptions opts = options;
  if (opts.fonts.empty()) opts.fonts = default_fonts();  // validated once, before the workers start

  const fs::path out(out_dir), img_dir = out / "img";
  std::error_code ec;
  fs::create_directories(img_dir, ec);
  if (ec) throw std::runtime_error("cannot create '" + img_dir.string() + "': " + ec.message());

  auto name = [&](int i) { return sample_image_name(i, count); };

  std::vector<std::string> vins(size_t(std::max(count, 0)));
  parallel_for(count, jobs, [&](int i) {
    SynthSample s = synth_vin_sample(seed, uint64_t(i), opts);
    const std::string path = (out / name(i)).string();
    if (!cv::imwrite(path, s.image)) throw std::runtime_error("cannot write '" + path + "'");
    vins[size_t(i)] = std::move(s.vin);
  }, progress);

  write_sample_labels(out_dir, vins);

  SynthVinReport report;
  report.count = count;
  for (const auto& v : vins) report.invalid += !vin_check_valid(v);
  report.fonts = int(opts.fonts.size());
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (progress) progress(count);
  return report;
}

}  // namespace ocrkit
