#include "core/config.h"

#include <fstream>
#include <sstream>

namespace ocrkit {

// Every key ocrkit reads. Kinds are taken from these values: keep ints as ints and floats with a dot.
static const char* kDefaults = R"(# ocrkit configuration: defaults < this file < --set key.path=value
model:
  arch: crnn              # crnn (conv + BiLSTM) | transformer (conv stem + transformer encoder)
  channels: [32, 64, 128, 256]   # conv stages; each of the first two halves height and width
  depthwise: false        # depthwise-separable convolutions after the first stage (cheaper on CPU)
  downsample: pool        # pool (conv, then max-pool) | stride (strided convolutions, ~3x cheaper on CPU)
  hidden: 128             # LSTM hidden size per direction / transformer width
  layers: 2               # LSTM or transformer layers
  heads: 4                # transformer attention heads
  ffn: 512                # transformer feed-forward width
  mask_padding: false     # transformer: attention ignores batch padding, so a line reads the same in any batch
charset: vin              # preset (vin, digits, printed) or the literal characters
preprocess:
  height: 32              # every line is resized to this height, width keeps the aspect ratio
  min_width: 32           # narrower crops are padded to this width
  max_width: 1024         # wider crops are squeezed to this width
  auto_invert: true       # light text on dark ground is inverted, so plates and labels look alike
data:
  train: []               # label files or folders (Paddle TSV, tesstrain .gt.txt, JSONL)
  train_ratios: []        # sampling share per train source (empty: proportional to size)
  val: []                 # validation label files or folders
  val_max: 2000           # at most this many validation items (first N, fixed)
  workers: 0              # loader threads (0: auto = cores - 1, at least 1)
  prefetch: 8             # batches prepared ahead of the trainer
augment:
  enabled: true
  probability: 0.8        # share of training crops that get degraded at all
  rotate_deg: 2.0         # max rotation
  shear: 0.15             # max horizontal shear
  perspective: 0.04       # max corner shift as a share of the size
  scale_jitter: 0.1       # random crop margin / squeeze
  blur: 1.2               # max Gaussian sigma
  noise: 12.0             # max Gaussian noise std (0-255)
  jpeg_min_quality: 30
  low_res: 0.5            # min down-sampling factor before scaling back
  contrast: 0.5           # max contrast reduction
  invert: 0.0             # probability of inverting polarity
train:
  out: runs/train         # run directory: best.ckpt, last.ckpt, metrics.jsonl
  batch_size: 64
  max_steps: 20000
  lr: 0.001
  weight_decay: 0.01
  warmup_steps: 500
  min_lr_ratio: 0.02      # cosine decays to lr * this
  grad_clip: 5.0
  val_every: 1000         # validate (and checkpoint) every N steps
  log_every: 100
  early_stop: 0           # stop after N validations without improvement (0: never)
  seed: 1
  init: ""                # fine-tune from this checkpoint (charset changes allowed)
  freeze: []              # parts to keep fixed: backbone, head
decode:
  method: greedy          # greedy | beam
  beam_width: 8
  alphabet: ""            # only these characters may be emitted (empty: the whole charset)
  length: 0               # exact output length (0: any); VIN = 17
  check: auto             # none | vin | auto (vin with the vin alphabet and length 17): among beam readings
                          # a valid VIN check digit wins over a failing best reading ...
  check_ratio: 100.0      # ... that is at most this many times more likely (confident reads never change)
runtime:
  device: auto            # auto | cpu | cuda | cuda:N | mps
  attention: auto         # auto | flash | sdpa | eager
  precision: auto         # auto | fp32 | bf16 | fp16
  threads: 0              # intra-op CPU threads (0: auto = all cores)
)";

const char* Config::default_yaml() { return kDefaults; }

Config::Config() { root_ = YAML::Load(kDefaults); }

namespace {

enum class Kind { Null, Bool, Int, Float, String, Sequence, Map };

Kind kind_of(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return Kind::Null;
  if (n.IsSequence()) return Kind::Sequence;
  if (n.IsMap()) return Kind::Map;
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return Kind::String;  // quoted
  if (s == "true" || s == "false") return Kind::Bool;
  long long i;
  double d;
  if (YAML::convert<long long>::decode(n, i)) return Kind::Int;
  if (YAML::convert<double>::decode(n, d)) return Kind::Float;
  return Kind::String;
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Null: return "null";
    case Kind::Bool: return "a boolean";
    case Kind::Int: return "an integer";
    case Kind::Float: return "a number";
    case Kind::String: return "a string";
    case Kind::Sequence: return "a list";
    case Kind::Map: return "a mapping";
  }
  return "?";
}

bool compatible(Kind def, Kind got) {
  if (def == Kind::Null || def == got) return true;
  if (def == Kind::Float && got == Kind::Int) return true;
  if (def == Kind::String && got != Kind::Sequence && got != Kind::Map) return true;
  return false;
}

std::string where(const std::string& origin, const YAML::Node& n) {
  std::string w = origin;
  if (n.Mark().line >= 0 && origin.find('=') == std::string::npos) w += ":" + std::to_string(n.Mark().line + 1);
  return w;
}

}  // namespace

void Config::merge(const YAML::Node& defaults, YAML::Node& target, const YAML::Node& update,
                   const std::string& prefix, const std::string& origin) {
  if (!update.IsMap()) throw ConfigError(where(origin, update) + ": expected a mapping" +
                                         (prefix.empty() ? "" : " at '" + prefix + "'"));
  for (auto it = update.begin(); it != update.end(); ++it) {
    const std::string key = it->first.as<std::string>();
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    YAML::Node def = defaults[key];
    if (!def.IsDefined()) throw ConfigError(where(origin, it->first) + ": unknown config key '" + path + "'");
    Kind dk = kind_of(def), uk = kind_of(it->second);
    if (dk == Kind::Map) {
      YAML::Node sub = target[key];
      merge(def, sub, it->second, path, origin);
      continue;
    }
    if (!compatible(dk, uk))
      throw ConfigError(where(origin, it->second) + ": config key '" + path + "' must be " + kind_name(dk) +
                        ", got '" + YAML::Dump(it->second) + "'");
    target[key] = YAML::Clone(it->second);
  }
}

void Config::merge_text(const std::string& yaml, const std::string& origin) {
  YAML::Node update;
  try {
    update = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError(origin + ":" + std::to_string(e.mark.line + 1) + ": YAML syntax error: " + e.msg);
  }
  if (update.IsNull()) return;  // empty file
  YAML::Node defaults = YAML::Load(kDefaults);
  merge(defaults, root_, update, "", origin);
}

void Config::merge_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read config file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  merge_text(ss.str(), path);
}

void Config::set(const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set expects key.path=value, got '" + assignment + "'");
  std::string path = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  // Build {a: {b: value}} and merge it, so the same checks apply as for files.
  std::string yaml;
  std::string indent;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw ConfigError("--set: empty key in '" + path + "'");
    if (dot == std::string::npos) {
      YAML::Node v;
      try {
        v = YAML::Load(value.empty() ? "\"\"" : value);
      } catch (const YAML::Exception&) {
        v = YAML::Node(value);
      }
      YAML::Emitter em;
      em << YAML::Flow << v;
      yaml += indent + part + ": " + em.c_str() + "\n";
      break;
    }
    yaml += indent + part + ":\n";
    indent += "  ";
    start = dot + 1;
  }
  merge_text(yaml, "--set " + assignment);
}

YAML::Node Config::node(const std::string& path) const {
  YAML::Node cur = YAML::Clone(root_);
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur.IsMap() || !cur[part].IsDefined()) throw ConfigError("config has no key '" + path + "'");
    cur = cur[part];
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

bool Config::has(const std::string& path) const {
  try {
    node(path);
    return true;
  } catch (const ConfigError&) {
    return false;
  }
}

template <typename T>
static T convert_or_throw(const YAML::Node& n, const std::string& path, const char* what) {
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    throw ConfigError("config key '" + path + "' must be " + what + ", got '" + YAML::Dump(n) + "'");
  }
}

int Config::get_int(const std::string& p) const { return convert_or_throw<int>(node(p), p, "an integer"); }
double Config::get_double(const std::string& p) const { return convert_or_throw<double>(node(p), p, "a number"); }
bool Config::get_bool(const std::string& p) const { return convert_or_throw<bool>(node(p), p, "a boolean"); }
std::string Config::get_string(const std::string& p) const {
  YAML::Node n = node(p);
  return n.IsNull() ? std::string() : convert_or_throw<std::string>(n, p, "a string");
}
std::vector<std::string> Config::get_strings(const std::string& p) const {
  return convert_or_throw<std::vector<std::string>>(node(p), p, "a list of strings");
}
std::vector<double> Config::get_doubles(const std::string& p) const {
  return convert_or_throw<std::vector<double>>(node(p), p, "a list of numbers");
}

std::string Config::get_choice(const std::string& p, const std::vector<std::string>& options) const {
  std::string v = get_string(p);
  for (const auto& o : options)
    if (o == v) return v;
  std::string all;
  for (const auto& o : options) all += (all.empty() ? "" : ", ") + o;
  throw ConfigError("config key '" + p + "' must be one of {" + all + "}, got '" + v + "'");
}

std::string Config::dump() const {
  YAML::Emitter em;
  em << root_;
  return std::string(em.c_str()) + "\n";
}

}  // namespace ocrkit
