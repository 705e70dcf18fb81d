#include "datasets/labels.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "core/charset.h"
#include "core/text.h"

namespace fs = std::filesystem;

namespace ocrkit {

namespace {

std::string lower_ext(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), ::tolower);
  return e;
}

bool is_image_ext(const std::string& e) {
  return e == ".png" || e == ".jpg" || e == ".jpeg" || e == ".tif" || e == ".tiff" || e == ".bmp" ||
         e == ".webp" || e == ".pbm" || e == ".pgm";
}

// Adds the item, or an issue saying why it cannot be used.
void accept(LabelSet& set, const std::string& source, int line, const fs::path& image, const std::string& raw,
            const Charset* charset, bool allow_empty) {
  if (!valid_utf8(raw)) {
    set.issues.push_back({source, line, "label is not valid UTF-8"});
    return;
  }
  std::string text = normalize_label(raw);
  if (text.empty() && !allow_empty) {
    set.issues.push_back({source, line, "empty label"});
    return;
  }
  std::error_code ec;
  if (!fs::is_regular_file(image, ec) || fs::file_size(image, ec) == 0) {
    set.issues.push_back({source, line, "image missing or empty: " + image.string()});
    return;
  }
  if (charset) {
    std::string miss = charset->missing(text);
    if (!miss.empty()) {
      set.issues.push_back({source, line, "characters outside the charset: '" + miss + "'"});
      return;
    }
  }
  set.items.push_back({image.string(), text, source, line});
}

void read_paddle(LabelSet& set, const fs::path& file, const Charset* charset, bool allow_empty) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file.string() + ": cannot read label file");
  const fs::path base = file.parent_path();
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (n == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line = line.substr(3);  // BOM
    if (line.empty()) continue;
    auto tab = line.find('\t');
    if (tab == std::string::npos) {
      set.issues.push_back({file.string(), n, "no TAB between image path and label"});
      continue;
    }
    accept(set, file.string(), n, base / line.substr(0, tab), line.substr(tab + 1), charset, allow_empty);
  }
}

void read_jsonl(LabelSet& set, const fs::path& file, const Charset* charset, bool allow_empty) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file.string() + ": cannot read label file");
  const fs::path base = file.parent_path();
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      auto j = nlohmann::json::parse(line);
      if (!j.is_object() || !j.contains("image") || !j.contains("text") || !j["image"].is_string() ||
          !j["text"].is_string()) {
        set.issues.push_back({file.string(), n, "expected {\"image\": string, \"text\": string}"});
        continue;
      }
      accept(set, file.string(), n, base / j["image"].get<std::string>(), j["text"].get<std::string>(), charset,
             allow_empty);
    } catch (const nlohmann::json::exception& e) {
      set.issues.push_back({file.string(), n, std::string("invalid JSON: ") + e.what()});
    }
  }
}

void read_tesstrain(LabelSet& set, const fs::path& dir, const Charset* charset, bool allow_empty) {
  std::vector<fs::path> gts;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string().size() > 7 &&
        e.path().string().substr(e.path().string().size() - 7) == ".gt.txt")
      gts.push_back(e.path());
  std::sort(gts.begin(), gts.end());
  for (const auto& gt : gts) {
    std::string stem = gt.string().substr(0, gt.string().size() - 7);
    fs::path image;
    for (const char* ext : {".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".webp"})
      if (fs::exists(stem + ext)) { image = stem + ext; break; }
    std::ifstream in(gt);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (image.empty()) {
      set.issues.push_back({gt.string(), 0, "no image beside the .gt.txt"});
      continue;
    }
    if (text.find('\n') != std::string::npos) {
      set.issues.push_back({gt.string(), 0, "ground truth has more than one line"});
      continue;
    }
    accept(set, gt.string(), 0, image, text, charset, allow_empty);
  }
}

}  // namespace

LabelSet read_labels(const std::string& path, const Charset* charset, bool allow_empty_text) {
  LabelSet set;
  fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "labels.tsv")) read_paddle(set, p / "labels.tsv", charset, allow_empty_text);
    else if (fs::exists(p / "labels.jsonl")) read_jsonl(set, p / "labels.jsonl", charset, allow_empty_text);
    else read_tesstrain(set, p, charset, allow_empty_text);
    if (set.items.empty() && set.issues.empty())
      throw std::runtime_error(path + ": folder has no labels.tsv, labels.jsonl or *.gt.txt files");
    return set;
  }
  if (!fs::exists(p, ec)) throw std::runtime_error(path + ": label file not found");
  std::string e = lower_ext(p);
  if (e == ".jsonl" || e == ".json") read_jsonl(set, p, charset, allow_empty_text);
  else read_paddle(set, p, charset, allow_empty_text);
  return set;
}

LabelSet read_label_sources(const std::vector<std::string>& paths, const Charset* charset) {
  LabelSet all;
  for (const auto& path : paths) {
    LabelSet s = read_labels(path, charset);
    all.items.insert(all.items.end(), s.items.begin(), s.items.end());
    all.issues.insert(all.issues.end(), s.issues.begin(), s.issues.end());
  }
  return all;
}

std::vector<std::string> list_images(const std::string& folder) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(folder))
    if (e.is_regular_file() && is_image_ext(lower_ext(e.path()))) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ocrkit
