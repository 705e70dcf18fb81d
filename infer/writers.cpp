#include "infer/writers.h"

#include "core/text.h"
#include "core/fs.h"
#include "core/parallel.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace ocrkit::infer {
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

// ---------------------------------------------------------------------------------------------------
// JSON, CSV

static double round4(double v) { return std::round(v * 1e4) / 1e4; }

json bbox_json(const cv::Rect& r) { return json::array({r.x, r.y, r.x + r.width, r.y + r.height}); }

json ErrorRecord::to_json() const {
  return {{"source", source}, {"page", page > 0 ? json(page) : json(nullptr)}, {"reason", reason}};
}

json errors_json(const std::vector<ErrorRecord>& errors) {
  json a = json::array();
  for (auto& e : errors) a.push_back(e.to_json());
  return a;
}

std::string ErrorRecord::message() const {
  if (reason.rfind(source, 0) == 0) return reason;
  return source + (page > 0 ? " page " + std::to_string(page) : std::string()) + ": " + reason;
}

namespace {
json page_json(const PageResult& p) {
  json lines = json::array();
  for (auto& l : p.lines) {
    json words = json::array();
    for (auto& w : l.words)
      words.push_back({{"bbox", bbox_json(w.bbox)}, {"text", w.text}, {"confidence", round4(w.confidence)}});
    lines.push_back({{"bbox", bbox_json(l.bbox)}, {"text", l.text}, {"confidence", round4(l.confidence)}, {"words", std::move(words)}});
  }
  json pictures = json::array(), tables = json::array();
  for (auto& r : p.pictures) pictures.push_back({{"bbox", bbox_json(r)}});
  for (auto& t : p.tables) tables.push_back({{"bbox", bbox_json(t.bbox)}, {"csv", t.csv()}});
  return {{"page", p.page}, {"width", p.width}, {"height", p.height}, {"dpi", p.dpi ? json(*p.dpi) : json(nullptr)},
          {"angle", p.angle}, {"lines", std::move(lines)}, {"pictures", std::move(pictures)}, {"tables", std::move(tables)}};
}
}  // namespace

json DocumentResult::to_json() const {
  // Parts are moved in: nlohmann's initializer lists copy what they are given as lvalues.
  json pages_j = json::array();
  for (auto& p : pages) pages_j.push_back(page_json(p));
  return {{"source", source}, {"model", model}, {"pages", std::move(pages_j)}, {"errors", errors_json(errors)}};
}

namespace {
std::string compact(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }
}  // namespace

std::string DocumentResult::json_text() const {
  // 60 pages took ~0.06 s on one thread of the 2-core box. Up to 8 threads: the page threads still run
  // while earlier documents are written.
  std::vector<std::string> page_texts(pages.size());
  parallel_for(int(pages.size()), 8, [&](int i) { page_texts[size_t(i)] = compact(page_json(pages[size_t(i)])); });
  std::string text = "{\"source\":" + compact(source) + ",\"model\":" + compact(model) + ",\"pages\":[";
  for (size_t i = 0; i < page_texts.size(); ++i) (text += i ? "," : "") += page_texts[i];
  return text + "],\"errors\":" + compact(errors_json(errors)) + "}";
}

std::string TableOut::csv() const {
  std::string out;
  for (auto& row : cells) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) out += ',';
      const std::string& v = row[c];
      if (v.find_first_of(",\"\n\r") == std::string::npos) {
        out += v;
      } else {
        out += '"';
        for (char ch : v) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        out += '"';
      }
    }
    out += "\r\n";
  }
  return out;
}

std::string TableOut::markdown() const {
  std::string out;
  auto row_md = [](const std::vector<std::string>& row) {
    std::string s = "|";
    for (auto& v : row) {
      std::string cell;
      for (char ch : v) cell += ch == '|' ? std::string("\\|") : std::string(1, ch);
      s += " " + cell + " |";
    }
    return s + "\n";
  };
  for (size_t r = 0; r < cells.size(); ++r) {
    out += row_md(cells[r]);
    if (r == 0) {
      out += "|";
      for (size_t c = 0; c < cells[0].size(); ++c) out += " --- |";
      out += "\n";
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Text renderers

namespace {

// Consecutive lines of one page grouped into paragraphs, tables standing in for their cell lines.
struct Block {
  std::vector<const LineOut*> lines;  // a paragraph's lines (empty for a table)
  const TableOut* table = nullptr;
};

std::vector<Block> blocks_of(const PageResult& page) {
  std::vector<Block> blocks;
  std::set<int> tables_done;
  for (size_t i = 0; i < page.lines.size(); ++i) {
    const LineOut& l = page.lines[i];
    if (l.table >= 0 && l.table < int(page.tables.size())) {
      if (tables_done.insert(l.table).second) blocks.push_back({{}, &page.tables[size_t(l.table)]});
      continue;
    }
    if (blocks.empty() || blocks.back().table || page.lines[i - 1].paragraph != l.paragraph) blocks.push_back({});
    blocks.back().lines.push_back(&l);
  }
  return blocks;
}

// Joins a paragraph's lines with spaces, rejoining words hyphenated at a line end.
std::string join_lines(const std::vector<const LineOut*>& lines) {
  std::string out;
  for (const LineOut* l : lines) {
    if (l->text.empty()) continue;
    if (!out.empty()) {
      bool hyphen = out.size() > 1 && out.back() == '-' && std::isalpha(static_cast<unsigned char>(out[out.size() - 2])) &&
                    std::islower(static_cast<unsigned char>(l->text[0]));
      if (hyphen) out.pop_back();
      else out += ' ';
    }
    out += l->text;
  }
  return out;
}

std::string bbox_title(const cv::Rect& r) {
  return "bbox " + std::to_string(r.x) + " " + std::to_string(r.y) + " " + std::to_string(r.br().x) + " " +
         std::to_string(r.br().y);
}

class TextRenderer : public Renderer {
  std::string extension() const override { return "txt"; }
  std::string render(const DocumentResult& doc) const override { return render_text(doc); }
};
class JsonRenderer : public Renderer {
  std::string extension() const override { return "json"; }
  std::string render(const DocumentResult& doc) const override { return doc.json_text() + "\n"; }
};
class MarkdownRenderer : public Renderer {
  std::string extension() const override { return "md"; }
  std::string render(const DocumentResult& doc) const override { return render_markdown(doc); }
};
class HocrRenderer : public Renderer {
  std::string extension() const override { return "hocr"; }
  std::string render(const DocumentResult& doc) const override { return render_hocr(doc); }
};

}  // namespace

std::string render_text(const DocumentResult& doc) {
  std::string out;
  for (size_t p = 0; p < doc.pages.size(); ++p) {
    if (p) out += '\f';
    bool first = true;
    for (auto& b : blocks_of(doc.pages[p])) {
      if (!first) out += '\n';
      first = false;
      if (b.table) {
        for (auto& row : b.table->cells) {
          for (size_t c = 0; c < row.size(); ++c) out += (c ? "\t" : "") + row[c];
          out += '\n';
        }
      } else {
        for (auto* l : b.lines) out += l->text + "\n";
      }
    }
  }
  return out;
}

std::string render_markdown(const DocumentResult& doc) {
  std::string out;
  for (size_t p = 0; p < doc.pages.size(); ++p) {
    const PageResult& page = doc.pages[p];
    if (p) out += "\n<!-- page " + std::to_string(page.page) + " -->\n\n";
    std::vector<double> heights;
    for (auto& l : page.lines) heights.push_back(l.bbox.height);
    std::sort(heights.begin(), heights.end());
    double body = heights.empty() ? 0 : heights[heights.size() / 2];
    for (auto& b : blocks_of(page)) {
      if (b.table) {
        out += b.table->markdown() + "\n";
        continue;
      }
      double h = 0;
      for (auto* l : b.lines) h += l->bbox.height;
      h /= double(b.lines.size());
      std::string text = join_lines(b.lines);
      if (text.empty()) continue;
      // Headings by size: short paragraphs set clearly larger than the body text.
      if (b.lines.size() <= 3 && h > 1.6 * body) out += "# ";
      else if (b.lines.size() <= 3 && h > 1.25 * body) out += "## ";
      out += text + "\n\n";
    }
  }
  return out;
}

std::string render_hocr(const DocumentResult& doc) {
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
       "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" "
       "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
       "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n<head>\n<title>"
    << xml_escape(doc.source)
    << "</title>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n"
       "<meta name=\"ocr-system\" content=\"ocrkit\"/>\n"
       "<meta name=\"ocr-capabilities\" content=\"ocr_page ocr_par ocr_line ocrx_word ocr_photo ocr_table\"/>\n"
       "</head>\n<body>\n";
  for (auto& page : doc.pages) {
    int pn = page.page;
    o << "<div class='ocr_page' id='page_" << pn << "' title='image \"" << xml_escape(doc.source) << "\"; "
      << bbox_title(cv::Rect(0, 0, page.width, page.height)) << "; ppageno " << pn - 1 << "'>\n";
    int par = 0, line_no = 0, word_no = 0;
    for (auto& b : blocks_of(page)) {
      std::vector<const LineOut*> lines = b.lines;
      if (b.table) {
        o << " <table class='ocr_table' title='" << bbox_title(b.table->bbox) << "'></table>\n";
        for (auto& l : page.lines)
          if (l.table >= 0 && &page.tables[size_t(l.table)] == b.table) lines.push_back(&l);
      }
      if (lines.empty()) continue;
      cv::Rect pb = lines[0]->bbox;
      for (auto* l : lines) pb |= l->bbox;
      o << " <p class='ocr_par' id='par_" << pn << "_" << ++par << "' title='" << bbox_title(pb) << "'>\n";
      for (auto* l : lines) {
        o << "  <span class='ocr_line' id='line_" << pn << "_" << ++line_no << "' title='" << bbox_title(l->bbox)
          << "; x_wconf " << int(std::lround(l->confidence * 100)) << "'>";
        for (auto& w : l->words)
          o << "<span class='ocrx_word' id='word_" << pn << "_" << ++word_no << "' title='" << bbox_title(w.bbox)
            << "; x_wconf " << int(std::lround(w.confidence * 100)) << "'>" << xml_escape(w.text) << "</span> ";
        o << "</span>\n";
      }
      o << " </p>\n";
    }
    for (auto& r : page.pictures) o << " <div class='ocr_photo' title='" << bbox_title(r) << "'></div>\n";
    o << "</div>\n";
  }
  o << "</body>\n</html>\n";
  return o.str();
}

// ---------------------------------------------------------------------------------------------------
// Chain and files

void Renderer::insert(std::unique_ptr<Renderer> next) {
  if (next_) next_->insert(std::move(next));
  else next_ = std::move(next);
}

void Renderer::write(const DocumentResult& doc, const std::string& out_dir) const {
  write_file_atomically((fs::path(out_dir) / (doc.name + "." + extension())).string(), render(doc));
  if (next_) next_->write(doc, out_dir);
}

std::vector<std::string> Renderer::outputs(const std::string& out_dir, const std::string& name) const {
  std::vector<std::string> paths = {(fs::path(out_dir) / (name + "." + extension())).string()};
  if (next_) {
    auto rest = next_->outputs(out_dir, name);
    paths.insert(paths.end(), rest.begin(), rest.end());
  }
  return paths;
}

std::unique_ptr<Renderer> make_renderers(const std::string& formats) {
  std::unique_ptr<Renderer> head;
  std::set<std::string> seen;
  std::stringstream ss(formats);
  for (std::string f; std::getline(ss, f, ',');) {
    if (f.empty() || !seen.insert(f).second) continue;
    std::unique_ptr<Renderer> r;
    if (f == "txt") r = std::make_unique<TextRenderer>();
    else if (f == "json") r = std::make_unique<JsonRenderer>();
    else if (f == "md") r = std::make_unique<MarkdownRenderer>();
    else if (f == "hocr") r = std::make_unique<HocrRenderer>();
    else throw std::invalid_argument("unknown output format '" + f + "' (txt, md, json, hocr)");
    if (head) head->insert(std::move(r));
    else head = std::move(r);
  }
  if (!head) throw std::invalid_argument("no output format given (txt, md, json, hocr)");
  return head;
}

}  // namespace ocrkit::infer
