// Crop mode (`ocrkit infer --lines`): every image is one line; predictions in input order.
#include <chrono>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "core/fs.h"
#include "datasets/labels.h"
#include "infer/pipeline.h"
#include "infer/writers.h"

namespace ocrkit::infer {
namespace fs = std::filesystem;

namespace {

// The images of a label file, a folder with labels, or a plain folder of images.
std::vector<std::string> list_crops(const std::string& source, std::vector<std::string>& errors) {
  std::error_code ec;
  bool folder = fs::is_directory(source, ec);
  bool labelled = !folder || fs::exists(fs::path(source) / "labels.tsv") || fs::exists(fs::path(source) / "labels.jsonl");
  if (folder && !labelled)
    for (auto& e : fs::directory_iterator(source, ec))
      if (e.path().string().size() > 7 && e.path().string().substr(e.path().string().size() - 7) == ".gt.txt") labelled = true;
  if (!labelled) return list_images(source);
  LabelSet set = read_labels(source, nullptr, /*allow_empty_text=*/true);
  for (auto& issue : set.issues) errors.push_back(issue.where() + ": " + issue.reason);
  std::vector<std::string> images;
  for (auto& item : set.items) images.push_back(item.image);
  return images;
}

// One crop as 8-bit gray, its size checked from the header first; throws naming the file.
cv::Mat read_crop(const std::string& path, int64_t max_pixels) {
  std::vector<uint8_t> bytes = read_file_bytes(path, int64_t(1) << 28);
  ImageHeader h;
  try {
    h = read_image_header(bytes);
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());
  }
  if (double(h.frames[0].width) * h.frames[0].height > double(max_pixels))
    throw InputError(path + ": image of " + std::to_string(h.frames[0].width) + "x" + std::to_string(h.frames[0].height) +
                     " pixels is too large for a line crop");
  cv::Mat m = cv::imdecode(bytes, cv::IMREAD_GRAYSCALE);
  if (m.empty()) throw InputError(path + ": cannot decode the " + h.format + " image (truncated or corrupt)");
  return m;
}

std::string tsv_field(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

CropSummary run_crop_mode(const std::string& source, const std::string& out_tsv, const RecognizeFn& recognize,
                          int batch_size, int64_t max_pixels) {
  auto start = std::chrono::steady_clock::now();
  CropSummary summary;
  std::vector<std::string> images = list_crops(source, summary.errors);
  summary.failed = int(summary.errors.size());
  summary.items = int(images.size());
  std::string out;
  batch_size = std::max(1, batch_size);
  for (size_t first = 0; first < images.size(); first += size_t(batch_size)) {
    size_t last = std::min(images.size(), first + size_t(batch_size));
    std::vector<cv::Mat> crops;
    std::vector<size_t> crop_of;  // batch item -> index into crops, or SIZE_MAX
    for (size_t i = first; i < last; ++i) {
      try {
        crops.push_back(read_crop(images[i], max_pixels));
        crop_of.push_back(crops.size() - 1);
      } catch (const std::exception& e) {
        summary.errors.push_back(e.what());
        ++summary.failed;
        crop_of.push_back(SIZE_MAX);
      }
    }
    std::vector<LineResult> results = crops.empty() ? std::vector<LineResult>{} : recognize(crops);
    if (results.size() != crops.size()) throw std::runtime_error("recognizer returned the wrong number of results");
    for (size_t i = first; i < last; ++i) {
      size_t c = crop_of[i - first];
      char conf[32];
      std::snprintf(conf, sizeof conf, "%.4f", c == SIZE_MAX ? 0.0 : double(results[c].confidence));
      out += tsv_field(images[i]) + "\t" + (c == SIZE_MAX ? std::string() : tsv_field(results[c].text)) + "\t" + conf + "\n";
    }
  }
  write_file_atomically(out_tsv, out);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace ocrkit::infer
