// What the user asked for (config keys runtime.* or CLI flags); core/runtime.h turns it into a Runtime.
#pragma once
#include <string>

namespace ocrkit {

class Config;

struct RuntimeRequest {
  std::string device = "auto";     // auto | cpu | cuda | cuda:N | mps
  std::string attention = "auto";  // auto | flash | sdpa | eager
  std::string precision = "auto";  // auto | fp32 | bf16 | fp16
  int threads = 0;                 // intra-op CPU threads, 0 = all cores
  static RuntimeRequest from_config(const Config& config);
  // Writes the fields that were given (not "auto" / 0) over the config's runtime.* keys: CLI flags
  // override the config only where given.
  void override_config(Config& config) const;
};

}  // namespace ocrkit
