#include "infer/page_source.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
// poppler's own (unstable) API, from libpoppler-private-dev: poppler-cpp has no way to keep the
// renderer's font caches between pages.
#include <poppler/ErrorCodes.h>
#include <poppler/GlobalParams.h>
#include <poppler/PDFDoc.h>
#include <poppler/SplashOutputDev.h>
#include <poppler/Stream.h>
#include <poppler/goo/gmem.h>
#include <poppler/splash/SplashBitmap.h>
#include <poppler/splash/SplashFont.h>

extern char** environ;

namespace ocrkit::infer {
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------------
// Page selection

PageSelection PageSelection::parse(const std::string& text) {
  PageSelection sel;
  auto number = [&](const std::string& s) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 9)
      throw std::invalid_argument("bad page list '" + text + "': '" + s + "' is not a page number");
    int v = std::stoi(s);
    if (v < 1) throw std::invalid_argument("bad page list '" + text + "': pages start at 1");
    return v;
  };
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t dash = item.find('-');
    int first, last;
    if (dash == std::string::npos) {
      first = last = number(item);
    } else {
      first = number(item.substr(0, dash));
      std::string tail = item.substr(dash + 1);
      last = tail.empty() ? INT_MAX : number(tail);
      if (last < first) throw std::invalid_argument("bad page list '" + text + "': range '" + item + "' is reversed");
    }
    sel.ranges_.emplace_back(first, last);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return sel;
}

std::vector<int> PageSelection::select(int count) const {
  std::vector<int> pages;
  for (int p = 1; p <= count; ++p) {
    bool in = all();
    for (auto& [a, b] : ranges_) in = in || (p >= a && p <= b);
    if (in) pages.push_back(p);
  }
  return pages;
}

// ---------------------------------------------------------------------------------------------------
// File reading

std::vector<uint8_t> read_file_bytes(const std::string& path, int64_t max_bytes) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) throw InputError(path + ": cannot read file (" + ec.message() + ")");
  if (size == 0) throw InputError(path + ": empty file (0 bytes)");
  if (int64_t(size) > max_bytes)
    throw InputError(path + ": file is " + std::to_string(size) + " bytes, above the limit of " + std::to_string(max_bytes));
  std::vector<uint8_t> bytes(size);
  std::ifstream in(path, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(size)))
    throw InputError(path + ": cannot read file");
  return bytes;
}

std::vector<uint8_t> gunzip_file(const std::string& path, int64_t max_bytes) {
  int fds[2];
  if (pipe(fds) != 0) throw InputError(path + ": cannot create a pipe for gzip");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::string p = path;
  char* argv[] = {const_cast<char*>("gzip"), const_cast<char*>("-dc"), const_cast<char*>("--"), p.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "gzip", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw InputError(path + ": cannot run gzip to decompress (" + std::strerror(rc) + ")");
  }
  std::vector<uint8_t> out;
  bool too_big = false;
  uint8_t buf[1 << 16];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (int64_t(out.size()) + n > max_bytes) {
      too_big = true;
      kill(pid, SIGKILL);
      break;
    }
    out.insert(out.end(), buf, buf + n);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (too_big) throw InputError(path + ": decompresses to more than " + std::to_string(max_bytes) + " bytes");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw InputError(path + ": not a valid gzip file");
  if (out.empty()) throw InputError(path + ": decompresses to an empty file");
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Image headers

namespace {

uint32_t be16(const uint8_t* p) { return uint32_t(p[0]) << 8 | p[1]; }
uint32_t be32(const uint8_t* p) { return be16(p) << 16 | be16(p + 2); }
uint32_t le16(const uint8_t* p) { return uint32_t(p[1]) << 8 | p[0]; }
uint32_t le32(const uint8_t* p) { return le16(p + 2) << 16 | le16(p); }

bool starts_with(const std::vector<uint8_t>& b, const char* magic, size_t n, size_t at = 0) {
  return b.size() >= at + n && std::memcmp(b.data() + at, magic, n) == 0;
}

void parse_png(const std::vector<uint8_t>& b, ImageHeader& h) {
  if (b.size() < 33 || !starts_with(b, "IHDR", 4, 12)) throw InputError("truncated PNG header");
  h.frames.push_back(cv::Size(int(std::min<uint32_t>(be32(&b[16]), INT_MAX)), int(std::min<uint32_t>(be32(&b[20]), INT_MAX))));
  for (size_t at = 8; at + 12 <= b.size();) {  // chunks before the image data: look for pHYs
    uint32_t len = be32(&b[at]);
    if (starts_with(b, "IDAT", 4, at + 4)) break;
    if (starts_with(b, "pHYs", 4, at + 4) && len >= 9 && at + 17 <= b.size() && b[at + 16] == 1)
      h.dpi = int(std::lround(be32(&b[at + 8]) * 0.0254));
    if (len > b.size()) break;
    at += 12 + size_t(len);
  }
}

void parse_jpeg(const std::vector<uint8_t>& b, ImageHeader& h) {
  for (size_t at = 2; at + 4 <= b.size();) {
    if (b[at] != 0xFF) throw InputError("corrupt JPEG marker stream");
    uint8_t m = b[at + 1];
    if (m == 0xFF) { ++at; continue; }
    size_t len = be16(&b[at + 2]);
    if (m == 0xE0 && at + 16 <= b.size() && starts_with(b, "JFIF", 4, at + 4)) {
      int unit = b[at + 11], dens = int(be16(&b[at + 12]));
      if (unit == 1 && dens > 1) h.dpi = dens;
      if (unit == 2 && dens > 1) h.dpi = int(std::lround(dens * 2.54));
    }
    bool sof = (m >= 0xC0 && m <= 0xCF) && m != 0xC4 && m != 0xC8 && m != 0xCC;
    if (sof) {
      if (at + 9 > b.size()) break;
      h.frames.push_back(cv::Size(int(be16(&b[at + 7])), int(be16(&b[at + 5]))));
      return;
    }
    at += 2 + len;
  }
  throw InputError("truncated JPEG (no frame header)");
}

void parse_tiff(const std::vector<uint8_t>& b, ImageHeader& h) {
  bool le = b[0] == 'I';
  auto u16 = [&](size_t at) { return at + 2 <= b.size() ? (le ? le16(&b[at]) : be16(&b[at])) : 0u; };
  auto u32 = [&](size_t at) { return at + 4 <= b.size() ? (le ? le32(&b[at]) : be32(&b[at])) : 0u; };
  size_t ifd = u32(4);
  std::vector<size_t> seen;
  while (ifd != 0) {
    if (ifd + 2 > b.size() || std::find(seen.begin(), seen.end(), ifd) != seen.end() || seen.size() > 100000)
      throw InputError("corrupt TIFF directory chain");
    seen.push_back(ifd);
    size_t n = u16(ifd);
    uint32_t w = 0, hgt = 0;
    for (size_t i = 0; i < n; ++i) {
      size_t e = ifd + 2 + 12 * i;
      if (e + 12 > b.size()) throw InputError("truncated TIFF directory");
      uint32_t tag = u16(e), type = u16(e + 2), v = type == 3 ? u16(e + 8) : u32(e + 8);
      if (tag == 256) w = v;
      if (tag == 257) hgt = v;
    }
    if (w == 0 || hgt == 0) throw InputError("TIFF page without a size");
    h.frames.push_back(cv::Size(int(std::min<uint32_t>(w, INT_MAX)), int(std::min<uint32_t>(hgt, INT_MAX))));
    ifd = u32(ifd + 2 + 12 * n);
  }
  if (h.frames.empty()) throw InputError("TIFF without pages");
}

void parse_webp(const std::vector<uint8_t>& b, ImageHeader& h) {
  if (b.size() < 30) throw InputError("truncated WebP header");
  if (starts_with(b, "VP8 ", 4, 12)) {
    h.frames.push_back(cv::Size(int(le16(&b[26]) & 0x3FFF), int(le16(&b[28]) & 0x3FFF)));
  } else if (starts_with(b, "VP8L", 4, 12)) {
    uint32_t bits = le32(&b[21]);
    h.frames.push_back(cv::Size(int((bits & 0x3FFF) + 1), int(((bits >> 14) & 0x3FFF) + 1)));
  } else if (starts_with(b, "VP8X", 4, 12)) {
    auto u24 = [&](size_t at) { return int(b[at] | b[at + 1] << 8 | b[at + 2] << 16); };
    h.frames.push_back(cv::Size(u24(24) + 1, u24(27) + 1));
  } else {
    throw InputError("unknown WebP chunk");
  }
}

}  // namespace

ImageHeader read_image_header(const std::vector<uint8_t>& b) {
  ImageHeader h;
  if (starts_with(b, "\x89PNG\r\n\x1a\n", 8)) {
    h.format = "png";
    parse_png(b, h);
  } else if (starts_with(b, "\xFF\xD8", 2)) {
    h.format = "jpeg";
    parse_jpeg(b, h);
  } else if (starts_with(b, "II*\0", 4) || starts_with(b, "MM\0*", 4)) {
    h.format = "tiff";
    parse_tiff(b, h);
  } else if (starts_with(b, "RIFF", 4) && starts_with(b, "WEBP", 4, 8)) {
    h.format = "webp";
    parse_webp(b, h);
  } else if (starts_with(b, "BM", 2) && b.size() >= 26) {
    h.format = "bmp";
    h.frames.push_back(cv::Size(std::abs(int32_t(le32(&b[18]))), std::abs(int32_t(le32(&b[22])))));
  } else {
    throw InputError("not a supported image format (PNG, JPEG, TIFF, WebP, BMP) or PDF");
  }
  for (auto& s : h.frames)
    if (s.width <= 0 || s.height <= 0) throw InputError("image header states an empty size");
  return h;
}

// ---------------------------------------------------------------------------------------------------
// Documents

namespace {

// Downscales `gray` (if needed) so its long edge is at most max_long_edge.
double analysis_scale(int w, int h, const SourceOptions& o) {
  double s = 1;
  if (o.max_long_edge > 0 && std::max(w, h) > o.max_long_edge) s = double(o.max_long_edge) / std::max(w, h);
  if (double(w) * h * s * s > double(o.max_pixels)) s = std::sqrt(double(o.max_pixels) / (double(w) * h));
  return s;
}

std::string page_where(const std::string& path, int page) { return path + " page " + std::to_string(page); }

void ignore_poppler_messages(ErrorCategory, Goffset, const char*) {}

}  // namespace

// Splash caches 8 glyph bitmaps per font (one set) once a glyph's box passes 1,024 bytes
// (SplashFont::initCache), which body text does from about 150 dpi; with 4 sub-pixel positions per
// glyph, every page then re-rasterises its characters through FreeType (half the render time at
// 200 dpi). This output device gives each font a larger cache after Splash makes it; the cache holds the
// same bitmaps, so the pixels do not change. SplashFont's cache fields are protected, reached here by
// pointers to members taken through a derived class; the tag layout is SplashFont.cc's
// SplashFontCacheTag (unchanged since xpdf 3).
class GlyphCachingOutputDev : public SplashOutputDev {
 public:
  using SplashOutputDev::SplashOutputDev;

  void drawChar(GfxState* state, double x, double y, double dx, double dy, double origin_x, double origin_y, CharCode code,
                int bytes, const Unicode* u, int u_len) override {
    SplashOutputDev::drawChar(state, x, y, dx, dy, origin_x, origin_y, code, bytes, u, u_len);
    if (SplashFont* font = getCurrentFont()) grow_cache(*font);
  }

 private:
  struct CacheTag {  // SplashFontCacheTag
    int c;
    short x_frac, y_frac;
    int mru;  // valid bit (0x80000000) and rank in its set
    int x, y, w, h;
  };
  struct Fields : SplashFont {  // never made: names SplashFont's protected members
    static constexpr auto cache = &Fields::cache;
    static constexpr auto tags = &Fields::cacheTags;
    static constexpr auto glyph_size = &Fields::glyphSize;
    static constexpr auto sets = &Fields::cacheSets;
    static constexpr auto assoc = &Fields::cacheAssoc;
  };
  static constexpr int kCacheBytes = 1 << 20;  // per font, at most
  static constexpr int kMaxSets = 64;          // sets are picked by the low bits of the char code

  static void grow_cache(SplashFont& f) {
    const int assoc = f.*Fields::assoc, size = f.*Fields::glyph_size;  // assoc 0: Splash has no cache
    if (assoc <= 0 || size <= 0) return;
    int sets = f.*Fields::sets;
    while (sets < kMaxSets && int64_t(sets) * 2 * assoc * size <= kCacheBytes) sets *= 2;
    if (sets == f.*Fields::sets) return;  // grown already, or glyphs too large for more
    auto* cache = static_cast<unsigned char*>(gmallocn_checkoverflow(sets * assoc, size));
    if (!cache) return;
    auto* tags = static_cast<CacheTag*>(gmallocn(sets * assoc, int(sizeof(CacheTag))));
    for (int i = 0; i < sets * assoc; ++i) tags[i] = CacheTag{0, 0, 0, i & (assoc - 1), 0, 0, 0, 0};  // all invalid
    gfree(f.*Fields::cache);
    gfree(f.*Fields::tags);
    f.*Fields::cache = cache;
    f.*Fields::tags = reinterpret_cast<SplashFontCacheTag*>(tags);
    f.*Fields::sets = sets;
  }
};

struct PdfRasterizer::Impl {
  std::string path;
  GlobalParamsIniter params{ignore_poppler_messages};  // poppler's global state, reference-counted
  std::unique_ptr<PDFDoc> doc;
  // No paper colour: Splash then leaves coverage in the alpha plane instead of compositing the page
  // in its generic (slow) per-pixel loop; render() composites onto white itself.
  GlyphCachingOutputDev splash{splashModeMono8, 4, false, nullptr, true, splashThinLineDefault};
  bool started = false;
};

PdfRasterizer::PdfRasterizer(const std::string& path, const uint8_t* data, size_t size) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  if (size > size_t(INT_MAX)) throw InputError(path + ": PDF too large");
  auto* stream = new MemStream(reinterpret_cast<const char*>(data), 0, Goffset(size), Object(objNull));
  impl_->doc = std::make_unique<PDFDoc>(stream);  // owns the stream
  if (!impl_->doc->isOk()) {
    if (impl_->doc->getErrorCode() == errEncrypted) throw InputError(path + ": encrypted PDF (a password is required)");
    throw InputError(path + ": cannot open PDF (corrupt, truncated or not a PDF)");
  }
  if (impl_->doc->getNumPages() <= 0) throw InputError(path + ": PDF has no pages");
  impl_->splash.setFontAntialias(true);
  impl_->splash.setVectorAntialias(true);
  impl_->splash.setFreeTypeHinting(false, false);
}

PdfRasterizer::~PdfRasterizer() = default;

int PdfRasterizer::page_count() const { return impl_->doc->getNumPages(); }

cv::Size2d PdfRasterizer::page_size(int page) const {
  if (page < 1 || page > page_count()) throw InputError(page_where(impl_->path, page) + ": no such page");
  cv::Size2d size(impl_->doc->getPageCropWidth(page), impl_->doc->getPageCropHeight(page));
  if (impl_->doc->getPageRotate(page) % 180 != 0) std::swap(size.width, size.height);
  return size;
}

cv::Mat PdfRasterizer::render(int page, double dpi) {
  if (page < 1 || page > page_count()) throw InputError(page_where(impl_->path, page) + ": no such page");
  if (!impl_->started) {
    impl_->splash.startDoc(impl_->doc.get());  // creates the font engine, kept for every later page
    impl_->started = true;
  }
  impl_->doc->displayPageSlice(&impl_->splash, page, dpi, dpi, 0, /*useMediaBox=*/false, /*crop=*/true,
                               /*printing=*/false, -1, -1, -1, -1);
  SplashBitmap* bitmap = impl_->splash.getBitmap();
  if (!bitmap || bitmap->getWidth() <= 0 || bitmap->getHeight() <= 0 || !bitmap->getAlphaPtr())
    throw InputError(page_where(impl_->path, page) + ": poppler could not render the page");
  // Coverage over white paper, with Splash's own rounding (div255 of its compositeBackground). Every
  // step fits 16 bits (v <= 65025, + 254 + 128), so the loop vectorises with 16-bit lanes.
  cv::Mat gray(bitmap->getHeight(), bitmap->getWidth(), CV_8UC1);
  const int cols = gray.cols;  // a local: byte stores may alias gray.cols, which would stop vectorising
  for (int y = 0; y < gray.rows; ++y) {
    const uint8_t* __restrict ink = bitmap->getDataPtr() + size_t(y) * size_t(bitmap->getRowSize());
    const uint8_t* __restrict alpha = bitmap->getAlphaPtr() + size_t(y) * size_t(bitmap->getAlphaRowSize());
    uint8_t* __restrict out = gray.ptr<uint8_t>(y);
    for (int x = 0; x < cols; ++x) {
      const uint16_t a = alpha[x];
      const uint16_t v = uint16_t((255 - a) * 255 + a * ink[x]);
      out[x] = uint8_t(uint16_t(v + (v >> 8) + 0x80) >> 8);
    }
  }
  return gray;
}

namespace {

class PdfDocument : public Document {
 public:
  PdfDocument(std::string path, const SourceOptions& o, std::vector<uint8_t> data)
      : path_(std::move(path)), opt_(o), data_(std::move(data)), pdf_(path_, data_.data(), data_.size()) {}
  int page_count() const override { return pdf_.page_count(); }
  bool is_pdf() const override { return true; }

  PageImage render(int page) override {
    cv::Size2d pt = pdf_.page_size(page);  // throws for a page that is not there
    PageImage out;
    out.page = page;
    out.dpi = opt_.dpi;
    out.width = int(std::lround(pt.width * opt_.dpi / 72.0));
    out.height = int(std::lround(pt.height * opt_.dpi / 72.0));
    if (out.width <= 0 || out.height <= 0 || out.width > 1'000'000 || out.height > 1'000'000)
      throw InputError(page_where(path_, page) + ": unusable page size " + std::to_string(pt.width) + "x" + std::to_string(pt.height) + " pt");
    // Render directly at the analysis resolution instead of rendering big and shrinking.
    out.gray = pdf_.render(page, opt_.dpi * analysis_scale(out.width, out.height, opt_));
    out.scale = double(out.gray.cols) / out.width;
    return out;
  }

 private:
  std::string path_;
  SourceOptions opt_;
  std::vector<uint8_t> data_;  // the (gunzipped) file: poppler reads from it for the document's lifetime
  PdfRasterizer pdf_;
};

class ImageDocument : public Document {
 public:
  ImageDocument(std::string path, const SourceOptions& o, std::vector<uint8_t> data)
      : path_(std::move(path)), opt_(o), data_(std::move(data)) {
    try {
      header_ = read_image_header(data_);
    } catch (const InputError& e) {
      throw InputError(path_ + ": " + e.what());
    }
    for (size_t i = 0; i < header_.frames.size(); ++i) {
      cv::Size s = header_.frames[i];
      if (double(s.width) * s.height > double(opt_.max_pixels))
        throw InputError(path_ + (header_.frames.size() > 1 ? " page " + std::to_string(i + 1) : std::string()) +
                         ": image of " + std::to_string(s.width) + "x" + std::to_string(s.height) +
                         " pixels is above the limit of " + std::to_string(opt_.max_pixels) + " pixels");
    }
  }
  int page_count() const override { return int(header_.frames.size()); }
  bool is_pdf() const override { return false; }

  PageImage render(int page) override {
    if (page < 1 || page > page_count()) throw InputError(page_where(path_, page) + ": no such page");
    cv::Mat m;
    if (page_count() == 1) {
      m = cv::imdecode(data_, cv::IMREAD_GRAYSCALE);
    } else {
      std::vector<cv::Mat> frames;
      if (cv::imreadmulti(path_, frames, page - 1, 1, cv::IMREAD_GRAYSCALE) && !frames.empty()) m = frames[0];
    }
    if (m.empty()) throw InputError(page_where(path_, page) + ": cannot decode the " + header_.format + " image (truncated or corrupt)");
    PageImage out;
    out.page = page;
    out.width = m.cols;  // EXIF orientation may swap the header's sizes: the decoded image is the page
    out.height = m.rows;
    out.dpi = header_.dpi;
    double s = analysis_scale(m.cols, m.rows, opt_);
    if (s < 1) {
      cv::resize(m, out.gray, cv::Size(std::max(1, int(std::lround(m.cols * s))), std::max(1, int(std::lround(m.rows * s)))),
                 0, 0, cv::INTER_AREA);
    } else {
      out.gray = m;
    }
    out.scale = double(out.gray.cols) / out.width;
    return out;
  }

 private:
  std::string path_;
  SourceOptions opt_;
  std::vector<uint8_t> data_;
  ImageHeader header_;
};

bool has_suffix(std::string s, const std::string& suffix) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::unique_ptr<Document> Document::open(const std::string& path, const SourceOptions& o) {
  std::vector<uint8_t> data;
  if (has_suffix(path, ".gz")) {
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    if (ec) throw InputError(path + ": cannot read file (" + ec.message() + ")");
    if (size == 0) throw InputError(path + ": empty file (0 bytes)");
    data = gunzip_file(path, o.max_file_bytes);
  } else {
    data = read_file_bytes(path, o.max_file_bytes);
  }
  bool pdf = starts_with(data, "%PDF", 4) || has_suffix(path, ".pdf") || has_suffix(path, ".pdf.gz");
  if (pdf) return std::make_unique<PdfDocument>(path, o, std::move(data));
  return std::make_unique<ImageDocument>(path, o, std::move(data));
}

// ---------------------------------------------------------------------------------------------------
// Inputs

namespace {
const char* kExtensions[] = {".pdf", ".pdf.gz", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"};

// "report.pdf.gz" -> "report", "scan.png" -> "scan".
std::string strip_extension(const std::string& rel) {
  for (const char* e : kExtensions)
    if (has_suffix(rel, e)) return rel.substr(0, rel.size() - std::strlen(e));
  return fs::path(rel).replace_extension().string();
}
}  // namespace

std::vector<InputFile> collect_inputs(const std::vector<std::string>& paths) {
  std::vector<InputFile> inputs;
  for (const auto& arg : paths) {
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(arg, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        std::string s = it->path().string();
        if (std::any_of(std::begin(kExtensions), std::end(kExtensions), [&](const char* e) { return has_suffix(s, e); }))
          found.push_back(it->path());
      }
      std::sort(found.begin(), found.end());
      for (auto& f : found)
        inputs.push_back({f.string(), strip_extension(fs::relative(f, arg, ec).string())});
    } else if (fs::exists(arg, ec)) {
      inputs.push_back({arg, strip_extension(fs::path(arg).filename().string())});
    } else {
      throw std::invalid_argument(arg + ": no such file or folder");
    }
  }
  // Distinct output names: "scan" from scan.png and scan.pdf become "scan.png" and "scan.pdf".
  std::map<std::string, int> uses;
  for (auto& in : inputs) ++uses[in.name];
  for (auto& in : inputs)
    if (uses[in.name] > 1) in.name = (fs::path(in.name).parent_path() / fs::path(in.path).filename()).string();
  std::map<std::string, int> seen;
  for (auto& in : inputs)
    if (int n = seen[in.name]++) in.name += "." + std::to_string(n + 1);
  return inputs;
}

}  // namespace ocrkit::infer
