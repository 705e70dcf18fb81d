// Readers for the three label formats (DESIGN.md): Paddle TSV "path<TAB>label", tesstrain "name.png" +
// "name.gt.txt", and JSONL {"image": ..., "text": ...}. Bad items are reported with file:line and
// counted, never dropped silently.
#pragma once
#include <string>
#include <vector>

namespace ocrkit {

class Charset;

struct LabelItem {
  std::string image;   // resolved path of the crop
  std::string text;    // normalised label (normalize_label)
  std::string source;  // label file (or .gt.txt) it came from
  int line = 0;        // 1-based line in source (0 for tesstrain pairs)
};

struct LabelIssue {
  std::string source;
  int line = 0;
  std::string reason;
  std::string where() const { return line > 0 ? source + ":" + std::to_string(line) : source; }
};

struct LabelSet {
  std::vector<LabelItem> items;
  std::vector<LabelIssue> issues;  // skipped items and why
};

// `path` is a label file (.tsv/.txt = Paddle, .jsonl/.json = JSONL) or a folder (holding labels.tsv /
// labels.jsonl, or tesstrain pairs). Image paths are relative to the label file's folder. With a
// charset, labels using characters outside it become issues. Missing files become issues; a missing
// or unreadable label file itself throws.
LabelSet read_labels(const std::string& path, const Charset* charset = nullptr, bool allow_empty_text = false);

// Reads several sources into one set.
LabelSet read_label_sources(const std::vector<std::string>& paths, const Charset* charset = nullptr);

// Every image file in a folder (png, jpg, jpeg, tif, tiff, bmp, webp), sorted by name.
std::vector<std::string> list_images(const std::string& folder);

}  // namespace ocrkit
