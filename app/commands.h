// The `ocrkit` subcommands. Each add_*_command registers its CLI11 subcommand; the callbacks throw
// ExitCode to choose the process exit status (0 ok, 1 failure, 2 usage, 3 partial failure).
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "core/runtime_request.h"

namespace ocrkit::app {

struct ExitCode {
  int code;
};

void add_train_command(CLI::App& app);
void add_data_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_infer_command(CLI::App& app);
void add_bench_command(CLI::App& app);
// `data` subcommands that live in their own files.
void add_data_synth_lines(CLI::App* data);
void add_data_harvest(CLI::App* data);

// --device/--precision/--attention/--threads on a subcommand, bound to one RuntimeRequest.
void add_runtime_options(CLI::App* cmd, RuntimeRequest& request);

}  // namespace ocrkit::app
