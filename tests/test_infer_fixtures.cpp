#include "test_infer_fixtures.h"
#include "core/fs.h"
#include "datasets/synth_vin.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <opencv2/freetype.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <sstream>

namespace ocrkit::test {
namespace fs = std::filesystem;

static cv::Ptr<cv::freetype::FreeType2> font() {
  static cv::Ptr<cv::freetype::FreeType2> ft = [] {
    // Where the generators look for fonts (Debian's, or the GPU host's dependency prefix).
    const std::string file = "/truetype/dejavu/DejaVuSans.ttf";
    std::string path = "/usr/share/fonts" + file;  // the error names it when no folder has the font
    for (const auto& dir : default_font_dirs())
      if (fs::exists(dir + file)) {
        path = dir + file;
        break;
      }
    auto f = cv::freetype::createFreeType2();
    f->loadFontData(path, 0);
    return f;
  }();
  return ft;
}

cv::Mat render_line(const std::string& text, int font_px, int pad) {
  int baseline = 0;
  cv::Size size = font()->getTextSize(text, font_px, -1, &baseline);
  cv::Mat canvas(size.height + 2 * font_px, size.width + 2 * font_px, CV_8UC3, cv::Scalar::all(255));
  font()->putText(canvas, text, cv::Point(font_px, font_px + size.height), font_px, cv::Scalar::all(0), -1, cv::LINE_AA, true);
  cv::Mat gray;
  cv::cvtColor(canvas, gray, cv::COLOR_BGR2GRAY);
  cv::Rect ink = cv::boundingRect(gray < 128);
  cv::Rect r(ink.x - pad, ink.y - pad, ink.width + 2 * pad, ink.height + 2 * pad);
  r &= cv::Rect(0, 0, gray.cols, gray.rows);
  return gray(r).clone();
}

static const char* kWords[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "kappa", "lambda",
                               "omicron", "sigma", "upsilon", "river", "stone", "market", "window", "garden",
                               "paper", "signal", "number", "orange", "yellow", "quiet", "bright", "north",
                               "south", "table", "column", "reader", "print", "model", "page", "42", "2026"};

GeneratedPage make_page(const PageSpec& s) {
  GeneratedPage page;
  cv::Mat canvas(s.height, s.width, CV_8UC3, cv::Scalar::all(255));
  std::mt19937 rng(s.seed);
  int col_w = (s.width - 2 * s.margin - (s.columns - 1) * s.column_gap) / s.columns;
  // Draws text with its baseline at y, left at x, and records the ink box.
  auto draw = [&](const std::string& text, int x, int y, int px, int column) {
    cv::Mat before;
    cv::extractChannel(canvas, before, 0);
    font()->putText(canvas, text, cv::Point(x, y), px, cv::Scalar::all(0), -1, cv::LINE_AA, true);
    cv::Mat after;
    cv::extractChannel(canvas, after, 0);
    cv::Rect ink = cv::boundingRect((before != after) & (after < 160));
    page.lines.push_back({text, ink, column});
  };
  int top = s.margin;
  if (!s.title.empty()) {
    draw(s.title, s.margin, top + 2 * s.font_px, 2 * s.font_px, -1);
    top += 4 * s.font_px;
  }
  for (int c = 0; c < s.columns; ++c) {
    int y = top + s.line_step;
    for (int i = 0; i < s.lines_per_column; ++i) {
      std::string text;
      int baseline = 0;
      for (;;) {
        std::string w = kWords[rng() % (sizeof kWords / sizeof *kWords)];
        std::string next = text.empty() ? w : text + " " + w;
        if (font()->getTextSize(next, s.font_px, -1, &baseline).width > col_w) break;
        text = next;
      }
      // Ragged right edges: drop a word now and then.
      if (rng() % 3 == 0 && text.find(' ') != std::string::npos) text = text.substr(0, text.rfind(' '));
      draw(text, s.margin + c * (col_w + s.column_gap), y, s.font_px, c);
      y += s.line_step;
      if (s.paragraph_every > 0 && (i + 1) % s.paragraph_every == 0) y += s.line_step;
    }
  }
  cv::cvtColor(canvas, page.image, cv::COLOR_BGR2GRAY);
  return page;
}

GeneratedPage rotate_page(const GeneratedPage& page, double degrees) {
  GeneratedPage out;
  cv::Point2f centre(page.image.cols / 2.f, page.image.rows / 2.f);
  cv::Mat m = cv::getRotationMatrix2D(centre, degrees, 1.0);
  cv::warpAffine(page.image, out.image, m, page.image.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(255));
  for (auto l : page.lines) {
    std::vector<cv::Point2f> corners = {{float(l.box.x), float(l.box.y)}, {float(l.box.br().x), float(l.box.y)},
                                        {float(l.box.x), float(l.box.br().y)}, {float(l.box.br().x), float(l.box.br().y)}};
    cv::transform(corners, corners, m);
    l.box = cv::boundingRect(corners);
    out.lines.push_back(l);
  }
  return out;
}

std::string pdf_string(const std::string& s) {
  std::string out = "(";
  for (char c : s) {
    if (c == '(' || c == ')' || c == '\\') out += '\\';
    out += c;
  }
  return out + ")";
}

std::string make_pdf(const std::vector<std::vector<std::string>>& pages, double font_pt, double leading) {
  std::vector<std::string> objects;  // object i + 1
  int n = int(pages.size());
  std::ostringstream kids;
  for (int i = 0; i < n; ++i) kids << (3 + 2 * i) << " 0 R ";
  objects.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  objects.push_back("<< /Type /Pages /Kids [" + kids.str() + "] /Count " + std::to_string(n) + " >>");
  int font_obj = 3 + 2 * n;
  for (int i = 0; i < n; ++i) {
    std::ostringstream content;
    content << "BT /F1 " << font_pt << " Tf " << leading << " TL 72 " << (792 - 72 - font_pt) << " Td\n";
    for (auto& line : pages[size_t(i)]) content << pdf_string(line) << " Tj T*\n";
    content << "ET\n";
    objects.push_back("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents " + std::to_string(4 + 2 * i) +
                      " 0 R /Resources << /Font << /F1 " + std::to_string(font_obj) + " 0 R >> >> >>");
    objects.push_back("<< /Length " + std::to_string(content.str().size()) + " >>\nstream\n" + content.str() + "endstream");
  }
  objects.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  return assemble_pdf(objects);
}

std::string assemble_pdf(const std::vector<std::string>& objects) {
  std::string pdf = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%010zu 00000 n \n", off);
    pdf += buf;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

double iou(const cv::Rect& a, const cv::Rect& b) {
  double i = (a & b).area(), u = a.area() + b.area() - i;
  return u > 0 ? i / u : 0;
}

void write_file(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string temp_dir(const std::string& name) {
  // Removed when the test program exits.
  static struct Cleanup {
    std::vector<fs::path> dirs;
    ~Cleanup() {
      for (auto& d : dirs) ocrkit::remove_tree(d);
    }
  } cleanup;
  fs::path p = fs::temp_directory_path() / ("ocrkit-test-" + name + "-" + std::to_string(::getpid()));
  ocrkit::remove_tree(p);
  fs::create_directories(p);
  cleanup.dirs.push_back(p);
  return p.string();
}

std::vector<LineResult> FakeRecognizer::operator()(const std::vector<cv::Mat>& in) {
  ++calls;
  max_batch = std::max(max_batch, in.size());
  crops += in.size();
  std::vector<LineResult> out;
  for (auto& m : in) {
    LineResult r;
    r.text = fixed.empty() ? "w" + std::to_string(m.cols) + " h" + std::to_string(m.rows) : fixed;
    r.confidence = 0.9f;
    for (size_t i = 0; i < r.text.size(); ++i) {
      r.chars.push_back(r.text.substr(i, 1));
      r.char_conf.push_back(0.9f);
      r.char_x.push_back(float((i + 0.5) * m.cols / r.text.size()));
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace ocrkit::test
