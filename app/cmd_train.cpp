// ocrkit train: fine-tune a recognizer from one YAML config (defaults < --config < --set).
#include <csignal>
#include <iostream>

#include "app/commands.h"
#include "core/log.h"
#include "train/trainer.h"

namespace ocrkit::app {

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }  // the loop saves last.ckpt and returns

struct TrainArgs {
  std::string config_path, resume, init, out;
  std::vector<std::string> sets;
  bool dump_config = false;
  RuntimeRequest runtime;
};

void run_train(const TrainArgs& a) {
  Config config;
  if (!a.resume.empty()) config.merge_file(a.resume + "/config.yaml");  // the run's own resolved config
  else if (!a.config_path.empty()) config.merge_file(a.config_path);
  for (const auto& s : a.sets) config.set(s);
  if (!a.out.empty()) config.set("train.out=" + a.out);
  if (!a.init.empty()) config.set("train.init=" + a.init);
  a.runtime.override_config(config);
  if (a.dump_config) {
    std::cout << config.dump();
    return;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  TrainOptions opts;
  opts.resume_dir = a.resume;
  opts.stop = &g_stop;
  TrainSummary s = train_model(config, opts);
  std::printf("run: %s\nsteps: %lld%s\nbest: %s (val CER %.4f, sequence accuracy %.4f)\nlast: %s\n"
              "time: %s, %.0f samples/s, data wait %.1f%%\n",
              s.run_dir.c_str(), static_cast<long long>(s.steps),
              s.interrupted ? " (interrupted; continue with --resume)" : s.early_stopped ? " (early stop)" : "",
              s.best_path.c_str(), s.best_cer, s.best_seq_acc, s.last_path.c_str(), format_duration(s.seconds).c_str(),
              s.samples_per_s, 100 * s.data_wait_share);
  if (s.interrupted) throw ExitCode{130};
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train", "train or fine-tune a recognizer");
  cmd->add_option("-c,--config", args->config_path, "YAML config (see configs/)")->check(CLI::ExistingFile);
  cmd->add_option("--set", args->sets, "override a config key: key.path=value (repeatable)");
  cmd->add_option("--resume", args->resume, "continue the run in this directory exactly where it stopped")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--init", args->init, "fine-tune from this checkpoint (charset may differ)")->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "run directory (train.out)");
  cmd->add_flag("--dump-config", args->dump_config, "print the resolved config and exit");
  add_runtime_options(cmd, args->runtime);
  cmd->callback([args] { run_train(*args); });
}

}  // namespace ocrkit::app
