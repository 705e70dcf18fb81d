// `ocrkit eval`: a checkpoint over a labelled set (kept apart from evaluate.cpp so that tests which only
// score predictions do not need the recognizer).
#include <algorithm>
#include <chrono>
#include <filesystem>

#include "core/log.h"
#include "core/sha256.h"
#include "eval/evaluate.h"

namespace ocrkit::eval {

namespace {

// Recognises the readable crops of one batch; a failing batch is retried item by item so that one bad
// image only costs its own sample.
void recognize_batch(Recognizer& rec, std::vector<Sample*>& batch, std::vector<cv::Mat>& images) {
  if (images.empty()) return;
  try {
    const auto results = rec.recognize(images);
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i]->prediction = results[i].text;
      batch[i]->confidence = results[i].confidence;
    }
  } catch (const std::exception& e) {
    if (images.size() == 1) {
      batch[0]->error = std::string("recognition failed: ") + e.what();
      log_line("eval", batch[0]->path + ": " + batch[0]->error);
    } else {
      log_line("eval", std::string("batch failed (") + e.what() + "); retrying its " +
                           std::to_string(images.size()) + " crops one by one");
      for (size_t i = 0; i < images.size(); ++i) {
        std::vector<Sample*> one{batch[i]};
        std::vector<cv::Mat> img{images[i]};
        recognize_batch(rec, one, img);
      }
    }
  }
  batch.clear();
  images.clear();
}

}  // namespace

EvalRun evaluate_model(const ModelEvalOptions& opt) {
  const auto start = std::chrono::steady_clock::now();
  Recognizer rec(opt.model_path, opt.recognizer);  // logs the [runtime] line
  EvalRun r;
  r.samples = load_truth(opt.data_path, r);
  const int batch_size = std::max(1, opt.batch_size);
  Progress progress("eval", static_cast<int64_t>(r.samples.size()), "line");
  double recognize_s = 0;
  int64_t recognized = 0, unreadable = 0;
  std::vector<Sample*> batch;
  std::vector<cv::Mat> images;
  for (size_t i = 0; i < r.samples.size(); ++i) {
    Sample& s = r.samples[i];
    try {
      images.push_back(read_image(s.path));
      batch.push_back(&s);
    } catch (const std::exception& e) {
      s.error = e.what();
      ++unreadable;
      add_problem(r, s.path + ": " + s.error);
    }
    if (static_cast<int>(images.size()) == batch_size || i + 1 == r.samples.size()) {
      const auto t0 = std::chrono::steady_clock::now();
      recognized += static_cast<int64_t>(images.size());
      recognize_batch(rec, batch, images);
      recognize_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      progress.update(static_cast<int64_t>(i + 1));
    }
  }
  progress.finish();
  r.lines_per_s = recognize_s > 0 ? recognized / recognize_s : 0;

  r.run.kind = "model";
  r.run.engine = "ocrkit";
  r.run.name = opt.name.empty() ? std::filesystem::path(opt.model_path).stem().string() : opt.name;
  r.run.model_path = canonical_path(opt.model_path);
  r.run.model_sha256 = sha256_file(opt.model_path);
  r.run.data_path = canonical_path(opt.data_path);
  r.run.data_sha256 = label_source_sha256(opt.data_path);
  r.run.device = rec.device_name();
  r.run.config = rec.config_yaml();
  r.run.extra["runtime"] = rec.runtime_summary();
  r.run.extra["batch_size"] = batch_size;
  r.run.extra["unreadable_images"] = unreadable;
  r.run.extra["recognize_s"] = recognize_s;
  finish_run(r, opt.metrics);
  r.run.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace ocrkit::eval
