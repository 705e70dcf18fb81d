#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/checkpoint.h"
#include "core/inference.h"
#include "core/log.h"
#include "core/runtime.h"
#include "core/text.h"
#include "core/torch_compat.h"
#include "datasets/loader.h"
#include "train/gradients.h"

namespace fs = std::filesystem;

namespace ocrkit {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Schedule {
  double lr;
  int64_t warmup, total;
  double min_ratio;
  double at(int64_t step) const {  // step is 0-based
    if (step < warmup) return lr * double(step + 1) / double(warmup);
    double progress = std::min(1.0, double(step - warmup) / double(std::max<int64_t>(1, total - warmup)));
    return lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + std::cos(M_PI * progress)));
  }
};

struct ValResult {
  double cer = 1.0, seq_acc = 0.0;
  int64_t items = 0;
};

ValResult validate(InferenceContext& ctx, const std::vector<LabelItem>& items, const std::vector<cv::Mat>& images) {
  ctx.model->eval();
  ValResult r;
  int64_t dist = 0, ref = 0, exact = 0;
  const size_t chunk = 512;
  for (size_t start = 0; start < images.size(); start += chunk) {
    std::vector<cv::Mat> part(images.begin() + start, images.begin() + std::min(images.size(), start + chunk));
    auto results = recognize_crops(ctx, part);
    for (size_t k = 0; k < results.size(); ++k) {
      const std::string& truth = items[start + k].text;
      auto t = utf8_to_u32(truth), p = utf8_to_u32(results[k].text);
      dist += int64_t(edit_distance(t, p));
      ref += int64_t(t.size());
      exact += results[k].text == truth;
    }
  }
  ctx.model->train();
  r.items = int64_t(images.size());
  r.cer = ref ? double(dist) / double(ref) : 0.0;
  r.seq_acc = images.empty() ? 0.0 : double(exact) / double(images.size());
  return r;
}

// New charset rows keep the old weights of characters both charsets share; the rest stay fresh.
void copy_weights(OcrModel& target, OcrModel& source, const Charset& target_cs, const Charset& source_cs) {
  torch::NoGradGuard no_grad;
  auto src = source->named_parameters();
  auto src_buffers = source->named_buffers();
  for (auto& p : target->named_parameters()) {
    const torch::Tensor* s = src.find(p.key());
    if (!s) throw std::runtime_error("--init checkpoint lacks '" + p.key() + "' (different model.arch or sizes)");
    if (p.key().rfind("head.", 0) == 0) {
      // Class rows: 0 = blank, i = symbol i-1.
      p.value().index_put_({0}, s->index({0}));
      for (int i = 1; i < target_cs.num_classes(); ++i) {
        int j = source_cs.id(target_cs.symbol(i));
        if (j > 0) p.value().index_put_({i}, s->index({j}));
      }
      continue;
    }
    if (s->sizes() != p.value().sizes())
      throw std::runtime_error("--init checkpoint tensor '" + p.key() + "' has another shape (different model sizes)");
    p.value().copy_(*s);
  }
  for (auto& b : target->named_buffers())
    if (const torch::Tensor* s = src_buffers.find(b.key())) b.value().copy_(*s);
}

void report_issues(const LabelSet& set, const std::string& what, const std::string& run_dir) {
  if (set.issues.empty()) return;
  std::string all;
  for (const auto& i : set.issues) all += i.where() + ": " + i.reason + "\n";
  std::ofstream(run_dir + "/" + what + "_issues.txt") << all;
  for (size_t k = 0; k < set.issues.size() && k < 5; ++k)
    log_line("data", set.issues[k].where() + ": skipped: " + set.issues[k].reason);
  log_line("data", std::to_string(set.issues.size()) + " " + what + " items skipped; all listed in " + run_dir + "/" +
                       what + "_issues.txt");
}

std::string data_fingerprint(const std::vector<std::string>& paths) {
  std::string joined;
  for (const auto& p : paths) {
    fs::path f = fs::is_directory(p) ? fs::path(p) / "labels.tsv" : fs::path(p);
    joined += p + "=" + (fs::is_regular_file(f) ? sha256_file(f.string()) : std::string("?")) + ";";
  }
  return sha256_hex(joined);
}

void save_state(const std::string& path, torch::optim::Optimizer& opt, const nlohmann::json& state) {
  write_atomically(path, [&](const std::string& tmp) {
    torch::serialize::OutputArchive archive;
    opt.save(archive);
    archive.write("trainer_state", c10::IValue(state.dump()));
    archive.save_to(tmp);
  });
}

nlohmann::json load_state(const std::string& path, torch::optim::Optimizer& opt, const torch::Device& device) {
  torch::serialize::InputArchive archive;
  archive.load_from(path, device);
  opt.load(archive);
  c10::IValue v;
  archive.read("trainer_state", v);
  return nlohmann::json::parse(v.toStringRef());
}

}  // namespace

void clip_gradients(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& p : params)
    if (p.grad().defined()) norms.push_back(p.grad().norm(2));
  if (norms.empty()) return;
  const auto scale = (max_norm / (torch::stack(norms).norm(2) + 1e-6)).clamp_max(1.0);
  for (const auto& p : params)
    if (p.grad().defined()) p.grad().mul_(scale);
}

TrainSummary train_model(Config config, const TrainOptions& options) {
  const auto started = Clock::now();
  TrainSummary summary;
  std::string run_dir = config.get_string("train.out");
  bool resuming = !options.resume_dir.empty();
  if (resuming) run_dir = options.resume_dir;
  fs::create_directories(run_dir);
  summary.run_dir = run_dir;
  summary.best_path = run_dir + "/best.ckpt";
  summary.last_path = run_dir + "/last.ckpt";
  const std::string state_path = run_dir + "/last.state", metrics_path = run_dir + "/metrics.jsonl";

  Runtime rt = select_runtime(RuntimeRequest::from_config(config));
  summary.runtime = rt.summary;
  Charset charset = Charset::from_spec(config.get_string("charset"));
  PreprocessParams pre = PreprocessParams::from_config(config);
  DecodeOptions decode = DecodeOptions::from_config(config);
  const int batch_size = config.get_int("train.batch_size");
  const int64_t max_steps = config.get_int("train.max_steps");
  const int val_every = std::max(1, config.get_int("train.val_every"));
  const int log_every = std::max(1, config.get_int("train.log_every"));
  const int early_stop = config.get_int("train.early_stop");
  const double grad_clip = config.get_double("train.grad_clip");
  Schedule schedule{config.get_double("train.lr"), config.get_int("train.warmup_steps"), max_steps,
                    config.get_double("train.min_lr_ratio")};
  if (batch_size < 1) throw ConfigError("config key 'train.batch_size' must be >= 1");
  if (max_steps < 1) throw ConfigError("config key 'train.max_steps' must be >= 1");

  // Data.
  auto train_paths = config.get_strings("data.train");
  if (train_paths.empty()) throw ConfigError("config key 'data.train' lists no training data");
  std::vector<LabelSet> sources;
  size_t train_items = 0;
  for (const auto& p : train_paths) {
    sources.push_back(read_labels(p, &charset));
    report_issues(sources.back(), "train", run_dir);
    train_items += sources.back().items.size();
  }
  LabelSet val_set = read_label_sources(config.get_strings("data.val"), &charset);
  report_issues(val_set, "val", run_dir);
  const size_t val_max = size_t(std::max(0, config.get_int("data.val_max")));
  if (val_set.items.size() > val_max) val_set.items.resize(val_max);
  std::vector<cv::Mat> val_images;
  for (const auto& it : val_set.items) val_images.push_back(read_image(it.image));
  log_line("data", std::to_string(train_items) + " training items from " + std::to_string(train_paths.size()) +
                       " source(s), " + std::to_string(val_set.items.size()) + " validation items, charset " +
                       std::to_string(charset.num_classes() - 1) + " characters");

  LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.seed = uint64_t(config.get_int("train.seed"));
  lo.workers = config.get_int("data.workers");
  lo.prefetch = std::max(1, config.get_int("data.prefetch"));
  lo.pin_memory = rt.device.is_cuda();
  lo.source_ratios = config.get_doubles("data.train_ratios");
  BatchLoader loader(std::move(sources), charset, pre, AugmentOptions::from_config(config), lo);

  // Model (fresh, fine-tuned from --init, or resumed).
  torch::manual_seed(uint64_t(config.get_int("train.seed")));
  OcrModel model = build_model(config, charset);
  const std::string init = config.get_string("train.init");
  if (!init.empty() && !resuming) {
    Checkpoint base = load_checkpoint(init);
    copy_weights(model, base.model, charset, base.charset);
    log_line("train", "initialised from " + init + (base.charset.characters() == charset.characters()
                                                        ? std::string(" (same charset)")
                                                        : " (charset changed: shared characters keep their weights)"));
  }
  if (resuming) {
    Checkpoint last = load_checkpoint(summary.last_path);
    copy_weights(model, last.model, charset, last.charset);
  }
  model->to(rt.device);
  model->set_attention(rt.attention);
  model->train();
  for (const auto& part : config.get_strings("train.freeze")) {
    for (auto& p : model->parameters_of(part)) p.set_requires_grad(false);
    log_line("train", "frozen: " + part);
  }
  std::vector<torch::Tensor> trainable;
  int64_t n_params = 0;
  for (auto& p : model->parameters()) {
    n_params += p.numel();
    if (p.requires_grad()) trainable.push_back(p);
  }
  torch::optim::AdamW optimizer(trainable, torch::optim::AdamWOptions(schedule.lr).weight_decay(config.get_double("train.weight_decay")));

  int64_t step = 0;
  nlohmann::json state = {{"step", 0}, {"best_cer", 2.0}, {"best_seq_acc", 0.0}, {"since_best", 0}};
  if (resuming) {
    state = load_state(state_path, optimizer, rt.device);
    step = state.at("step");
    // Keep the metrics history up to the resumed step only.
    std::ifstream in(metrics_path);
    std::string line, kept;
    while (std::getline(in, line))
      if (!line.empty() && nlohmann::json::parse(line).value("step", int64_t(0)) <= step) kept += line + "\n";
    write_file_atomically(metrics_path, kept);
    log_line("train", "resumed " + run_dir + " at step " + std::to_string(step));
  } else {
    write_file_atomically(run_dir + "/config.yaml", config.dump());
    write_file_atomically(metrics_path, "");
  }
  log_line("train", std::to_string(n_params) + " parameters (" + config.get_string("model.arch") + "), batch " +
                        std::to_string(batch_size) + ", " + std::to_string(max_steps) + " steps, run dir " + run_dir);

  InferenceContext val_ctx{model, rt, charset, pre, decode, kCpuBatchPixels};
  auto training_meta = [&](const ValResult& v) {
    return nlohmann::json{{"step", step}, {"val_cer", v.cer}, {"val_seq_acc", v.seq_acc}, {"val_items", v.items},
                          {"train_items", train_items}, {"train_data_sha256", data_fingerprint(train_paths)},
                          {"runtime", rt.summary}, {"time", std::time(nullptr)}};
  };
  auto checkpoint = [&](const ValResult& v) {
    save_checkpoint(summary.last_path, model, config, charset, pre, training_meta(v));
    save_state(state_path, optimizer, state);
  };
  std::ofstream metrics(metrics_path, std::ios::app);
  auto record = [&](const nlohmann::json& j) {
    metrics << j.dump() << "\n";
    metrics.flush();
  };

  loader.start(step);
  Progress progress("train", max_steps, "step");
  double wait_s = 0, compute_s = 0, loss_sum = 0;
  int64_t samples = 0, loss_count = 0, first_step = step;
  ValResult last_val;
  while (step < max_steps) {
    if (options.stop && options.stop->load()) {
      summary.interrupted = true;
      break;
    }
    auto t0 = Clock::now();
    TrainBatch batch = loader.next();
    auto t1 = Clock::now();
    const bool timed = step - first_step >= options.untimed_steps;
    if (timed) wait_s += std::chrono::duration<double>(t1 - t0).count();
    const double lr = schedule.at(step);
    for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    auto images = batch.images.to(rt.device, /*non_blocking=*/lo.pin_memory);
    torch::Tensor loss;
    {
      compat::AutocastGuard autocast(rt.device, rt.dtype);
      auto logits = model->forward(images, batch.input_lengths);
      auto log_probs = torch::log_softmax(logits.to(torch::kFloat32), 2).transpose(0, 1);  // T, N, C
      loss = torch::ctc_loss(log_probs, batch.targets.to(rt.device), batch.input_lengths.to(rt.device),
                             batch.target_lengths.to(rt.device), 0, at::Reduction::Mean, /*zero_infinity=*/true);
    }
    optimizer.zero_grad();
    loss.backward();
    if (grad_clip > 0) clip_gradients(trainable, grad_clip);
    optimizer.step();
    const double loss_value = loss.item<double>();  // syncs the device: compute time below is honest
    if (timed) compute_s += seconds_since(t1), samples += batch.images.size(0);
    ++step;
    loss_sum += loss_value;
    ++loss_count;
    if (options.on_step) options.on_step(step, loss_value);
    char status[160];
    std::snprintf(status, sizeof status, "loss=%.4f lr=%.2e %.0f samples/s", loss_value, lr,
                  samples / std::max(1e-9, wait_s + compute_s));
    progress.update(step, status);
    if (step % log_every == 0 || step == max_steps) {
      record({{"step", step}, {"loss", loss_sum / loss_count}, {"lr", lr},
              {"samples_per_s", samples / std::max(1e-9, wait_s + compute_s)},
              {"data_wait_share", wait_s / std::max(1e-9, wait_s + compute_s)}});
      loss_sum = 0;
      loss_count = 0;
    }
    if (step % val_every == 0 || step == max_steps) {
      last_val = validate(val_ctx, val_set.items, val_images);
      bool improved = !val_images.empty() && last_val.cer < state["best_cer"].get<double>();
      if (improved) {
        state["best_cer"] = last_val.cer;
        state["best_seq_acc"] = last_val.seq_acc;
        state["since_best"] = 0;
      } else {
        state["since_best"] = state["since_best"].get<int>() + 1;
      }
      state["step"] = step;
      record({{"step", step}, {"val_cer", last_val.cer}, {"val_seq_acc", last_val.seq_acc}, {"val_items", last_val.items}});
      checkpoint(last_val);
      if (improved || val_images.empty())
        save_checkpoint(summary.best_path, model, config, charset, pre, training_meta(last_val));
      log_line("val", "step " + std::to_string(step) + ": CER " + std::to_string(last_val.cer) + ", sequence accuracy " +
                          std::to_string(last_val.seq_acc) + (improved ? " (best so far)" : ""));
      if (early_stop > 0 && state["since_best"].get<int>() >= early_stop) {
        summary.early_stopped = true;
        log_line("train", "early stop: no improvement in " + std::to_string(early_stop) + " validations");
        break;
      }
    }
  }
  if (summary.interrupted || state["step"].get<int64_t>() != step) {
    // Interrupted (or ended) between validations: save where we are so --resume continues exactly here.
    state["step"] = step;
    checkpoint(last_val);
    if (!fs::exists(summary.best_path)) save_checkpoint(summary.best_path, model, config, charset, pre, training_meta(last_val));
    log_line("train", std::string(summary.interrupted ? "interrupted" : "stopped") + " at step " + std::to_string(step) +
                          "; continue with --resume " + run_dir);
  }
  progress.finish();
  summary.steps = step;
  summary.best_cer = state["best_cer"];
  summary.best_seq_acc = state["best_seq_acc"];
  summary.seconds = seconds_since(started);
  summary.samples_per_s = samples / std::max(1e-9, wait_s + compute_s);
  summary.data_wait_share = wait_s / std::max(1e-9, wait_s + compute_s);
  summary.wait_seconds = wait_s;
  summary.compute_seconds = compute_s;
  if (loader.bad_items() > 0) log_line("data", std::to_string(loader.bad_items()) + " unusable crops were skipped in batches");
  return summary;
}

}  // namespace ocrkit
