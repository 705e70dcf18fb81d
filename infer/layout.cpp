#include "infer/layout.h"

#include <algorithm>
#include <array>
#include <cfloat>
#include <climits>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "core/image.h"

namespace ocrkit::infer {

cv::Rect2d PageLayout::source_box(const cv::Rect2d& r) const {
  double xs[2] = {r.x, r.x + r.width}, ys[2] = {r.y, r.y + r.height};
  double x0 = 1e18, y0 = 1e18, x1 = -1e18, y1 = -1e18;
  for (double x : xs)
    for (double y : ys) {
      cv::Vec3d p(x, y, 1);
      double sx = to_source(0, 0) * p[0] + to_source(0, 1) * p[1] + to_source(0, 2);
      double sy = to_source(1, 0) * p[0] + to_source(1, 1) * p[1] + to_source(1, 2);
      x0 = std::min(x0, sx), x1 = std::max(x1, sx), y0 = std::min(y0, sy), y1 = std::max(y1, sy);
    }
  return {x0, y0, x1 - x0, y1 - y0};
}

namespace {

// Otsu's threshold of a histogram of n pixels: OpenCV's getThreshVal_Otsu_8u (thresh.cpp), the same
// double arithmetic in the same order, so the same value.
int otsu_threshold(const std::array<int, 256>& h, int n) {
  double mu = 0, scale = 1. / n;
  for (int i = 0; i < 256; ++i) mu += i * double(h[size_t(i)]);
  mu *= scale;
  double mu1 = 0, q1 = 0, max_sigma = 0;
  int max_val = 0;
  for (int i = 0; i < 256; ++i) {
    const double p_i = h[size_t(i)] * scale;
    mu1 *= q1;
    q1 += p_i;
    const double q2 = 1. - q1;
    if (std::min(q1, q2) < FLT_EPSILON || std::max(q1, q2) > 1. - FLT_EPSILON) continue;
    mu1 = (mu1 + i * p_i) / q1;
    const double mu2 = (mu - q1 * mu1) / q2, sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2);
    if (sigma > max_sigma) max_sigma = sigma, max_val = i;
  }
  return max_val;
}

// Faint strokes on a noisy page (a scan, a degraded copy): gray text and hyperlinks, blurred to 100-190 on
// paper near 250, straddle the global threshold t, which keeps only specks of them. A pixel is also ink
// where it is darker than halfway from the paper to the darkest pixel within 3 px (Bernsen's local
// midpoint, the paper level standing for the local maximum), if that darkest pixel stands clear of the
// paper's noise. Next to dark ink the midpoint lies below t, so dark text keeps its Otsu strokes.
// Clean renders are left alone: their paper is one gray level, where noise spreads it over several.
// Returns whether it looked for faint ink (whether ink may have changed).
bool add_faint_ink(const cv::Mat& gray, const std::array<int, 256>& h, int t, cv::Mat& ink) {
  int paper = t + 1;
  for (int v = t + 1; v < 256; ++v)
    if (h[size_t(v)] > h[size_t(paper)]) paper = v;
  // The noise's reach: 1 + the levels below the paper's peak holding 1/50 of it at least (1 on
  // born-digital renders, 6-18 on the degraded test pages).
  int spread = 1;
  while (paper - spread > t && int64_t(h[size_t(paper - spread)]) * 50 >= h[size_t(paper)]) ++spread;
  if (spread < 3) return false;
  thread_local cv::Mat darkest;
  cv::erode(gray, darkest, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(7, 7)));
  const int clear = paper - 3 * spread, cols = gray.cols;  // (cols: a local, or the loop won't vectorize)
  for (int y = 0; y < gray.rows; ++y) {
    const uint8_t *g = gray.ptr<uint8_t>(y), *d = darkest.ptr<uint8_t>(y);
    uint8_t* o = ink.ptr<uint8_t>(y);
    for (int x = 0; x < cols; ++x)  // d clear of the noise, g <= (paper + d) / 2
      o[x] |= uint8_t(-uint8_t((d[x] <= clear) & (2 * g[x] <= paper + d[x])));
  }
  return true;
}

// binarize() into ink (analyze_page keeps one buffer per thread). Returns the number of ink pixels where
// it comes for free (the skew estimate needs it: a pass over the page saved), else -1.
int binarize_to(const cv::Mat& gray, const std::string& method, cv::Mat& ink) {
  if (method == "sauvola" || (method == "auto" && uneven_background(gray))) {
    int w = std::max(15, std::min(gray.cols, gray.rows) / 40) | 1;
    cv::Mat g, mean, sq;
    gray.convertTo(g, CV_32F);
    cv::boxFilter(g, mean, CV_32F, cv::Size(w, w));
    cv::boxFilter(g.mul(g), sq, CV_32F, cv::Size(w, w));
    cv::Mat sd;
    cv::sqrt(cv::max(sq - mean.mul(mean), 0), sd);
    const double k = 0.3, range = 128;
    cv::Mat thr = mean.mul(1 + k * (sd / range - 1));
    ink = g < thr;
    // Flat white areas: Sauvola's threshold sits just below the background; keep only clear ink.
    ink &= g < (mean - 8);
    const int count = cv::countNonZero(ink);
    if (count <= int(ink.total() / 2)) return count;
    cv::bitwise_not(ink, ink);  // light text on dark
    return int(ink.total()) - count;
  }
  // Otsu: ink is gray <= t. One pass makes the histogram, which gives t (as cv::threshold's Otsu finds it)
  // and the ink count (no countNonZero), so the light-on-dark flip is thresholded directly.
  std::array<int, 256> h = gray_histogram(gray);
  const int t = otsu_threshold(h, int(gray.total()));
  int ink_count = 0;
  for (int v = 0; v <= t; ++v) ink_count += h[size_t(v)];
  const bool flip = ink_count > int(gray.total() / 2);  // light text on dark
  cv::threshold(gray, ink, t, 255, flip ? cv::THRESH_BINARY : cv::THRESH_BINARY_INV);
  if (method == "auto" && !flip && add_faint_ink(gray, h, t, ink)) return -1;
  return flip ? int(gray.total()) - ink_count : ink_count;
}

}  // namespace

bool uneven_background(const cv::Mat& gray) {
  // The page's lightness with the ink removed: a max filter over a small copy.
  cv::Mat small, background;
  double f = 64.0 / std::max(1, std::max(gray.cols, gray.rows));
  shrink_area(gray, std::min(1.0, f), small);
  cv::dilate(small, background, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(5, 5)));
  std::vector<uint8_t> v(background.begin<uint8_t>(), background.end<uint8_t>());
  std::sort(v.begin(), v.end());
  return v[v.size() * 95 / 100] - v[v.size() * 5 / 100] > 60;
}

cv::Rect line_crop_box(const cv::Rect& ink, const cv::Size& image, double pad) {
  int p = std::max(1, int(std::lround(pad * ink.height)));
  return cv::Rect(ink.x - p, ink.y - p, ink.width + 2 * p, ink.height + 2 * p) & cv::Rect(cv::Point(0, 0), image);
}

cv::Mat binarize(const cv::Mat& gray, const std::string& method) {
  cv::Mat ink;
  binarize_to(gray, method, ink);
  return ink;
}

double estimate_skew(const cv::Mat& ink, double max_deg, int ink_count) {
  const cv::Mat& mask = ink;
  const int n = ink_count >= 0 ? ink_count : cv::countNonZero(mask);
  if (n < 50) return 0;
  // Every stride-th ink pixel in raster order, kept as x per row (a quarter of the memory of (x, y) as
  // doubles: the points are read once per angle tried, ~50 times, and so stay in the core's cache).
  const size_t max_points = 80000, stride = size_t(n) / max_points + 1;
  struct Row {
    int y;
    size_t begin, end;  // its points in xs
  };
  thread_local std::vector<int> xs;
  thread_local std::vector<Row> rows;
  xs.clear(), rows.clear();
  int x_min = mask.cols, x_max = 0;  // the points' box (with y_min, y_max)
  size_t next = 0, i = 0;  // the index of the next point to take, of the run's first pixel
  for (int y = 0; y < mask.rows; ++y) {
    const size_t begin = xs.size();
    for_each_run(mask.ptr<uint8_t>(y), mask.cols, [&](int x0, int x1) {
      for (const size_t end = i + size_t(x1 - x0); next < end; next += stride) {
        xs.push_back(x0 + int(next - i));
        x_min = std::min(x_min, xs.back()), x_max = std::max(x_max, xs.back());
      }
      i += size_t(x1 - x0);
    });
    if (xs.size() > begin) rows.push_back({y, begin, xs.size()});
  }
  const double y_min = rows.front().y, y_max = rows.back().y;
  const int offset = mask.cols + 1, bins = mask.rows + 2 * mask.cols + 4;
  thread_local std::vector<int> bin, hist;
  bin.resize(size_t(mask.cols));  // one row's
  hist.assign(8 * size_t(bins), 0);
  // Sharpness of the projection of the ink onto the direction perpendicular to lines tilted by `deg`: the
  // sum of the squared bin counts. A row's bins are found first (that loop vectorizes), then counted: point
  // k in the (k % 8)-th of eight histograms, as neighbouring points share a bin and with one histogram
  // each count waits for the last (unrolled, so that no index is computed per point).
  auto score = [&](double deg) {
    double r = deg * CV_PI / 180, s = std::sin(r), c = std::cos(r);
    auto bin_of = [&](double x, double y) { return int(x * s + y * c) + offset; };
    int* h[8];
    for (int j = 0; j < 8; ++j) h[j] = &hist[size_t(j * bins)];
    for (const Row& row : rows) {
      const double yc = row.y * c;  // y * c as bin_of computes it, once per row
      const int* x = &xs[row.begin];
      const size_t m = row.end - row.begin;
      for (size_t k = 0; k < m; ++k) bin[k] = int(x[k] * s + yc) + offset;
      size_t k = 0;
      for (; k + 8 <= m; k += 8)
        for (int j = 0; j < 8; ++j) ++h[j][bin[k + size_t(j)]];
      for (; k < m; ++k) ++h[k & 7][bin[k]];
    }
    // Only the bins of the points' box are summed (and cleared): a bin is monotonic in x and in y, rounding
    // included, so those of the box's corners bound it; the others would add 0. The eight histograms are
    // added into the first (a loop over the bins that vectorizes); the sum is of integers, exact in int64
    // and in the double it returns (below 2^53), whatever the order.
    const int corner[4] = {bin_of(x_min, y_min), bin_of(x_max, y_min), bin_of(x_min, y_max), bin_of(x_max, y_max)};
    const int lo = *std::min_element(corner, corner + 4), hi = *std::max_element(corner, corner + 4) + 1;
    for (int j = 1; j < 8; ++j) {
      for (int b = lo; b < hi; ++b) h[0][b] += h[j][b];
      std::fill(h[j] + lo, h[j] + hi, 0);
    }
    int64_t sum = 0;
    for (int b = lo; b < hi; ++b) sum += int64_t(h[0][b]) * h[0][b];
    std::fill(h[0] + lo, h[0] + hi, 0);
    return double(sum);
  };
  // The searches below meet angles already scored (0 in the coarse one, at least): looked up, not redone.
  std::vector<std::pair<double, double>> scored;
  auto score_once = [&](double deg) {
    for (const auto& [d, sc] : scored)
      if (d == deg) return sc;
    scored.push_back({deg, score(deg)});
    return scored.back().second;
  };
  double best = 0, best_score = score_once(0);
  // Coarse to fine: 0.5 degree steps over the range, then 0.05 and 0.01 around the best.
  for (double step : {0.5, 0.05, 0.01}) {
    double lo = step == 0.5 ? -max_deg : best - 6 * step, hi = step == 0.5 ? max_deg : best + 6 * step;
    for (double a = lo; a <= hi + 1e-9; a += step) {
      double sc = score_once(a);
      if (sc > best_score) best_score = sc, best = a;
    }
  }
  return best;
}

namespace {

struct Comp {
  cv::Rect box;
  int table = -1;  // >= 0: a pseudo-component standing for a whole table
};

using Interval = std::pair<int, int>;

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

int overlap(int a0, int a1, int b0, int b1) { return std::max(0, std::min(a1, b1) - std::max(a0, b0)); }

// Whitespace gaps at least min_gap wide between the boxes of ids along one axis (margins excluded).
std::vector<Interval> find_gaps(const std::vector<Comp>& comps, const std::vector<int>& ids, bool x_axis, double min_gap) {
  std::vector<Interval> iv;
  for (int id : ids) {
    const cv::Rect& b = comps[id].box;
    iv.push_back(x_axis ? Interval{b.x, b.x + b.width} : Interval{b.y, b.y + b.height});
  }
  std::sort(iv.begin(), iv.end());
  std::vector<Interval> gaps;
  int end = iv.empty() ? 0 : iv[0].second;
  for (size_t i = 1; i < iv.size(); ++i) {
    if (iv[i].first - end >= min_gap) gaps.push_back({end, iv[i].first});
    end = std::max(end, iv[i].second);
  }
  return gaps;
}

// Splits ids at the gaps (each box lies wholly on one side of every gap).
std::vector<std::vector<int>> split_at(const std::vector<Comp>& comps, const std::vector<int>& ids,
                                       const std::vector<Interval>& gaps, bool x_axis) {
  std::vector<std::vector<int>> parts(gaps.size() + 1);
  for (int id : ids) {
    int start = x_axis ? comps[id].box.x : comps[id].box.y;
    size_t k = 0;
    while (k < gaps.size() && start >= gaps[k].second) ++k;
    parts[k].push_back(id);
  }
  return parts;
}

struct Line {
  cv::Rect box;
};

// Groups components (already known to form one block) into lines by vertical overlap; top to bottom.
// Tall components (glyphs touching across lines, brackets) join a line only after the lines are formed,
// so they cannot bridge two lines.
std::vector<Line> group_lines(const std::vector<Comp>& comps, std::vector<int> ids) {
  std::sort(ids.begin(), ids.end(), [&](int a, int b) { return comps[a].box.x < comps[b].box.x; });
  std::vector<double> hs;
  for (int id : ids) hs.push_back(comps[id].box.height);
  const double tall = 1.8 * median_of(hs);
  std::vector<Line> lines;
  // The line a component continues: it overlaps the line vertically by half, and among those the line
  // ending closest before it wins (then the larger overlap), so an i-dot near the line above stays home.
  auto best_line = [&](const cv::Rect& b) {
    int best = -1;
    double best_gap = 1e18, best_ov = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
      const cv::Rect& l = lines[i].box;
      double ov = overlap(b.y, b.br().y, l.y, l.br().y) / double(std::min(b.height, l.height));
      double gap = std::max(0, b.x - l.br().x);
      if (ov >= 0.5 && (gap < best_gap || (gap == best_gap && ov > best_ov))) best_gap = gap, best_ov = ov, best = int(i);
    }
    return best;
  };
  for (int id : ids) {
    const cv::Rect& b = comps[id].box;
    if (b.height > tall) continue;
    int best = best_line(b);
    if (best < 0) lines.push_back({b});
    else lines[size_t(best)].box |= b;
  }
  // Lines that overlap a lot vertically are one line (an accent or a dot that came first); in top order
  // such lines are neighbours, so a few recent ones are enough to look at.
  std::sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) { return a.box.y < b.box.y; });
  std::vector<Line> merged;
  for (auto& l : lines) {
    bool joined = false;
    for (size_t k = merged.size(); k-- > 0 && merged.size() - k <= 8 && !joined;) {
      cv::Rect& m = merged[k].box;
      if (overlap(m.y, m.br().y, l.box.y, l.box.br().y) >= 0.6 * std::min(m.height, l.box.height)) m |= l.box, joined = true;
    }
    if (!joined) merged.push_back(l);
  }
  lines = std::move(merged);
  // Thin lines that touch a line at least twice their height and lie within its width belong to it:
  // underscores and descenders met before any other descender of the line (they overlap the letters
  // by less than half), or accents split off above. Alone they read as garbage.
  for (size_t i = 0; i < lines.size(); ++i) {
    const cv::Rect l = lines[i].box;
    int best = -1;
    double best_gap = 1e18;
    for (size_t k = 0; k < lines.size(); ++k) {
      const cv::Rect& m = lines[k].box;
      if (k == i || m.area() == 0 || 2 * l.height > m.height) continue;
      double gap = std::max({0, l.y - m.br().y, m.y - l.br().y});
      if (gap <= 0.2 * m.height && overlap(l.x, l.br().x, m.x, m.br().x) >= 0.6 * l.width && gap < best_gap)
        best_gap = gap, best = int(k);
    }
    if (best >= 0) lines[size_t(best)].box |= l, lines[i].box = cv::Rect();
  }
  lines.erase(std::remove_if(lines.begin(), lines.end(), [](const Line& l) { return l.box.area() == 0; }), lines.end());
  // Tall components: to the line whose centre they cover (the nearest beside them), widening it but not making it
  // taller (the component reaches into a neighbour); else their own line.
  for (int id : ids) {
    const cv::Rect& b = comps[id].box;
    if (b.height <= tall) continue;
    int best = -1;
    double best_d = 1e18;
    for (size_t i = 0; i < lines.size(); ++i) {
      const cv::Rect& l = lines[i].box;
      double gap = std::max({0, l.x - b.br().x, b.x - l.br().x});  // lines beside the component come first
      double cy = l.y + l.height / 2.0, d = std::abs(cy - (b.y + b.height / 2.0)) + 4 * gap;
      if (cy >= b.y && cy <= b.br().y && d < best_d) best_d = d, best = int(i);
    }
    if (best < 0) lines.push_back({b});
    else lines[size_t(best)].box |= cv::Rect(b.x, lines[size_t(best)].box.y, b.width, lines[size_t(best)].box.height);
  }
  std::sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
    return a.box.y + a.box.height / 2 < b.box.y + b.box.height / 2;
  });
  return lines;
}

// Long rules found on the page: separators for the reading-order cut.
struct Rules {
  std::vector<cv::Rect> horizontal, vertical;
};

class XYCut {
 public:
  XYCut(const std::vector<Comp>& comps, const Rules& rules, double text_h, double column_gap)
      : comps_(comps), rules_(rules), h_(text_h), col_gap_(column_gap * text_h) {}

  // Leaves of the recursive cut, in reading order.
  std::vector<std::vector<int>> run(const std::vector<int>& ids) {
    leaves_.clear();
    cut(ids, 0);
    return leaves_;
  }

 private:
  // Column gaps of a region: at least column_gap wide, or any gap holding a vertical rule that spans
  // the region; in a single line (no horizontal gap inside) at least the line's height, so the word
  // spaces of a large heading are no columns, and none in a single line flatter than text (a row of
  // dots stays one line; other flat marks are dropped anyway).
  std::vector<Interval> column_gaps(const std::vector<int>& ids) const {
    int top = INT32_MAX, bottom = 0;
    for (int id : ids) top = std::min(top, comps_[id].box.y), bottom = std::max(bottom, comps_[id].box.br().y);
    auto ruled = [&](const Interval& g) {
      return std::any_of(rules_.vertical.begin(), rules_.vertical.end(), [&](const cv::Rect& r) {
        return r.x >= g.first && r.br().x <= g.second && overlap(r.y, r.br().y, top, bottom) >= 0.8 * (bottom - top);
      });
    };
    auto gaps = find_gaps(comps_, ids, true, rules_.vertical.empty() ? col_gap_ : 2);
    bool single_line = find_gaps(comps_, ids, false, 1).empty() && group_lines(comps_, ids).size() == 1;
    gaps.erase(std::remove_if(gaps.begin(), gaps.end(),
                              [&](const Interval& g) {
                                int w = g.second - g.first;
                                if (ruled(g)) return false;
                                return w < col_gap_ || (single_line && (w < bottom - top || bottom - top < 0.4 * h_));
                              }),
               gaps.end());
    return gaps;
  }

  // Horizontal gaps holding a horizontal rule across most of the region: rows of a table ruled only
  // horizontally, or a separator under a heading. They are cut before columns, so such rows read whole.
  std::vector<Interval> ruled_rows(const std::vector<int>& ids) const {
    if (rules_.horizontal.empty()) return {};
    int left = INT32_MAX, right = 0;
    for (int id : ids) left = std::min(left, comps_[id].box.x), right = std::max(right, comps_[id].box.br().x);
    auto gaps = find_gaps(comps_, ids, false, 1);
    gaps.erase(std::remove_if(gaps.begin(), gaps.end(),
                              [&](const Interval& g) {
                                return std::none_of(rules_.horizontal.begin(), rules_.horizontal.end(), [&](const cv::Rect& r) {
                                  return r.y >= g.first && r.br().y <= g.second &&
                                         overlap(r.x, r.br().x, left, right) >= 0.8 * (right - left);
                                });
                              }),
               gaps.end());
    return gaps;
  }

  void cut(const std::vector<int>& ids, int depth) {
    if (ids.size() <= 1 || depth > 64) {
      if (!ids.empty()) leaves_.push_back(ids);
      return;
    }
    auto ruled = ruled_rows(ids);
    if (!ruled.empty()) {
      for (auto& part : split_at(comps_, ids, ruled, false)) cut(part, depth + 1);
      return;
    }
    auto cols = column_gaps(ids);
    if (!cols.empty()) {
      for (auto& part : split_at(comps_, ids, cols, true)) cut(part, depth + 1);
      return;
    }
    auto rows = find_gaps(comps_, ids, false, 1);
    if (rows.empty()) {
      leaves_.push_back(ids);
      return;
    }
    // Bands between horizontal gaps; consecutive bands sharing a column gap belong to one multi-column
    // region (paragraph breaks that line up across columns must not interleave the columns).
    std::vector<std::vector<int>> groups;
    std::vector<Interval> shared;  // the running intersection of the current group's column gaps
    for (auto& band : split_at(comps_, ids, rows, false)) {
      auto gaps = column_gaps(band);
      std::vector<Interval> common;
      for (auto& a : shared)
        for (auto& b : gaps)
          if (std::min(a.second, b.second) - std::max(a.first, b.first) > 0)
            common.push_back({std::max(a.first, b.first), std::min(a.second, b.second)});
      if (!groups.empty() && !common.empty()) {
        groups.back().insert(groups.back().end(), band.begin(), band.end());
        shared = common;
      } else {
        groups.push_back(band);
        shared = gaps;
      }
    }
    for (auto& g : groups) {
      if (g.size() == ids.size()) leaves_.push_back(g);
      else cut(g, depth + 1);
    }
  }

  const std::vector<Comp>& comps_;
  const Rules& rules_;
  double h_, col_gap_;
  std::vector<std::vector<int>> leaves_;
};

// Positions of rules in a mask projected on one axis: runs of rows (cols) covered over > frac of the span.
std::vector<int> rule_positions(const cv::Mat& mask, bool rows, double frac) {
  cv::Mat proj;
  cv::reduce(mask, proj, rows ? 1 : 0, cv::REDUCE_SUM, CV_32S);
  int n = rows ? mask.rows : mask.cols, span = rows ? mask.cols : mask.rows;
  std::vector<int> pos;
  int run_start = -1;
  for (int i = 0; i <= n; ++i) {
    bool on = i < n && proj.at<int>(rows ? i : 0, rows ? 0 : i) / 255 > frac * span;
    if (on && run_start < 0) run_start = i;
    if (!on && run_start >= 0) pos.push_back((run_start + i - 1) / 2), run_start = -1;
  }
  return pos;
}

// A run of ink along row `line` over columns [from, to) (horizontal), or along column `line` over rows
// [from, to) (vertical).
struct LongRun {
  int line, from, to;
};

// The runs of at least len >= 2 ink pixels along the rows or the columns of a mask (ink: nonzero), in
// the order of a raster scan that reports a run at its end. Such a run covers two consecutive multiples of
// k = len / 2 along its axis (it is at least 2k long), so only the pixels there are looked at; a pair that
// is ink at both ends is checked in between and the run grown to its ends. Text gives few such pairs: a
// page costs a few bytes per row across and a few rows down, not a pass over every pixel each way.
std::vector<LongRun> find_long_runs(const cv::Mat& ink, int len, bool horizontal) {
  CV_Assert(ink.type() == CV_8U && len >= 2);
  const int k = len / 2;
  std::vector<LongRun> runs;
  if (horizontal) {
    for (int y = 0; y < ink.rows; ++y) {
      const uint8_t* p = ink.ptr<uint8_t>(y);
      for (int x = 0; x + k < ink.cols; x += k) {
        if (!p[x] || !p[x + k] || find_byte(p, x, x + k, false) < x + k) continue;
        int x0 = x, x1 = find_byte(p, x + k, ink.cols, false);
        while (x0 > 0 && p[x0 - 1]) --x0;
        if (x1 - x0 >= len) runs.push_back({y, x0, x1});
        x = (x1 + k - 1) / k * k - k;  // the next pair starts at or past the run's end
      }
    }
    return runs;
  }
  const size_t step = ink.step;
  const int cols = ink.cols;
  thread_local std::vector<uint8_t> both;
  thread_local std::vector<int> done;  // per column: the end of the last run found there
  both.resize(size_t(cols));
  done.assign(size_t(cols), 0);
  for (int y = 0; y + k < ink.rows; y += k) {
    const uint8_t *a = ink.ptr<uint8_t>(y), *b = ink.ptr<uint8_t>(y + k);
    for (int x = 0; x < cols; ++x) both[size_t(x)] = uint8_t(-uint8_t((a[x] != 0) & (b[x] != 0)));
    for_each_run(both.data(), cols, [&](int c0, int c1) {
      for (int x = c0; x < c1; ++x) {
        if (y < done[size_t(x)]) continue;  // inside the run found from an earlier pair
        const uint8_t* col = ink.data + size_t(x);
        int y0 = y + 1;
        while (y0 < y + k && col[size_t(y0) * step]) ++y0;
        if (y0 < y + k) continue;
        y0 = y;
        while (y0 > 0 && col[size_t(y0 - 1) * step]) --y0;
        int y1 = y + k + 1;
        while (y1 < ink.rows && col[size_t(y1) * step]) ++y1;
        done[size_t(x)] = y1;
        if (y1 - y0 >= len) runs.push_back({x, y0, y1});
      }
    });
  }
  std::sort(runs.begin(), runs.end(), [](const LongRun& p, const LongRun& q) {
    return p.to != q.to ? p.to < q.to : p.line < q.line;
  });
  return runs;
}

// The runs drawn (255) into mask, which covers the window of the page (runs lie wholly in or out of it).
void draw_runs(const std::vector<LongRun>& runs, bool horizontal, const cv::Rect& window, cv::Mat& mask) {
  mask.create(window.size(), CV_8U);
  mask.setTo(0);
  for (const LongRun& r : runs) {
    cv::Rect box = horizontal ? cv::Rect(r.from, r.line, r.to - r.from, 1) : cv::Rect(r.line, r.from, 1, r.to - r.from);
    if ((box & window).area() > 0) mask(box - window.tl()).setTo(255);
  }
}

}  // namespace

cv::Mat long_runs(const cv::Mat& ink, int len, bool horizontal) {
  cv::Mat out;
  draw_runs(find_long_runs(ink, len, horizontal), horizontal, cv::Rect(cv::Point(), ink.size()), out);
  return out;
}

// cv::connectedComponentsWithStats labels 2x2 blocks of the page in raster order, so a component ranks by
// its first block. Here the components are found from runs joined by a union-find: no label image
// (35 MB for a page) and no pass over the blank pixels.
Components ink_components(const cv::Mat& mask, cv::Point origin) {
  struct Run {
    int x0, x1, y, parent;
  };
  thread_local std::vector<Run> runs;
  runs.clear();
  auto root = [](int i) {
    while (runs[size_t(i)].parent != i) i = runs[size_t(i)].parent = runs[size_t(runs[size_t(i)].parent)].parent;
    return i;
  };
  for (int y = 0, prev = 0; y < mask.rows; ++y) {  // prev: the first run of row y - 1
    const int cur = int(runs.size());
    int k = prev;
    for_each_run(mask.ptr<uint8_t>(y), mask.cols, [&](int x0, int x1) {
      const int id = int(runs.size());
      runs.push_back({x0, x1, y, id});
      // Join the runs of the row above that touch this one (diagonally included); the root is the
      // smallest run index, so a component's root comes before its other runs.
      while (k < cur && runs[size_t(k)].x1 < x0) ++k;
      for (int j = k; j < cur && runs[size_t(j)].x0 <= x1; ++j) {
        int a = root(j), b = root(id);
        if (a != b) runs[size_t(std::max(a, b))].parent = std::min(a, b);
      }
    });
    prev = cur;
  }
  // Per component: its box, pixel count and first block (a row-major key); runs come top to bottom.
  struct Stats {
    int x0, y0, x1, y1, area;
    int64_t key;
  };
  std::vector<Stats> stats;
  thread_local std::vector<int> index;  // per root run: its component in stats
  index.resize(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    const Run& r = runs[i];
    const int64_t key = int64_t((r.y + origin.y) / 2) << 32 | int64_t((r.x0 + origin.x) / 2);
    const int c = root(int(i));
    if (c == int(i)) index[i] = int(stats.size()), stats.push_back({r.x0, r.y, r.x1, r.y + 1, 0, key});
    Stats& st = stats[size_t(index[size_t(c)])];
    st.x0 = std::min(st.x0, r.x0), st.x1 = std::max(st.x1, r.x1), st.y1 = r.y + 1;
    st.area += r.x1 - r.x0;
    st.key = std::min(st.key, key);
  }
  std::sort(stats.begin(), stats.end(), [](const Stats& a, const Stats& b) { return a.key < b.key; });
  Components out;
  out.reserve(stats.size());
  for (const Stats& st : stats) out.push_back({cv::Rect(st.x0, st.y0, st.x1 - st.x0, st.y1 - st.y0) + origin, st.area});
  return out;
}

namespace {

// The x extent [x0, x1) of the rule pixels in one row (empty: x0 >= x1).
struct Span {
  int x0 = INT32_MAX, x1 = INT32_MIN;
  bool empty() const { return x0 >= x1; }
  void add(int a, int b) { x0 = std::min(x0, a), x1 = std::max(x1, b); }
};

// Bands of the page around the rules: each row's extent of rule pixels grown by margin on every side,
// merged where they meet (so no 8-connected group of rules spans two bands) and clipped to the page.
std::vector<cv::Rect> rule_bands(const std::vector<LongRun>& h, const std::vector<LongRun>& v, int margin,
                                  const cv::Size& page) {
  std::vector<Span> rows(size_t(page.height));
  for (const LongRun& r : h) rows[size_t(r.line)].add(r.from, r.to);
  for (const LongRun& r : v)
    for (int y = r.from; y < r.to; ++y) rows[size_t(y)].add(r.line, r.line + 1);
  std::vector<cv::Rect> bands;
  for (int y = 0; y < page.height; ++y) {
    const Span& s = rows[size_t(y)];
    if (s.empty()) continue;
    cv::Rect r = cv::Rect(s.x0 - margin, y - margin, s.x1 - s.x0 + 2 * margin, 2 * margin + 1) &
                 cv::Rect(cv::Point(), page);
    if (!bands.empty() && r.y <= bands.back().br().y) bands.back() |= r;
    else bands.push_back(r);
  }
  return bands;
}

// Ruled tables: grids of long horizontal and vertical rules. The rules are cleared from ink (text is
// found without them).
void find_tables(cv::Mat& ink, double text_h, std::vector<LayoutTable>& tables, Rules& found, bool detect) {
  int len = std::max(15, int(5 * text_h));
  const std::vector<LongRun> hr = find_long_runs(ink, len, true), vr = find_long_runs(ink, len, false);
  // Filled areas (pictures, bars) are not rules: drop whatever lies in a solid square thicker than a rule.
  // Whether a pixel does depends on the ink within t pixels of it (an opening by t x t, then a 3 x 3
  // dilation), so all the work is done in bands around the rules, grown by t; most pages have none.
  // Clearing a band's rules from ink cannot change the next band's opening: that reads ink at most t / 2
  // outside its band, and rules lie more than t inside theirs.
  int t = std::max(4, int(0.5 * text_h)) | 1;
  for (const cv::Rect& b : rule_bands(hr, vr, t, ink.size())) {
    thread_local cv::Mat h, v, solid, rules;  // of the band
    draw_runs(hr, true, b, h);
    draw_runs(vr, false, b, v);
    cv::morphologyEx(ink(b), solid, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(t, t)));
    cv::dilate(solid, solid, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
    h.setTo(0, solid);
    v.setTo(0, solid);
    for (auto [mask, out] : {std::pair{&h, &found.horizontal}, std::pair{&v, &found.vertical}}) {
      std::vector<std::vector<cv::Point>> contours;
      cv::findContours(*mask, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE, b.tl());
      for (auto& c : contours) out->push_back(cv::boundingRect(c));
    }
    cv::bitwise_or(h, v, rules);
    ink(b).setTo(0, rules);
    if (!detect) continue;
    for (auto& [box, area] : ink_components(rules, b.tl())) {
      if (box.width < 4 * text_h || box.height < 2 * text_h) continue;
      LayoutTable t;
      t.box = box;
      t.rows = rule_positions(h(box - b.tl()), true, 0.5);
      t.cols = rule_positions(v(box - b.tl()), false, 0.5);
      for (int& r : t.rows) r += box.y;
      for (int& c : t.cols) c += box.x;
      // A box with rows but a single column is framed text, not a table.
      if (t.rows.size() >= 2 && t.n_cols() >= 2) tables.push_back(t);
    }
  }
}

int cell_index(const std::vector<int>& edges, int v) {
  int k = int(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin()) - 1;
  return std::clamp(k, 0, int(edges.size()) - 2);
}

// The median height of plausible text components (0 for a blank page).
double text_height(const Components& cs, int page_rows) {
  std::vector<double> hs;
  for (auto& [b, area] : cs)
    if (area >= 4 && b.height >= 3 && b.height < page_rows / 8) hs.push_back(b.height);
  return median_of(hs);
}

// Estimates the skew and fills page.angle, page.straight and page.to_source; returns the straight ink.
// The ink is a per-thread buffer: a fresh page-sized one for every page page-faults, and on a host running
// many pages at once those faults contend.
cv::Mat straighten(const cv::Mat& gray, const LayoutOptions& opt, PageLayout& page) {
  thread_local cv::Mat ink;
  const int ink_count = binarize_to(gray, opt.binarize, ink);
  page.straight = gray;
  if (!opt.deskew) return ink;
  double a = estimate_skew(ink, opt.max_skew, ink_count);
  // Under 0.06 degrees the page is left as it is: a 2,500-pixel line moves 2-3 px end to end, less than
  // the interpolation of a rotation would blur.
  page.angle = std::abs(a) < 0.06 ? 0.0 : std::round(a * 100) / 100;
  if (page.angle == 0) return ink;
  cv::Mat m = cv::getRotationMatrix2D(cv::Point2f(gray.cols / 2.f, gray.rows / 2.f), -page.angle, 1.0);
  page.straight = cv::Mat();  // a new image: it shared the caller's pixels, which warpAffine would overwrite
  cv::warpAffine(gray, page.straight, m, gray.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  cv::Mat inv;
  cv::invertAffineTransform(m, inv);
  page.to_source = cv::Matx23d(inv);
  binarize_to(page.straight, opt.binarize, ink);
  return ink;
}

// Pictures: components at least picture_size text heights both ways, overlapping ones merged.
std::vector<cv::Rect> find_pictures(const Components& raw, double h, const LayoutOptions& opt) {
  std::vector<cv::Rect> pictures;
  if (!opt.pictures) return pictures;
  for (auto& [b, area] : raw)
    if (b.width >= opt.picture_size * h && b.height >= opt.picture_size * h) pictures.push_back(b);
  for (bool merged = true; merged;) {
    merged = false;
    for (size_t i = 0; i < pictures.size() && !merged; ++i)
      for (size_t j = i + 1; j < pictures.size() && !merged; ++j)
        if ((pictures[i] & pictures[j]).area() > 0) {
          pictures[i] |= pictures[j];
          pictures.erase(pictures.begin() + long(j));
          merged = true;
        }
  }
  return pictures;
}

// Whether b's centre lies within outer (grown by margin).
bool centre_inside(const cv::Rect& outer, const cv::Rect& b, int margin) {
  cv::Point c(b.x + b.width / 2, b.y + b.height / 2);
  return c.x >= outer.x - margin && c.x < outer.br().x + margin && c.y >= outer.y - margin && c.y < outer.br().y + margin;
}

// Paragraphs: a new one at a column jump, a wider line step than usual, a much taller line (heading),
// or a table cell boundary.
void assign_paragraphs(std::vector<LayoutLine>& lines) {
  auto centre = [](const LayoutLine& l) { return l.box.y + l.box.height / 2.0; };
  std::vector<double> heights, steps;
  for (auto& l : lines) heights.push_back(l.box.height);
  double line_h = median_of(heights);
  for (size_t i = 1; i < lines.size(); ++i) {
    double step = centre(lines[i]) - centre(lines[i - 1]);
    if (step > 0 && step < 3 * line_h) steps.push_back(step);
  }
  double usual_step = steps.empty() ? 2 * line_h : median_of(steps);
  for (size_t i = 1; i < lines.size(); ++i) {
    const LayoutLine &a = lines[i - 1], &b = lines[i];
    double step = centre(b) - centre(a);
    bool jump = step <= 0;
    bool gap = step > 1.4 * usual_step;
    bool heading = std::max(a.box.height, b.box.height) > 1.3 * line_h &&
                   std::abs(a.box.height - b.box.height) > 0.25 * std::max(a.box.height, b.box.height);
    bool table = a.table != b.table || (a.table >= 0 && (a.row != b.row || a.col != b.col));
    lines[i].paragraph = a.paragraph + ((jump || gap || heading || table) ? 1 : 0);
  }
}

// A line flatter than text that is a row of dots (an ellipsis ". . ." in code, a dot leader on a line of
// its own): three or more small, roughly square marks of one size, evenly spaced. Returns the box grown
// to a text line's height above the dots' baseline (the recogniser reads it like any line), else empty.
// Other flat lines (rule remnants, dashes, specks) stay dropped.
cv::Rect dot_row(const std::vector<Comp>& comps, const std::vector<int>& ids, const cv::Rect& line, double h) {
  std::vector<cv::Rect> dots;
  for (int id : ids) {
    const cv::Rect& b = comps[size_t(id)].box;
    if ((b & line) != b) continue;
    if (b.width > 2 * b.height || b.height > 2 * b.width || b.height < 0.1 * h) return {};
    dots.push_back(b);
  }
  if (dots.size() < 3) return {};
  std::sort(dots.begin(), dots.end(), [](const cv::Rect& a, const cv::Rect& b) { return a.x < b.x; });
  int min_area = INT_MAX, max_area = 0, min_step = INT_MAX, max_step = 0;
  for (size_t i = 0; i < dots.size(); ++i) {
    min_area = std::min(min_area, dots[i].area()), max_area = std::max(max_area, dots[i].area());
    if (i == 0) continue;
    const int step = dots[i].x - dots[i - 1].x;
    min_step = std::min(min_step, step), max_step = std::max(max_step, step);
  }
  if (max_area > 3 * min_area || max_step > 1.5 * min_step || max_step > 3 * h) return {};
  const int bottom = line.br().y + int(0.3 * h), top = line.br().y - int(std::lround(1.2 * h));
  return cv::Rect(line.x, top, line.width, bottom - top);
}

}  // namespace

PageLayout analyze_page(const cv::Mat& gray, const LayoutOptions& opt) {
  PageLayout page;
  if (gray.empty()) return page;
  cv::Mat ink = straighten(gray, opt, page);

  // A first text height (from a half-size copy of a large page: cheap) sizes the rule detector; the
  // final one comes from the ink without rules.
  double h;
  if (std::min(ink.rows, ink.cols) > 1500) {
    thread_local cv::Mat half;
    cv::resize(ink, half, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
    cv::threshold(half, half, 64, 255, cv::THRESH_BINARY);
    h = 2 * text_height(ink_components(half), ink.rows);
  } else {
    h = text_height(ink_components(ink), ink.rows);
  }
  if (h <= 0) return page;  // blank
  Rules rules;
  find_tables(ink, h, page.tables, rules, opt.tables);
  Components raw = ink_components(ink);
  h = std::max(2.0, text_height(raw, ink.rows));
  page.text_height = h;
  page.pictures = find_pictures(raw, h, opt);

  // Text components (noise and anything in a picture dropped); table text goes to per-table lists, and
  // each table joins the reading-order cut as one block.
  std::vector<Comp> comps;
  std::vector<std::vector<int>> table_comps(page.tables.size());
  std::vector<int> flow;  // components for the XY-cut
  const double min_area = std::max(3.0, 0.015 * h * h);
  for (auto& [b, area] : raw) {
    if (area < min_area) continue;
    if (std::any_of(page.pictures.begin(), page.pictures.end(), [&](const cv::Rect& p) { return centre_inside(p, b, int(h / 2)); }))
      continue;
    int t = -1;
    for (size_t k = 0; k < page.tables.size() && t < 0; ++k)
      if (centre_inside(page.tables[k].box, b, 0)) t = int(k);
    comps.push_back({b});
    (t >= 0 ? table_comps[size_t(t)] : flow).push_back(int(comps.size()) - 1);
  }
  for (size_t k = 0; k < page.tables.size(); ++k) {
    comps.push_back({page.tables[k].box, int(k)});
    flow.push_back(int(comps.size()) - 1);
  }

  // Reading order: XY-cut leaves; within a leaf, lines and tables top to bottom; table lines by cell.
  auto add_line = [&](const cv::Rect& box, int table, int row, int col) {
    LayoutLine l;
    l.box = box;
    cv::Rect r = line_crop_box(box, page.straight.size(), opt.line_pad);
    l.crop = page.straight(r);
    l.crop_x = r.x;
    l.table = table, l.row = row, l.col = col;
    page.lines.push_back(l);
  };
  for (auto& leaf : XYCut(comps, rules, h, opt.column_gap).run(flow)) {
    struct Item {
      cv::Rect box;
      int table;
    };
    std::vector<Item> items;
    std::vector<int> text;
    for (int id : leaf) {
      if (comps[id].table >= 0) items.push_back({comps[id].box, comps[id].table});
      else text.push_back(id);
    }
    for (auto& l : group_lines(comps, text)) {
      if (l.box.height >= 0.4 * h) {
        items.push_back({l.box, -1});
      } else if (cv::Rect dots = dot_row(comps, text, l.box, h) & cv::Rect(0, 0, ink.cols, ink.rows); !dots.empty()) {
        items.push_back({dots, -1});
      }
    }
    std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.box.y < b.box.y; });
    for (auto& it : items) {
      if (it.table < 0) {
        add_line(it.box, -1, -1, -1);
        continue;
      }
      const LayoutTable& t = page.tables[size_t(it.table)];
      std::vector<std::vector<int>> cells(size_t(t.n_rows() * t.n_cols()));
      for (int id : table_comps[size_t(it.table)]) {
        const cv::Rect& b = comps[id].box;
        cells[size_t(cell_index(t.rows, b.y + b.height / 2) * t.n_cols() + cell_index(t.cols, b.x + b.width / 2))].push_back(id);
      }
      for (size_t c = 0; c < cells.size(); ++c)
        for (auto& l : group_lines(comps, cells[c])) add_line(l.box, it.table, int(c) / t.n_cols(), int(c) % t.n_cols());
    }
  }
  assign_paragraphs(page.lines);
  return page;
}

}  // namespace ocrkit::infer

