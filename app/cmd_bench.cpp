// Placeholder until the bench command lands.
#include "app/commands.h"

namespace ocrkit::app {
void add_bench_command(CLI::App& app) { app.add_subcommand("bench", "(not built yet)"); }
}  // namespace ocrkit::app
