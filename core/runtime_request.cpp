#include "core/runtime_request.h"

#include "core/config.h"

namespace ocrkit {

RuntimeRequest RuntimeRequest::from_config(const Config& c) {
  RuntimeRequest r;
  r.device = c.get_string("runtime.device");
  r.attention = c.get_choice("runtime.attention", {"auto", "flash", "sdpa", "eager"});
  r.precision = c.get_choice("runtime.precision", {"auto", "fp32", "bf16", "fp16"});
  r.threads = c.get_int("runtime.threads");
  if (r.threads < 0) throw ConfigError("config key 'runtime.threads' must be >= 0");
  return r;
}

void RuntimeRequest::override_config(Config& c) const {
  if (device != "auto") c.set("runtime.device=" + device);
  if (precision != "auto") c.set("runtime.precision=" + precision);
  if (attention != "auto") c.set("runtime.attention=" + attention);
  if (threads > 0) c.set("runtime.threads=" + std::to_string(threads));
}

}  // namespace ocrkit
