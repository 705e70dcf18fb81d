// What `ocrkit infer` produces for one input file: pages of recognised lines (boxes in page-image
// pixels), pictures, tables and errors. The writers render it; page JSON follows DESIGN.md.
#pragma once
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ocrkit::infer {

struct WordResult {
  cv::Rect bbox;         // page-image pixels
  std::string text;
  float confidence = 0;  // lowest character confidence of the word
};

struct LineOut {
  cv::Rect bbox;                  // page-image pixels
  std::string text;
  float confidence = 0;
  std::vector<WordResult> words;
  int paragraph = 0;              // paragraph index within the page (reading order)
  int table = -1, row = -1, col = -1;  // table cell holding the line, or -1
};

struct TableOut {
  cv::Rect bbox;                               // page-image pixels
  std::vector<std::vector<std::string>> cells;  // rows x columns of cell text (lines joined by spaces)
  std::string csv() const;                      // RFC 4180
  std::string markdown() const;                 // pipe table, the first row as header
};

struct PageResult {
  int page = 0;                 // 1-based
  int width = 0, height = 0;    // page-image size
  std::optional<int> dpi;       // render dpi (PDF) or the image's stated dpi
  double angle = 0;             // estimated skew, degrees counter-clockwise
  std::vector<LineOut> lines;   // reading order
  std::vector<cv::Rect> pictures;
  std::vector<TableOut> tables;
};

struct ErrorRecord {
  std::string source;   // input file
  int page = 0;         // 1-based page, 0 for the whole file
  std::string reason;
  nlohmann::ordered_json to_json() const;
  // One line for people: "in/a.pdf page 3: reason" (the reason alone when it already names the file).
  std::string message() const;
};

struct DocumentResult {
  std::string source;   // input path as given
  std::string name;     // output base name
  std::string model;    // checkpoint path
  std::vector<PageResult> pages;
  std::vector<ErrorRecord> errors;
  nlohmann::ordered_json to_json() const;  // the page JSON of DESIGN.md
  // to_json() as compact text, byte for byte, with the pages built and serialised on several threads:
  // a document is written once its last page is in, so the last one's writing is the tail of a run.
  std::string json_text() const;
};

nlohmann::ordered_json bbox_json(const cv::Rect& r);  // [x0, y0, x1, y1]
nlohmann::ordered_json errors_json(const std::vector<ErrorRecord>& errors);  // an array of ErrorRecord::to_json()

}  // namespace ocrkit::infer
