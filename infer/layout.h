// Page layout analysis (OpenCV only): deskew, binarisation, ruled tables, pictures, text lines in reading
// order (recursive XY-cut: columns left to right, then top to bottom) and padded line crops for the
// recognizer. Everything here works in the "straight" frame: the analysed image rotated by -angle;
// PageLayout::to_source maps boxes back to the analysed image.
#pragma once
#include <opencv2/core.hpp>
#include <string>
#include <utility>
#include <vector>

namespace ocrkit::infer {

// Padding around a line's ink box in the crop the recognizer sees, as a fraction of the line height.
inline constexpr double kLinePad = 0.15;

// The crop of a line whose ink box is `ink`: grown by round(pad * height) (at least 1 pixel) on every
// side and clipped to the image. Training crops (harvested from PDFs) should be cut the same way.
cv::Rect line_crop_box(const cv::Rect& ink, const cv::Size& image, double pad = kLinePad);

struct LayoutOptions {
  bool deskew = true;             // estimate the skew and analyse the page straightened
  double max_skew = 5.0;          // skew angles searched, degrees either way
  std::string binarize = "auto";  // otsu (global) | sauvola (local) | auto (sauvola on unevenly lit pages, otsu
                                  // plus faint strokes on noisy paper, else otsu)
  double column_gap = 1.2;        // narrowest whitespace between columns, in median text heights
  double line_pad = kLinePad;     // padding around a line crop, as a fraction of the line height
  bool tables = true;             // detect ruled tables (grids of horizontal and vertical rules)
  bool pictures = true;           // detect pictures (large non-text components)
  double picture_size = 5.0;      // a picture is at least this many median text heights wide and tall
};

struct LayoutLine {
  cv::Rect box;       // tight box of the line's ink, straight frame
  cv::Mat crop;       // gray crop with padding (a view into PageLayout::straight)
  int crop_x = 0;     // left edge of the crop, straight frame (crop x + crop_x = straight x)
  int paragraph = 0;  // paragraph index in reading order (new column, wide gap or size change start one)
  int table = -1;     // index into PageLayout::tables when the line sits in a table cell, else -1
  int row = -1, col = -1;  // the cell, when table >= 0
};

struct LayoutTable {
  cv::Rect box;            // outer box of the grid, straight frame
  std::vector<int> rows;   // y of each horizontal rule, top to bottom (rows.size() - 1 cell rows)
  std::vector<int> cols;   // x of each vertical rule, left to right
  int n_rows() const { return int(rows.size()) - 1; }
  int n_cols() const { return int(cols.size()) - 1; }
};

struct PageLayout {
  double angle = 0;                // skew of the page in degrees, counter-clockwise positive
  cv::Mat straight;                // the analysed gray image rotated by -angle (same size)
  cv::Matx23d to_source = {1, 0, 0, 0, 1, 0};  // straight frame -> analysed image coordinates
  double text_height = 0;          // median height of text components, pixels
  std::vector<LayoutLine> lines;   // reading order
  std::vector<cv::Rect> pictures;  // straight frame
  std::vector<LayoutTable> tables; // straight frame

  // Axis-aligned box in the analysed image of a straight-frame box.
  cv::Rect2d source_box(const cv::Rect2d& straight_box) const;
};

// Analyses one 8-bit gray page. Never throws for odd content (blank pages give no lines).
PageLayout analyze_page(const cv::Mat& gray, const LayoutOptions& options = {});

// Ink = 255 on 0 by `method` (otsu | sauvola | auto); a page that comes out mostly ink is inverted.
cv::Mat binarize(const cv::Mat& gray, const std::string& method);
// Whether the background lightness varies a lot across the page (shadows, uneven scans).
bool uneven_background(const cv::Mat& gray);
// Opening of a binary mask (ink 255) by a 1 x len line, horizontal or vertical: the pixels in runs of
// at least `len` (>= 2) ink pixels along that axis. Looks at about one pixel in len / 2 along the axis,
// where cv::morphologyEx costs O(len) per pixel (table rules: len is five text heights). Differs from it
// only at the image border, which OpenCV's erosion treats as ink.
cv::Mat long_runs(const cv::Mat& ink, int len, bool horizontal);
// Skew of the ink in degrees (counter-clockwise positive), searched in [-max_deg, max_deg]
// by projection profiles; 0 for a blank page. ink_count: its number of ink pixels where the caller knows
// it (else counted here).
double estimate_skew(const cv::Mat& ink, double max_deg, int ink_count = -1);
using Components = std::vector<std::pair<cv::Rect, int>>;  // box and pixel count of each ink component
// The 8-connected components of a mask (ink: nonzero), box and pixel count, in the order
// cv::connectedComponentsWithStats gives them; origin places the mask in its page (a view of part of it)
// and shifts the boxes, the order staying that of the page.
Components ink_components(const cv::Mat& mask, cv::Point origin = {});

}  // namespace ocrkit::infer
