// Output writers, one renderer per format, chained (as tesseract's renderer.h): the first renderer
// writes its file and hands the document on. Every file is written atomically (temp file + rename),
// so a killed run leaves complete files or none.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "infer/result.h"

namespace ocrkit::infer {

class Renderer {
 public:
  virtual ~Renderer() = default;
  virtual std::string extension() const = 0;  // "txt", "json", "md", "hocr"
  virtual std::string render(const DocumentResult& doc) const = 0;

  // Appends a renderer at the end of the chain.
  void insert(std::unique_ptr<Renderer> next);
  // Writes out_dir/NAME.ext for this renderer and every one after it.
  void write(const DocumentResult& doc, const std::string& out_dir) const;
  // The output paths of the chain for a base name.
  std::vector<std::string> outputs(const std::string& out_dir, const std::string& name) const;

 private:
  std::unique_ptr<Renderer> next_;
};

// A chain for formats like "txt,md,json,hocr"; throws std::invalid_argument on an unknown format.
std::unique_ptr<Renderer> make_renderers(const std::string& formats);

// Plain text in reading order, lines separated by newlines, paragraphs by a blank line, pages by \f.
std::string render_text(const DocumentResult& doc);
std::string render_markdown(const DocumentResult& doc);
std::string render_hocr(const DocumentResult& doc);

}  // namespace ocrkit::infer
