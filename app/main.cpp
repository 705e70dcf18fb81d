// ocrkit: one binary, thin subcommands over the libraries (train, eval, infer, data).
#include <cstdio>
#include <exception>

#include "app/commands.h"
#include "core/log.h"

int main(int argc, char** argv) {
  CLI::App app{"ocrkit: train, score and serve compact OCR recognizers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ocrkit ") + OCRKIT_VERSION);
  bool quiet = false;
  app.add_flag("-q,--quiet", quiet, "no log lines or progress, results only");
  app.parse_complete_callback([&] { ocrkit::set_log_quiet(quiet); });
  ocrkit::app::add_train_command(app);
  ocrkit::app::add_data_command(app);
  ocrkit::app::add_eval_command(app);
  ocrkit::app::add_infer_command(app);
  ocrkit::app::add_bench_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;  // usage error
  } catch (const ocrkit::app::ExitCode& e) {
    return e.code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
