// Page sources for `ocrkit infer`: PDFs (poppler, also .pdf.gz) and images (OpenCV: PNG, JPEG, TIFF
// incl. multi-page, WebP, BMP), each opened as a Document whose pages render to 8-bit gray images.
// Bad inputs throw InputError naming the file (and page); image sizes are checked from the file header
// before anything is decoded, so a huge or lying image never takes unbounded memory.
#pragma once
#include <cstdint>
#include <memory>
#include <opencv2/core.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ocrkit::infer {

// A bad input file or page: recorded in errors.json and skipped, never fatal for the batch.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// `--pages 1-3,7,10-`: 1-based, inclusive ranges; an empty selection means every page.
class PageSelection {
 public:
  // Throws std::invalid_argument on malformed text ("3-1", "a", "0").
  static PageSelection parse(const std::string& text);
  bool all() const { return ranges_.empty(); }
  // The selected pages (1-based, ascending) of a document with `count` pages.
  std::vector<int> select(int count) const;

 private:
  std::vector<std::pair<int, int>> ranges_;  // [first, last]; last = INT_MAX for an open range
};

struct SourceOptions {
  int dpi = 300;                          // PDF render resolution; PDF page coordinates are pixels at this dpi
  int max_long_edge = 0;                  // analyse pages downscaled to at most this long edge (0 = no limit);
                                          // reported coordinates stay in the page image's pixels
  int64_t max_pixels = 150'000'000;       // images above this refuse to decode; PDF pages render smaller instead
  int64_t max_file_bytes = int64_t(1) << 30;  // files (and gunzipped PDFs) above this are refused
  PageSelection pages;                    // which pages to process
};

// One page ready for layout analysis.
struct PageImage {
  int page = 0;              // 1-based page (frame) number
  int width = 0, height = 0; // size of the page image that coordinates refer to (the image file itself,
                             // or the PDF page rendered at `dpi`)
  std::optional<int> dpi;    // PDF render dpi, or the image file's resolution when it states one
  cv::Mat gray;              // 8-bit gray pixels to analyse: the page image, downscaled by `scale`
  double scale = 1;          // gray pixels per page-image pixel (<= 1)
};

// Size and resolution read from an image file's header without decoding it.
struct ImageHeader {
  std::string format;        // png | jpeg | tiff | webp | bmp
  std::vector<cv::Size> frames;  // size of each frame (TIFF pages; one for the others)
  std::optional<int> dpi;    // stated resolution (PNG pHYs, JPEG JFIF), if any
};
// Throws InputError when the bytes are not a recognised or well-formed image header.
ImageHeader read_image_header(const std::vector<uint8_t>& bytes);

// An opened input. Not thread-safe (poppler documents must not be shared): one per thread.
class Document {
 public:
  virtual ~Document() = default;
  // Opens a PDF or image by content; throws InputError for a missing, empty, corrupt, encrypted or
  // oversized file.
  static std::unique_ptr<Document> open(const std::string& path, const SourceOptions& options);
  virtual int page_count() const = 0;
  // Renders or decodes one page (1-based); throws InputError naming the file and page.
  virtual PageImage render(int page) = 0;
  virtual bool is_pdf() const = 0;
};

// Rasterises the pages of one PDF with poppler's Splash: 8-bit gray on white paper, text and vector
// graphics anti-aliased, crop box, page rotation applied. The one PDF renderer of infer and harvest,
// so harvested training crops and pages read later have the same pixels (bit for bit those of
// poppler-cpp's page_renderer with the same settings, which harvest used before). Unlike that renderer
// it keeps Splash's font and glyph caches across the pages of a document and composites the page onto
// the paper in one integer pass: ~40% less time per page. Not thread-safe: one per thread.
class PdfRasterizer {
 public:
  // Parses the PDF held in data[0, size), which must outlive the rasterizer; throws InputError naming
  // `path` for a corrupt, encrypted or empty PDF.
  PdfRasterizer(const std::string& path, const uint8_t* data, size_t size);
  ~PdfRasterizer();
  int page_count() const;
  // Displayed size of a page (1-based) in points: the crop box, width and height swapped when the page
  // is rotated by 90 or 270 degrees.
  cv::Size2d page_size(int page) const;
  // The page at `dpi`; throws InputError naming the file and page.
  cv::Mat render(int page, double dpi);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One input file and the base name of its outputs.
struct InputFile {
  std::string path;  // as found
  std::string name;  // output base name relative to the output folder ("report", "scans/p1")
};
// Expands files and folders (recursively; files with a supported extension, sorted) into inputs with
// distinct output names. Missing paths throw std::invalid_argument.
std::vector<InputFile> collect_inputs(const std::vector<std::string>& paths);

// Reads a whole file (at most max_bytes); throws InputError naming the file.
std::vector<uint8_t> read_file_bytes(const std::string& path, int64_t max_bytes);
// Decompresses a gzip file through `gzip -dc`, at most max_bytes of output; throws InputError.
std::vector<uint8_t> gunzip_file(const std::string& path, int64_t max_bytes);

}  // namespace ocrkit::infer
