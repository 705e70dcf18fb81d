#include "datasets/harvest.h"

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "core/charset.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/text.h"
#include "infer/layout.h"
#include "infer/page_source.h"

namespace ocrkit {
namespace fs = std::filesystem;
using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------------
// Text-layer lines

namespace {

double y_overlap(const cv::Rect2d& a, const cv::Rect2d& b) {
  return std::max(0.0, std::min(a.y + a.height, b.y + b.height) - std::max(a.y, b.y));
}
double x_overlap(const cv::Rect2d& a, const cv::Rect2d& b) {
  return std::max(0.0, std::min(a.x + a.width, b.x + b.width) - std::max(a.x, b.x));
}
// Horizontal gap between a and b (negative when they overlap horizontally).
double x_gap(const cv::Rect2d& a, const cv::Rect2d& b) {
  return std::max(a.x, b.x) - std::min(a.x + a.width, b.x + b.width);
}

bool same_line(const cv::Rect2d& line, const cv::Rect2d& w, const GroupOptions& o) {
  double hmin = std::min(line.height, w.height), hmax = std::max(line.height, w.height);
  if (hmin <= 0 || y_overlap(line, w) < o.min_v_overlap * hmin) return false;
  double cy_l = line.y + line.height / 2, cy_w = w.y + w.height / 2;
  if (std::abs(cy_l - cy_w) > 0.4 * hmax) return false;
  return x_gap(line, w) <= o.max_gap * hmax;
}

size_t utf8_chars_or_empty(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool blank_text(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

}  // namespace

// TeX math fonts whose glyphs the text layer maps to wrong characters (cmex: the sum sign as "P").
static bool math_symbol_font(std::string f) {
  std::transform(f.begin(), f.end(), f.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* k : {"cmex", "msam", "msbm", "esint", "stmary", "wasy", "rsfs", "eufm", "lasy"})
    if (f.find(k) != std::string::npos) return true;
  return false;
}

// Whether most words of a line (those of 3+ glyphs) are set in a monospaced font.
static bool monospace_line(const std::vector<TextWord>& words, const std::vector<int>& ids) {
  int mono = 0, prop = 0;
  for (int id : ids)
    if (utf8_chars_or_empty(words[size_t(id)].text) >= 3) (words[size_t(id)].monospace ? mono : prop)++;
  return mono > prop;
}

// Whether one of two overlapping words is a single letter set smaller and raised to the other's top,
// kerned into it: the A of the LaTeX logo ("L" "A" "TEX" read "LATEX"). Accents placed over a letter
// come in the letter's own size (text boxes span the font's height, not the glyph's ink) and do not
// match, so lines with those stay rejected as overlapping.
static bool raised_small_letter(const TextWord& p, const TextWord& w) {
  auto small_on_top = [](const TextWord& small, const TextWord& big) {
    return utf8_chars_or_empty(small.text) == 1 && small.box.height <= 0.8 * big.box.height &&
           std::abs(small.box.y - big.box.y) <= 0.15 * big.box.height;
  };
  return small_on_top(p, w) || small_on_top(w, p);
}

// Whether a space separates word p from the next word w on a line.
static bool space_between(const TextWord& p, const TextWord& w, bool monospace, const GroupOptions& o) {
  double gap = w.box.x - (p.box.x + p.box.width);
  double h = std::min(p.box.height, w.box.height);
  if (gap > o.space_gap * h) return true;
  return p.space_after && !monospace && gap > o.flagged_space_gap * h;
}

std::vector<TextLine> group_text_lines(const std::vector<TextWord>& words, const GroupOptions& o) {
  struct Work {
    cv::Rect2d box;
    std::vector<int> words;
    bool alive = true;
  };
  std::vector<Work> lines;
  for (int i = 0; i < int(words.size()); ++i) {
    const TextWord& w = words[size_t(i)];
    if (w.rotation != 0 || w.vertical || w.box.width <= 0 || w.box.height <= 0 || blank_text(w.text)) continue;
    int best = -1;
    // Poppler lists words in reading order: look at the most recent lines first.
    for (int j = int(lines.size()) - 1; j >= 0 && j >= int(lines.size()) - 40; --j)
      if (same_line(lines[size_t(j)].box, w.box, o)) {
        best = j;
        break;
      }
    if (best < 0) {
      lines.push_back({w.box, {i}});
    } else {
      lines[size_t(best)].box |= w.box;
      lines[size_t(best)].words.push_back(i);
    }
  }
  // Poppler sometimes splits one visual line into blocks: merge lines on one baseline that touch.
  for (bool merged = true; merged;) {
    merged = false;
    for (size_t a = 0; a < lines.size(); ++a) {
      if (!lines[a].alive) continue;
      for (size_t b = a + 1; b < lines.size(); ++b) {
        if (!lines[b].alive || !same_line(lines[a].box, lines[b].box, o)) continue;
        lines[a].box |= lines[b].box;
        lines[a].words.insert(lines[a].words.end(), lines[b].words.begin(), lines[b].words.end());
        lines[b].alive = false;
        merged = true;
      }
    }
  }
  std::vector<TextLine> out;
  for (auto& l : lines) {
    if (!l.alive) continue;
    std::stable_sort(l.words.begin(), l.words.end(),
                     [&](int a, int b) { return words[size_t(a)].box.x < words[size_t(b)].box.x; });
    TextLine t;
    t.box = l.box;
    for (int id : l.words) t.math_symbols = t.math_symbols || math_symbol_font(words[size_t(id)].font);
    std::string raw;
    const bool mono = monospace_line(words, l.words);
    for (int id : l.words) {
      const TextWord& w = words[size_t(id)];
      if (!t.words.empty()) {
        const TextWord& p = words[size_t(t.words.back())];
        double ov = x_overlap(p.box, w.box);
        if (ov > 0.5 * std::min(p.box.width, w.box.width)) {
          // The same word printed twice on itself (poor man's bold, shadows): keep one.
          bool duplicate = p.text == w.text && std::abs(p.box.x - w.box.x) < 0.2 * w.box.height &&
                           std::abs(p.box.y - w.box.y) < 0.2 * w.box.height;
          if (duplicate) continue;
          if (!raised_small_letter(p, w)) t.overlapping = true;
        }
        if (space_between(p, w, mono, o)) raw += ' ';
      }
      raw += w.text;
      t.words.push_back(id);
    }
    t.text = raw;  // normalised by the caller (may throw on invalid UTF-8)
    out.push_back(std::move(t));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// PDFs

namespace {

void ignore_poppler_messages(const std::string&, void*) {}

bool ends_with_ci(std::string s, const std::string& suffix) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_pdf_name(const std::string& p) { return ends_with_ci(p, ".pdf") || ends_with_ci(p, ".pdf.gz"); }

// An opened PDF: the bytes stay alive as long as poppler's document (text) and the rasterizer (pixels,
// the same renderer as infer's) read from them.
struct OpenPdf {
  std::vector<uint8_t> data;
  std::unique_ptr<poppler::document> doc;
  std::unique_ptr<infer::PdfRasterizer> pixels;  // created on first use (counting pages needs no pixels)
  infer::PdfRasterizer& rasterizer(const std::string& path) {
    if (!pixels) pixels = std::make_unique<infer::PdfRasterizer>(path, data.data(), data.size());
    return *pixels;
  }
};

std::unique_ptr<OpenPdf> open_pdf(const std::string& path) {
  static std::once_flag quiet;
  std::call_once(quiet, [] { poppler::set_debug_error_function(ignore_poppler_messages, nullptr); });
  const int64_t max_bytes = int64_t(1) << 30;
  auto pdf = std::make_unique<OpenPdf>();
  try {
    pdf->data =
        ends_with_ci(path, ".gz") ? infer::gunzip_file(path, max_bytes) : infer::read_file_bytes(path, max_bytes);
  } catch (const infer::InputError& e) {
    throw std::runtime_error(e.what());
  }
  if (pdf->data.size() > size_t(INT_MAX)) throw std::runtime_error(path + ": PDF too large");
  pdf->doc.reset(
      poppler::document::load_from_raw_data(reinterpret_cast<const char*>(pdf->data.data()), int(pdf->data.size())));
  if (!pdf->doc) throw std::runtime_error(path + ": cannot open PDF (corrupt, truncated or not a PDF)");
  if (pdf->doc->is_locked()) throw std::runtime_error(path + ": encrypted PDF (a password is required)");
  if (pdf->doc->pages() <= 0) throw std::runtime_error(path + ": PDF has no pages");
  return pdf;
}

std::vector<TextWord> page_words(const poppler::page& p) {
  std::vector<TextWord> words;
  for (auto& tb : p.text_list(poppler::page::text_list_include_font)) {
    TextWord w;
    poppler::byte_array u = tb.text().to_utf8();
    w.text.assign(u.begin(), u.end());
    while (!w.text.empty() && w.text.back() == '\0') w.text.pop_back();
    poppler::rectf r = tb.bbox();
    w.box = cv::Rect2d(r.x(), r.y(), r.width(), r.height());
    w.space_after = tb.has_space_after();
    w.rotation = tb.rotation();
    w.vertical = tb.get_wmode(0) == poppler::text_box::vertical_wmode;
    w.font = tb.get_font_name(0);
    size_t n = utf8_chars_or_empty(w.text);
    if (n >= 3) {
      double lo = 1e18, hi = 0;
      for (size_t i = 0; i < n; ++i) {
        double cw = tb.char_bbox(i).width();
        lo = std::min(lo, cw), hi = std::max(hi, cw);
      }
      w.monospace = lo > 0 && hi - lo <= 0.02 * hi;
    }
    words.push_back(std::move(w));
  }
  return words;
}

uint64_t splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
uint64_t mix(uint64_t a, uint64_t b, uint64_t c = 0, uint64_t d = 0) {
  return splitmix(splitmix(splitmix(splitmix(a) ^ b) ^ c) ^ d);
}
uint64_t hex_key(const std::string& sha) { return sha.size() >= 16 ? std::stoull(sha.substr(0, 16), nullptr, 16) : 0; }

}  // namespace

std::vector<TextWord> pdf_text_words(const std::string& path, int page) {
  auto pdf = open_pdf(path);
  if (page < 1 || page > pdf->doc->pages()) throw std::runtime_error(path + ": no page " + std::to_string(page));
  std::unique_ptr<poppler::page> p(pdf->doc->create_page(page - 1));
  if (!p) throw std::runtime_error(path + " page " + std::to_string(page) + ": cannot read the page");
  return page_words(*p);
}

std::vector<std::string> collect_pdfs(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec) && is_pdf_name(it->path().string())) found.push_back(it->path().string());
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::exists(p, ec)) {
      out.push_back(p);
    } else {
      throw std::invalid_argument("no such file or folder: " + p);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// One page

namespace {

struct Example {
  std::string reason, text;
  int page = 0;
  cv::Rect box;
};

struct Accepted {
  std::string label;
  std::vector<uchar> png;
  cv::Rect box;  // page pixels at `dpi`
  bool is_short = false;
};

struct PageResult {
  int dpi = 0;
  std::string error;
  int64_t text_lines = 0;
  std::vector<Accepted> lines;
  std::map<std::string, int64_t> rejects;
  std::map<std::string, int64_t> missing_chars;
  std::vector<Example> examples;
  int64_t unlabelled_layout_lines = 0;
  int64_t rows_resplit = 0;  // rows whose words were redistributed over the layout's cuts
};

struct PdfPlan {
  std::string path, sha256, error, duplicate_of;
  int pages = 0;
  std::vector<int> selected;
};

cv::Rect2d to_straight(const cv::Rect2d& r, const infer::PageLayout& layout) {
  if (layout.angle == 0) return r;
  cv::Matx23d inv;
  cv::invertAffineTransform(layout.to_source, inv);
  double x0 = 1e18, y0 = 1e18, x1 = -1e18, y1 = -1e18;
  for (double x : {r.x, r.x + r.width})
    for (double y : {r.y, r.y + r.height}) {
      double sx = inv(0, 0) * x + inv(0, 1) * y + inv(0, 2), sy = inv(1, 0) * x + inv(1, 1) * y + inv(1, 2);
      x0 = std::min(x0, sx), x1 = std::max(x1, sx), y0 = std::min(y0, sy), y1 = std::max(y1, sy);
    }
  return {x0, y0, x1 - x0, y1 - y0};
}

class PageHarvester {
 public:
  PageHarvester(const HarvestOptions& o, const Charset& charset) : opt_(o), charset_(charset) {}

  PageResult run(OpenPdf& pdf, const PdfPlan& plan, int page_no) {
    const poppler::document& doc = *pdf.doc;
    PageResult res;
    uint64_t key = hex_key(plan.sha256);
    res.dpi = opt_.dpi_min + int(mix(opt_.seed, key, uint64_t(page_no), 1) % uint64_t(opt_.dpi_max - opt_.dpi_min + 1));
    std::unique_ptr<poppler::page> p(doc.create_page(page_no - 1));
    if (!p) {
      res.error = "cannot read the page";
      return res;
    }
    std::vector<TextWord> words = page_words(*p);
    const double s = res.dpi / 72.0;

    // Text lines in page pixels.
    int rotated = 0;
    for (auto& w : words)
      if (!blank_text(w.text) && (w.rotation != 0 || w.vertical)) ++rotated;
    if (rotated) res.rejects["rotated_or_vertical_word"] += rotated;
    std::vector<TextLine> lines = group_text_lines(words, opt_.group);
    res.text_lines = int64_t(lines.size());
    if (lines.empty()) return res;

    poppler::rectf pr = p->page_rect(poppler::crop_box);
    if (double(pr.width()) * pr.height() * s * s > 80e6) {
      res.rejects["page_too_large"] += int64_t(lines.size());
      return res;
    }
    cv::Mat gray;
    try {
      gray = pdf.rasterizer(plan.path).render(page_no, res.dpi);
    } catch (const infer::InputError& e) {
      res.error = e.what();
      return res;
    }

    infer::PageLayout layout = infer::analyze_page(gray);
    // Blank render: a text layer but (almost) no ink, typically non-embedded fonts without substitutes.
    int dark = cv::countNonZero(gray < 128);
    if (layout.lines.empty() || dark < 20) {
      reject_all(res, lines, page_no, s, "blank_render");
      return res;
    }

    // Text lines in straight-frame pixels, with their text-only rejects.
    struct TL {
      cv::Rect2d px;          // straight frame pixels
      cv::Rect page_box;      // page pixels (report, meta.tsv)
      std::string reason;     // text-only reject reason ("" = fine so far)
      std::vector<int> hits;  // layout lines it overlaps
    };
    auto to_px = [&](const cv::Rect2d& pt) { return cv::Rect2d(pt.x * s, pt.y * s, pt.width * s, pt.height * s); };
    auto page_box = [&](const cv::Rect2d& pt) {
      return cv::Rect(cv::Point(int(std::floor(pt.x * s)), int(std::floor(pt.y * s))),
                      cv::Point(int(std::ceil((pt.x + pt.width) * s)), int(std::ceil((pt.y + pt.height) * s))));
    };
    std::vector<TL> tls(lines.size());
    for (size_t i = 0; i < lines.size(); ++i) {
      const TextLine& t = lines[i];
      TL& x = tls[i];
      cv::Rect2d px = to_px(t.box);
      x.px = to_straight(px, layout);
      x.page_box = page_box(t.box);
      if (px.height < opt_.min_height_px || px.height > opt_.max_height_frac * gray.rows)
        x.reason = "implausible_box";
      else if (t.math_symbols)
        x.reason = "math_symbol_font";
      else if (t.overlapping)
        x.reason = "overlapping_words";
    }

    // Significant overlaps between layout lines (ink boxes) and text lines (font boxes).
    std::vector<std::vector<int>> lhits(layout.lines.size());
    for (size_t i = 0; i < tls.size(); ++i)
      for (size_t j = 0; j < layout.lines.size(); ++j) {
        cv::Rect2d L(layout.lines[j].box);
        const cv::Rect2d& T = tls[i].px;
        double yo = y_overlap(L, T), xo = x_overlap(L, T);
        bool vert = yo >= 0.5 * L.height || yo >= 0.5 * T.height;
        // Specks (a comma's tail or a rule remnant the layout left on its own) do not compete for a line.
        bool speck = L.height < 0.35 * T.height && L.width < 0.5 * T.height;
        if (vert && !speck && xo >= 0.3 * std::min(L.width, T.width) && xo > 0) {
          tls[i].hits.push_back(int(j));
          lhits[j].push_back(int(i));
        }
      }
    for (auto& h : lhits)
      if (h.empty()) res.unlabelled_layout_lines++;

    // Connected groups of text lines and layout lines.
    std::vector<int> tcomp(tls.size(), -1), lcomp(layout.lines.size(), -1);
    int ncomp = 0;
    for (size_t i = 0; i < tls.size(); ++i) {
      if (tls[i].hits.empty()) {
        reject(res, tls[i].reason.empty() ? "no_layout_line" : tls[i].reason, lines[i].text, page_no, tls[i].page_box);
        continue;
      }
      if (tcomp[i] >= 0) continue;
      std::vector<std::pair<bool, int>> stack{{true, int(i)}};
      tcomp[i] = ncomp;
      while (!stack.empty()) {
        auto [is_text, k] = stack.back();
        stack.pop_back();
        if (is_text) {
          for (int j : tls[size_t(k)].hits)
            if (lcomp[size_t(j)] < 0) lcomp[size_t(j)] = ncomp, stack.push_back({false, j});
        } else {
          for (int j : lhits[size_t(k)])
            if (tcomp[size_t(j)] < 0) tcomp[size_t(j)] = ncomp, stack.push_back({true, j});
        }
      }
      ++ncomp;
    }

    for (int c = 0; c < ncomp; ++c) {
      std::vector<int> ts, ls;
      for (size_t i = 0; i < tls.size(); ++i)
        if (tcomp[i] == c) ts.push_back(int(i));
      for (size_t j = 0; j < layout.lines.size(); ++j)
        if (lcomp[j] == c) ls.push_back(int(j));
      auto reject_group = [&](const std::string& reason) {
        for (int i : ts) {
          const std::string& own = tls[size_t(i)].reason;
          reject(res, own.empty() ? reason : own, lines[size_t(i)].text, page_no, tls[size_t(i)].page_box);
        }
      };
      bool bad_text = std::any_of(ts.begin(), ts.end(), [&](int i) { return !tls[size_t(i)].reason.empty(); });
      if (bad_text) {
        reject_group("next_to_rejected_line");
        continue;
      }
      if (ts.size() == 1 && ls.size() == 1) {
        const TL& x = tls[size_t(ts[0])];
        emit(res, layout.lines[size_t(ls[0])], x.px, lines[size_t(ts[0])].text, x.page_box, page_no,
             mix(key, uint64_t(page_no), uint64_t(ts[0])));
        continue;
      }
      // Several lines on one row (the layout and the text layer cut a line at different gaps): give each
      // layout line the words whose centres it covers. Anything else is ambiguous.
      bool row = true;
      double h = 0;
      for (int a : ts) h = std::max(h, tls[size_t(a)].px.height);
      for (size_t a = 0; a < ts.size() && row; ++a)
        for (size_t b = a + 1; b < ts.size() && row; ++b) {
          const cv::Rect2d &A = tls[size_t(ts[a])].px, &B = tls[size_t(ts[b])].px;
          row = y_overlap(A, B) >= 0.6 * std::min(A.height, B.height);
        }
      for (size_t a = 0; a < ls.size() && row; ++a)
        for (size_t b = a + 1; b < ls.size() && row; ++b) {
          cv::Rect2d A(layout.lines[size_t(ls[a])].box), B(layout.lines[size_t(ls[b])].box);
          row = y_overlap(A, B) >= 0.5 * std::min(A.height, B.height);
        }
      if (!row) {
        bool merges = std::any_of(ls.begin(), ls.end(), [&](int j) { return lhits[size_t(j)].size() > 1; });
        reject_group(merges ? "layout_merges_lines" : "layout_splits_line");
        continue;
      }
      std::vector<std::vector<int>> per_line(ls.size());
      bool ok = true;
      for (int i : ts)
        for (int w : lines[size_t(i)].words) {
          cv::Rect2d wb = to_straight(to_px(words[size_t(w)].box), layout);
          double cx = wb.x + wb.width / 2;
          int found = -1, count = 0;
          for (size_t k = 0; k < ls.size(); ++k) {
            const cv::Rect& L = layout.lines[size_t(ls[k])].box;
            if (cx >= L.x - 0.25 * h && cx <= L.x + L.width + 0.25 * h) found = int(k), ++count;
          }
          if (count == 1)
            per_line[size_t(found)].push_back(w);
          else
            ok = false;
        }
      for (auto& p : per_line) ok = ok && !p.empty();
      if (!ok) {
        reject_group("ambiguous_row");
        continue;
      }
      res.rows_resplit++;
      std::vector<int> all_words;
      for (int i : ts) all_words.insert(all_words.end(), lines[size_t(i)].words.begin(), lines[size_t(i)].words.end());
      const bool mono = monospace_line(words, all_words);
      for (size_t k = 0; k < ls.size(); ++k) {
        auto& ids = per_line[k];
        std::sort(ids.begin(), ids.end(),
                  [&](int a, int b) { return words[size_t(a)].box.x < words[size_t(b)].box.x; });
        std::string raw;
        cv::Rect2d box_pt = words[size_t(ids[0])].box;
        for (size_t n = 0; n < ids.size(); ++n) {
          const TextWord& w = words[size_t(ids[n])];
          if (n > 0) {
            const TextWord& p = words[size_t(ids[n - 1])];
            if (space_between(p, w, mono, opt_.group)) raw += ' ';
          }
          raw += w.text;
          box_pt |= w.box;
        }
        emit(res, layout.lines[size_t(ls[k])], to_straight(to_px(box_pt), layout), raw, page_box(box_pt), page_no,
             mix(key, uint64_t(page_no), 1000000 + uint64_t(c) * 1000 + k));
      }
    }
    return res;
  }

 private:
  // Label checks, the layout line's agreement with the text, then the crop is kept.
  void emit(PageResult& res, const infer::LayoutLine& L, const cv::Rect2d& px, const std::string& raw,
            const cv::Rect& box, int page_no, uint64_t short_key) {
    std::string label;
    try {
      label = normalize_label(raw);
      (void)utf8_chars(label);
    } catch (const std::exception&) {
      reject(res, "invalid_utf8", "", page_no, box);
      return;
    }
    if (label.empty()) return reject(res, "empty_label", raw, page_no, box);
    std::string miss = charset_.missing(label);
    if (!miss.empty()) {
      for (const auto& c : utf8_chars(miss)) res.missing_chars[c]++;
      return reject(res, "outside_charset", label, page_no, box);
    }
    std::string reason = check_match(L, px, label);
    if (!reason.empty()) return reject(res, reason, label, page_no, box);
    Accepted a;
    a.label = label;
    a.box = box;
    a.is_short = int(utf8_chars(label).size()) < opt_.min_chars;
    if (a.is_short && double(mix(opt_.seed, short_key) % 1000000) >= opt_.keep_short * 1e6)
      return reject(res, "too_short", label, page_no, box);
    cv::imencode(".png", L.crop, a.png);
    res.lines.push_back(std::move(a));
  }

  // "" when the layout line L plausibly shows the text line T (straight-frame pixels), else a reason.
  std::string check_match(const infer::LayoutLine& L, const cv::Rect2d& T, const std::string& label) const {
    const cv::Rect& b = L.box;
    double h = T.height;
    if (b.y < T.y - 0.35 * h || b.y + b.height > T.y + T.height + 0.35 * h) return "extent_mismatch";
    double tol = 0.6 * h + 2;
    if (std::abs(b.x - T.x) > tol || std::abs(b.x + b.width - (T.x + T.width)) > tol) return "extent_mismatch";
    if (b.height < 0.25 * h || b.height > 1.4 * h) return "extent_mismatch";
    size_t n = utf8_chars(label).size();
    double ratio = b.width / (double(n) * h);
    if (ratio < 0.12 || ratio > 1.5) return "ink_text_ratio";
    // Enough ink and contrast in the crop itself.
    const cv::Mat& c = L.crop;
    double lo, hi;
    cv::minMaxLoc(c, &lo, &hi);
    if (hi - lo < 60 || cv::countNonZero(c < (lo + hi) / 2) < std::max(3.0, 0.003 * c.total())) return "faint_ink";
    return "";
  }

  void reject(PageResult& res, const std::string& reason, const std::string& text, int page, const cv::Rect& box) {
    res.rejects[reason]++;
    int have = 0;
    for (auto& e : res.examples) have += e.reason == reason;
    if (have < 2) res.examples.push_back({reason, text, page, box});
  }
  void reject_all(PageResult& res, const std::vector<TextLine>& lines, int page, double s, const std::string& reason) {
    for (auto& t : lines) {
      cv::Rect box(int(t.box.x * s), int(t.box.y * s), int(t.box.width * s), int(t.box.height * s));
      reject(res, reason, t.text, page, box);
    }
  }

  const HarvestOptions& opt_;
  const Charset& charset_;
};

json example_json(const Example& e, const std::string& pdf) {
  return {{"pdf", pdf},
          {"page", e.page},
          {"text", e.text},
          {"box", {e.box.x, e.box.y, e.box.x + e.box.width, e.box.y + e.box.height}}};
}

std::string tsv_field(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// The run

HarvestReport harvest_pdfs(const std::vector<std::string>& pdfs, const std::string& out_dir, const HarvestOptions& o) {
  if (o.dpi_min < 36 || o.dpi_max > 1200 || o.dpi_min > o.dpi_max)
    throw std::invalid_argument("harvest: need 36 <= dpi_min <= dpi_max <= 1200");
  auto t0 = std::chrono::steady_clock::now();
  const Charset charset = Charset::from_spec(o.charset);
  int jobs = o.jobs > 0 ? o.jobs : int(std::max(1u, std::thread::hardware_concurrency()));

  fs::path out(out_dir), img_dir = fs::path(out_dir) / "img";
  std::error_code ec;
  fs::create_directories(img_dir, ec);
  if (ec) throw std::runtime_error("harvest: cannot create " + img_dir.string() + ": " + ec.message());
  // Crops of an earlier run into the same folder would linger unlabelled: remove ours (7 digits + .png).
  for (auto& e : fs::directory_iterator(img_dir, ec)) {
    std::string n = e.path().filename().string();
    if (n.size() == 11 && n.compare(7, 4, ".png") == 0 && std::all_of(n.begin(), n.begin() + 7, ::isdigit))
      fs::remove(e.path(), ec);
  }

  // Plan: hash and open every PDF (in parallel), count pages, draw the pages to use.
  std::vector<PdfPlan> plans(pdfs.size());
  {
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; (i = next++) < pdfs.size();) {
        PdfPlan& pl = plans[i];
        pl.path = pdfs[i];
        try {
          pl.sha256 = sha256_file(pl.path);
          pl.pages = open_pdf(pl.path)->doc->pages();
        } catch (const std::exception& e) {
          pl.error = e.what();
          continue;
        }
        std::vector<int> pages(size_t(pl.pages));
        for (int p = 0; p < pl.pages; ++p) pages[size_t(p)] = p + 1;
        if (o.max_pages_per_pdf > 0 && pl.pages > o.max_pages_per_pdf) {
          std::mt19937_64 rng(mix(o.seed, hex_key(pl.sha256), 7));
          for (size_t k = 0; k < size_t(o.max_pages_per_pdf); ++k)
            std::swap(pages[k], pages[k + size_t(rng() % uint64_t(pages.size() - k))]);
          pages.resize(size_t(o.max_pages_per_pdf));
          std::sort(pages.begin(), pages.end());
        }
        pl.selected = pages;
      }
    };
    std::vector<std::thread> pool;
    for (int t = 0; t < std::min<int>(jobs, int(pdfs.size())); ++t) pool.emplace_back(work);
    for (auto& t : pool) t.join();
  }
  // The same file under two names (symlinks, copies) is harvested once.
  {
    std::map<std::string, size_t> first;
    for (size_t i = 0; i < plans.size(); ++i) {
      if (!plans[i].error.empty()) continue;
      auto [it, fresh] = first.emplace(plans[i].sha256, i);
      if (!fresh) {
        plans[i].duplicate_of = plans[it->second].path;
        plans[i].selected.clear();
      }
    }
  }
  struct Job {
    int pdf, page;
  };
  std::vector<Job> todo;
  for (size_t i = 0; i < plans.size(); ++i)
    for (int p : plans[i].selected) todo.push_back({int(i), p});

  // Pages in parallel (one poppler document per thread), consumed here in order.
  std::vector<std::optional<PageResult>> results(todo.size());
  std::mutex mu;
  std::condition_variable cv_done, cv_room;
  size_t consumed = 0;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  const size_t ahead = size_t(4 * jobs + 4);
  auto work = [&] {
    PageHarvester harvester(o, charset);
    int open_index = -1;
    std::unique_ptr<OpenPdf> open;
    for (size_t i; !stop && (i = next++) < todo.size();) {
      {
        std::unique_lock<std::mutex> lock(mu);
        cv_room.wait(lock, [&] { return stop || i < consumed + ahead; });
      }
      if (stop) break;
      const Job& job = todo[i];
      PageResult r;
      try {
        if (open_index != job.pdf) {
          open.reset();
          open_index = job.pdf;
          open = open_pdf(plans[size_t(job.pdf)].path);
        }
        r = harvester.run(*open, plans[size_t(job.pdf)], job.page);
      } catch (const std::exception& e) {
        r = PageResult();
        r.error = e.what();
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        results[i] = std::move(r);
      }
      cv_done.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < jobs; ++t) pool.emplace_back(work);

  HarvestReport report;
  report.pdfs.resize(plans.size());
  for (size_t i = 0; i < plans.size(); ++i) {
    auto& pr = report.pdfs[i];
    pr.path = plans[i].path, pr.sha256 = plans[i].sha256, pr.pages = plans[i].pages, pr.error = plans[i].error;
    pr.duplicate_of = plans[i].duplicate_of;
    if (!pr.error.empty()) report.pdfs_failed++;
  }
  std::map<std::string, std::vector<json>> examples;
  std::vector<std::unordered_map<std::string, int>> seen(plans.size());
  std::ostringstream labels, meta;
  meta << "image\tpdf\tpage\tdpi\tx0\ty0\tx1\ty1\n";
  int64_t unlabelled = 0, short_kept = 0, resplit = 0;
  std::vector<json> page_errors;
  auto stop_pool = [&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv_room.notify_all();
    for (auto& t : pool)
      if (t.joinable()) t.join();
  };
  try {
    for (size_t i = 0; i < todo.size(); ++i) {
      PageResult r;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv_done.wait(lock, [&] { return results[i].has_value(); });
        r = std::move(*results[i]);
        results[i].reset();
        consumed = i + 1;
      }
      cv_room.notify_all();
      const Job& job = todo[i];
      HarvestPdfReport& pr = report.pdfs[size_t(job.pdf)];
      pr.pages_used++;
      report.pages++;
      if (!r.error.empty()) {
        pr.rejects["page_error"]++;
        page_errors.push_back({{"pdf", pr.path}, {"page", job.page}, {"error", r.error}});
      }
      pr.text_lines += r.text_lines;
      report.text_lines += r.text_lines;
      unlabelled += r.unlabelled_layout_lines;
      pr.unlabelled_layout_lines += r.unlabelled_layout_lines;
      pr.rejects["(layout_lines_without_text)"] += r.unlabelled_layout_lines;
      resplit += r.rows_resplit;
      for (auto& [k, v] : r.missing_chars) report.missing_chars[k] += v;
      for (auto& a : r.lines) {
        if (++seen[size_t(job.pdf)][a.label] > o.max_repeats) {
          r.rejects["repeated_label"]++;
          continue;
        }
        if (o.max_lines > 0 && report.lines >= o.max_lines) {
          stop = true;
          break;
        }
        char name[32];
        std::snprintf(name, sizeof name, "img/%07lld.png", static_cast<long long>(report.lines));
        write_file_atomically((out / name).string(), std::string(a.png.begin(), a.png.end()));
        labels << name << '\t' << a.label << '\n';
        meta << name << '\t' << tsv_field(pr.path) << '\t' << job.page << '\t' << r.dpi << '\t' << a.box.x << '\t'
             << a.box.y << '\t' << a.box.x + a.box.width << '\t' << a.box.y + a.box.height << '\n';
        short_kept += a.is_short;
        report.lines++;
        pr.lines++;
      }
      for (auto& [k, v] : r.rejects) {
        pr.rejects[k] += v;
        report.rejects[k] += v;
      }
      for (auto& e : r.examples)
        if (examples[e.reason].size() < 8) examples[e.reason].push_back(example_json(e, pr.path));
      if (o.progress) o.progress(int64_t(i + 1), int64_t(todo.size()));
      if (stop) break;
    }
  } catch (...) {  // an unwritable output: stop the workers before the exception leaves
    stop_pool();
    throw;
  }
  stop_pool();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Outputs.
  write_file_atomically((out / "labels.tsv").string(), labels.str());
  write_file_atomically((out / "meta.tsv").string(), meta.str());
  std::ostringstream sources;
  for (auto& pr : report.pdfs)
    if (pr.error.empty() && pr.duplicate_of.empty()) sources << pr.sha256 << "  " << pr.path << "\n";
  write_file_atomically((out / "sources.txt").string(), sources.str());
  json j;
  j["lines"] = report.lines;
  j["short_lines_kept"] = short_kept;
  j["text_lines"] = report.text_lines;
  j["pages"] = report.pages;
  j["pdfs"] = int64_t(report.pdfs.size());
  j["pdfs_failed"] = report.pdfs_failed;
  j["seconds"] = report.seconds;
  j["lines_per_s"] = report.seconds > 0 ? report.lines / report.seconds : 0.0;
  j["rejects"] = report.rejects;
  j["unlabelled_layout_lines"] = unlabelled;
  j["rows_resplit"] = resplit;
  j["missing_chars"] = report.missing_chars;
  j["reject_examples"] = examples;
  j["page_errors"] = page_errors;
  j["options"] = {{"dpi", {o.dpi_min, o.dpi_max}},
                  {"max_lines", o.max_lines},
                  {"max_pages_per_pdf", o.max_pages_per_pdf},
                  {"seed", o.seed},
                  {"charset", o.charset},
                  {"min_chars", o.min_chars},
                  {"keep_short", o.keep_short},
                  {"max_repeats", o.max_repeats},
                  {"jobs", jobs}};
  json per_pdf = json::array();
  for (auto& pr : report.pdfs) {
    json p = {{"path", pr.path},
              {"sha256", pr.sha256},
              {"pages", pr.pages},
              {"pages_used", pr.pages_used},
              {"text_lines", pr.text_lines},
              {"lines", pr.lines},
              {"rejects", pr.rejects},
              {"unlabelled_layout_lines", pr.unlabelled_layout_lines}};
    if (!pr.error.empty()) p["error"] = pr.error;
    if (!pr.duplicate_of.empty()) p["duplicate_of"] = pr.duplicate_of;
    per_pdf.push_back(p);
  }
  j["per_pdf"] = per_pdf;
  write_file_atomically((out / "report.json").string(), j.dump(1, ' ', false, json::error_handler_t::replace) + "\n");
  return report;
}

}  // namespace ocrkit
