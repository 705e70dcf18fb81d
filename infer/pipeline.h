// `ocrkit infer` as a library: inputs -> pages (rendered and analysed on a thread pool) -> batched
// recognition on the calling thread -> writers. The recognizer is a function, so tests run the whole
// pipeline with a stand-in and the CLI passes core/recognizer.h's Recognizer.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/recognizer.h"
#include "infer/layout.h"
#include "infer/page_source.h"
#include "infer/result.h"

namespace ocrkit::infer {

// Recognizes line crops; results in input order (Recognizer::recognize).
using RecognizeFn = std::function<std::vector<LineResult>(const std::vector<cv::Mat>&)>;

// Recognition in two steps: `prepare` runs on the page threads right after layout analysis (per-line
// CPU work, off the thread that feeds the model), `recognize` takes whole batches of prepared lines.
struct LineRecognizer {
  std::function<PreparedLine(const cv::Mat&)> prepare;
  std::function<std::vector<LineResult>(const std::vector<PreparedLine>&)> recognize;
  // Cores that `jobs` 0 leaves to the recognition side: feeding a GPU keeps the recognition thread busy
  // (stacking batches, decoding), and the finisher writes documents beside it.
  int reserved_cores = 0;
};
LineRecognizer line_recognizer(Recognizer& recognizer);
// A crop-level function (a test's stand-in): prepare keeps the crop, recognize passes the crops on.
LineRecognizer line_recognizer(const RecognizeFn& recognize);

// What to do with an input whose outputs already exist.
enum class Existing {
  refuse,     // record an error and leave the files alone
  skip,       // skip the input when all its outputs exist (resuming a killed run)
  overwrite,  // process it again
};

struct InferOptions {
  std::string out_dir;                  // NAME.txt/.md/.json/.hocr and errors.json go here
  std::string formats = "txt,md,json";  // comma list of txt, md, json, hocr
  std::string model;                    // checkpoint path recorded in the page JSON
  SourceOptions source;                 // rendering, page selection, size limits
  LayoutOptions layout;                 // layout analysis
  int jobs = 0;                         // threads rendering and analysing pages (0 = hardware threads)
  int batch_size = 256;                 // lines per recognize() call, collected across pages and files
  Existing existing = Existing::refuse; // inputs whose outputs exist
  bool visualize = false;               // also write NAME.page-NNN.png with line, word, picture, table boxes
  std::string crops_dir;                // save picture crops and manifest.json here (empty = don't)
  bool tables_csv = false;              // also write NAME.page-NNN.table-K.csv for each table
  bool progress = true;                 // progress bar / periodic progress lines on stderr
};

struct InferSummary {
  int files = 0;          // inputs given
  int files_done = 0;     // inputs whose outputs were written
  int files_skipped = 0;  // inputs skipped (--skip-existing)
  int files_failed = 0;   // inputs with no usable page (nothing written)
  int pages = 0;          // pages recognised
  int pages_failed = 0;   // pages that could not be rendered or recognised
  int64_t lines = 0;      // lines recognised
  double seconds = 0;     // wall time
  // Where the time went: render/decode, layout and line preparation are summed over the worker threads
  // (thread-seconds), recognition and writing are wall time on the calling thread.
  double render_seconds = 0, layout_seconds = 0, prepare_seconds = 0, recognize_seconds = 0, write_seconds = 0;
  std::vector<ErrorRecord> errors;  // every failure, also in OUT/errors.json
  int exit_code() const { return errors.empty() ? 0 : 3; }
  std::string line() const;  // "files 3 (1 failed), pages 12, lines 340, errors 1, 4.1 pages/s"
  std::string times_line() const;  // "render/decode 1.2 s, layout 3.4 s, line preparation 0.5 s (thread-seconds); recognition 5.6 s, writing 0.1 s"
};

// Runs the whole batch. Throws only for problems that stop everything (unwritable output folder);
// bad inputs and pages become errors in the summary.
InferSummary run_infer(const std::vector<InputFile>& inputs, const InferOptions& options, const LineRecognizer& recognizer);
InferSummary run_infer(const std::vector<InputFile>& inputs, const InferOptions& options, const RecognizeFn& recognize);

// The words of a recognised line (split at spaces) with boxes in the layout's straight frame, placed by
// the recognizer's character positions (or, without them, by character count).
std::vector<WordResult> split_words(const LayoutLine& line, const LineResult& result);

// List markers (bullets, "1.", "(a)") set apart from their item by more than a column gap come out of
// the layout as a narrow column of their own; each joins the line level with it on its right (boxes and
// words merged, the marker line removed). They are recognised alone because a wide gap inside one crop
// makes the recognizer drop the item's spaces. text_height in the lines' pixels.
bool is_list_marker(const std::string& text);
void attach_list_markers(std::vector<LineOut>& lines, double text_height);

// Crop mode: each image is one line. Writes `path<TAB>prediction<TAB>confidence` in input order.
struct CropSummary {
  int items = 0;                    // images listed
  int failed = 0;                   // unreadable images (written with an empty prediction) and bad labels
  std::vector<std::string> errors;  // one message per failure
  double seconds = 0;
};
// `source` is a label file, a folder with labels, or a folder of images.
CropSummary run_crop_mode(const std::string& source, const std::string& out_tsv, const RecognizeFn& recognize,
                          int batch_size = 256, int64_t max_pixels = 50'000'000);

// The checkpoint to use: `requested` when given (it must exist), else the shipped printed model
// (models/printed-v1.ckpt) looked up in $OCRKIT_MODELS, beside the executable (../share/ocrkit/models,
// models/), in the source tree and in /usr/local/share and /usr/share. Throws std::runtime_error
// listing the places searched.
std::string resolve_model(const std::string& requested);

}  // namespace ocrkit::infer
