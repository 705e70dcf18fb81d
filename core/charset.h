// The model's output alphabet. Class 0 is the CTC blank; class i >= 1 is symbols()[i-1]. Symbols are
// single Unicode code points (UTF-8), so decoding and metrics agree on what a character is.
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

namespace ocrkit {

class Charset {
 public:
  Charset() = default;
  explicit Charset(const std::vector<std::string>& symbols);
  // A preset name (vin, digits, printed) or the literal characters.
  static Charset from_spec(const std::string& spec);
  // The characters of a preset, or the spec itself when it names none.
  static std::string preset_characters(const std::string& spec);

  int num_classes() const { return static_cast<int>(symbols_.size()) + 1; }
  const std::vector<std::string>& symbols() const { return symbols_; }
  std::string characters() const;  // all symbols concatenated (what checkpoints store)
  int id(const std::string& symbol) const;  // -1 when absent
  bool contains(const std::string& symbol) const { return id(symbol) >= 0; }
  // Class ids of `text`; throws naming the first character outside the charset.
  std::vector<int> encode(const std::string& text) const;
  // The characters of `text` that the charset lacks (empty when it covers it).
  std::string missing(const std::string& text) const;
  const std::string& symbol(int class_id) const { return symbols_.at(class_id - 1); }

 private:
  std::vector<std::string> symbols_;
  std::unordered_map<std::string, int> ids_;
};

}  // namespace ocrkit
