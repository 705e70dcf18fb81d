// One configuration tree for train, eval and infer: built-in defaults < YAML file < --set overrides.
// The defaults double as the schema: a key that is not in them is an error naming its path (and file
// line), and a value must have the kind of its default (int, float, bool, string, list).
#pragma once
#include <yaml-cpp/yaml.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace ocrkit {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Config {
 public:
  // The built-in defaults (every key ocrkit knows, with a comment on each).
  Config();
  static const char* default_yaml();

  // Merges a YAML file over the current values; errors name the file, line and key path.
  void merge_file(const std::string& path);
  // Merges YAML text; `origin` names it in errors (e.g. "checkpoint").
  void merge_text(const std::string& yaml, const std::string& origin);
  // Applies one "key.path=value" override (value parsed as YAML, so lists work: a=[1,2]).
  void set(const std::string& assignment);

  bool has(const std::string& path) const;
  int get_int(const std::string& path) const;
  double get_double(const std::string& path) const;
  bool get_bool(const std::string& path) const;
  std::string get_string(const std::string& path) const;
  std::vector<std::string> get_strings(const std::string& path) const;
  std::vector<double> get_doubles(const std::string& path) const;
  // A string that must be one of `options`; otherwise an error naming the key and the options.
  std::string get_choice(const std::string& path, const std::vector<std::string>& options) const;

  // The resolved configuration as YAML (what --dump-config prints and checkpoints store).
  std::string dump() const;

 private:
  YAML::Node node(const std::string& path) const;
  void merge(const YAML::Node& defaults, YAML::Node& target, const YAML::Node& update, const std::string& prefix,
             const std::string& origin);
  YAML::Node root_;
};

}  // namespace ocrkit
