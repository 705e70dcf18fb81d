#include "app/commands.h"

namespace ocrkit::app {

void add_runtime_options(CLI::App* cmd, RuntimeRequest& r) {
  cmd->add_option("--device", r.device, "auto | cpu | cuda | cuda:N | mps (an unavailable explicit device is an error)");
  cmd->add_option("--precision", r.precision, "auto | fp32 | bf16 | fp16")
      ->check(CLI::IsMember({"auto", "fp32", "bf16", "fp16"}));
  cmd->add_option("--attention", r.attention, "auto | flash | sdpa | eager")
      ->check(CLI::IsMember({"auto", "flash", "sdpa", "eager"}));
  cmd->add_option("--threads", r.threads, "intra-op CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
}

}  // namespace ocrkit::app
