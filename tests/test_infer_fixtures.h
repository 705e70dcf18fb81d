// Generated fixtures for the infer tests: pages of known text (OpenCV freetype), hand-written PDFs,
// damaged files, and a fake recognizer that reads the known text back by box.
#pragma once
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/recognizer.h"

namespace ocrkit::test {

struct TruthLine {
  std::string text;
  cv::Rect box;  // ink box in page pixels
  int column = 0;
};

struct GeneratedPage {
  cv::Mat image;  // 8-bit gray
  std::vector<TruthLine> lines;  // in reading order (column by column, top to bottom)
};

struct PageSpec {
  int width = 1700, height = 2200;  // a letter page at 200 dpi
  int columns = 2;
  int lines_per_column = 20;
  int font_px = 28;                 // freetype font height
  int line_step = 44;               // baseline to baseline
  int margin = 120;
  int column_gap = 80;
  int paragraph_every = 0;          // insert a blank line after every n lines (0 = never)
  std::string title;                // a full-width title above the columns (empty = none)
  unsigned seed = 1;
};

// Renders lines of random words in DejaVu Sans.
GeneratedPage make_page(const PageSpec& spec);
// Renders one line of text (gray, black on white, `pad` pixels around the ink).
cv::Mat render_line(const std::string& text, int font_px, int pad = 6);
// Rotates a page counter-clockwise by `degrees` (white border) and the truth boxes with it.
GeneratedPage rotate_page(const GeneratedPage& page, double degrees);

// A minimal US-letter PDF, one page per entry, drawing its lines in Helvetica at `font_pt` from the
// top-left margin (72 pt) down.
std::string make_pdf(const std::vector<std::vector<std::string>>& pages, double font_pt = 14, double leading = 22);
// A PDF string literal: "(text)" with ( ) and \ escaped.
std::string pdf_string(const std::string& s);
// Numbers `objects` 1..N (object 1 is the catalog) and adds the header, xref table and trailer.
std::string assemble_pdf(const std::vector<std::string>& objects);

double iou(const cv::Rect& a, const cv::Rect& b);
// Writes bytes to a file (creating folders).
void write_file(const std::string& path, const std::string& bytes);
// A fresh empty temporary folder for one test.
std::string temp_dir(const std::string& name);

// A recognizer stand-in: answers "w<cols> h<rows>" for each crop (so a result can be traced back to its
// crop), or `fixed` when set; char_x spreads the characters evenly over the crop.
struct FakeRecognizer {
  std::string fixed;     // answer for every crop when not empty
  int calls = 0;         // recognize() calls so far
  size_t max_batch = 0;  // largest batch seen
  size_t crops = 0;      // crops seen
  std::vector<LineResult> operator()(const std::vector<cv::Mat>& crops);
};

}  // namespace ocrkit::test
