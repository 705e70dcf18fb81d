// `ocrkit infer`: batch OCR of PDFs and images (in/ -> out/), or crop mode (--lines: one line per image).
#include <cstdio>
#include <opencv2/core/utils/logger.hpp>

#include "app/commands.h"
#include "core/log.h"
#include "core/recognizer.h"
#include "infer/pipeline.h"
#include "infer/writers.h"

namespace ocrkit::app {

namespace {

struct InferArgs {
  std::vector<std::string> inputs;  // --in
  std::string lines;                // --lines (crop mode)
  std::string out;                  // --out: folder, or the TSV in crop mode
  std::string model;                // --model ("" = shipped default)
  std::string pages;                // --pages
  std::string tables;               // --tables csv
  bool skip_existing = false, overwrite = false;
  RecognizerOptions recognizer;
  infer::InferOptions options;
};

void print_errors(const std::vector<std::string>& errors) {
  const size_t shown = 20;
  for (size_t i = 0; i < errors.size() && i < shown; ++i) std::fprintf(stderr, "error: %s\n", errors[i].c_str());
  if (errors.size() > shown) std::fprintf(stderr, "... and %zu more errors\n", errors.size() - shown);
}

void run(InferArgs& a) {
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);  // bad files are reported by us
  if (a.inputs.empty() == a.lines.empty()) {
    std::fprintf(stderr, "error: give either --in PATH... (documents) or --lines LABELS_OR_DIR (crop mode)\n");
    throw ExitCode{2};
  }
  auto& o = a.options;
  std::vector<infer::InputFile> inputs;
  try {
    if (!a.pages.empty()) o.source.pages = infer::PageSelection::parse(a.pages);
    o.tables_csv = a.tables == "csv";
    o.existing = a.skip_existing ? infer::Existing::skip : a.overwrite ? infer::Existing::overwrite : infer::Existing::refuse;
    infer::make_renderers(o.formats);  // validate --format before loading the model
    if (a.lines.empty()) {
      inputs = infer::collect_inputs(a.inputs);
      if (inputs.empty()) throw std::invalid_argument("no PDF or image files found in the --in paths");
    }
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    throw ExitCode{2};
  }

  std::string model = infer::resolve_model(a.model);
  Recognizer recognizer(model, a.recognizer);  // logs the [runtime] and [model] lines
  infer::RecognizeFn recognize = [&](const std::vector<cv::Mat>& crops) { return recognizer.recognize(crops); };

  if (!a.lines.empty()) {
    auto s = infer::run_crop_mode(a.lines, a.out, recognize, o.batch_size > 0 ? o.batch_size : 256);
    print_errors(s.errors);
    std::printf("crops %d, failed %d, %.1f crops/s -> %s\n", s.items, s.failed, s.seconds > 0 ? s.items / s.seconds : 0.0,
                a.out.c_str());
    throw ExitCode{s.failed > 0 ? 3 : 0};
  }

  o.out_dir = a.out;
  o.model = model;
  auto s = infer::run_infer(inputs, o, infer::line_recognizer(recognizer));
  std::vector<std::string> messages;
  for (auto& e : s.errors) messages.push_back(e.message());
  print_errors(messages);
  log_line("infer", s.times_line());
  std::printf("%s -> %s\n", s.line().c_str(), a.out.c_str());
  throw ExitCode{s.exit_code()};
}

}  // namespace

void add_infer_command(CLI::App& app) {
  auto a = std::make_shared<InferArgs>();
  auto* cmd = app.add_subcommand("infer", "OCR PDFs and images into text, markdown, page JSON and hOCR (or line crops into a TSV)");
  auto* in = cmd->add_option("--in", a->inputs, "input files or folders (PDF, PDF.GZ, PNG, JPEG, TIFF, WebP, BMP)");
  auto* lines = cmd->add_option("--lines", a->lines, "crop mode: a label file or folder of line images, one line each");
  in->excludes(lines);
  cmd->add_option("--out", a->out, "output folder (crop mode: the TSV file)")->required();
  cmd->add_option("--model", a->model, "checkpoint (default: the shipped printed model, models/printed-v1.ckpt)");
  auto& o = a->options;
  cmd->add_option("--format", o.formats, "outputs, comma separated: txt, md, json, hocr")->capture_default_str();
  cmd->add_option("--dpi", o.source.dpi, "PDF render resolution")->capture_default_str()->check(CLI::Range(36, 1200));
  cmd->add_option("--pages", a->pages, "pages to process, e.g. 1-3,7,10- (default: all)");
  cmd->add_option("--max-long-edge", o.source.max_long_edge,
                  "analyse pages downscaled to this long edge in pixels (0 = no limit); coordinates stay in page pixels")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-pixels", o.source.max_pixels, "images above this many pixels are refused (PDF pages render at a lower resolution instead)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--batch-size", o.batch_size, "lines per recognition batch, collected across pages")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--jobs", o.jobs, "threads rendering and analysing pages (0 = all cores; on a GPU all but two, which feed it)")->check(CLI::NonNegativeNumber);
  auto* skip = cmd->add_flag("--skip-existing", a->skip_existing, "skip inputs whose outputs all exist (resume)");
  auto* over = cmd->add_flag("--overwrite", a->overwrite, "redo inputs whose outputs exist");
  skip->excludes(over);
  cmd->add_flag("--visualize", o.visualize, "also write NAME.page-NNN.png with the boxes drawn");
  cmd->add_option("--crops", o.crops_dir, "save picture regions (with padding) and manifest.json into this folder");
  cmd->add_option("--tables", a->tables, "csv: also write one CSV per table per page")->check(CLI::IsMember({"csv"}));
  cmd->add_option("--binarize", o.layout.binarize, "otsu | sauvola | auto (sauvola when the lighting is uneven; on noisy paper otsu plus faint strokes)")
      ->capture_default_str()->check(CLI::IsMember({"auto", "otsu", "sauvola"}));
  cmd->add_flag("!--no-deskew", o.layout.deskew, "do not estimate and correct page skew");
  add_runtime_options(cmd, a->recognizer.runtime);
  cmd->callback([a] { run(*a); });
}

}  // namespace ocrkit::app
