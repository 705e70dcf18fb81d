#include "core/charset.h"

#include <stdexcept>

#include "core/text.h"
#include "core/vin.h"

namespace ocrkit {

Charset::Charset(const std::vector<std::string>& symbols) {
  for (const auto& s : symbols) {
    if (s.empty()) throw std::invalid_argument("charset: empty symbol");
    if (ids_.count(s)) continue;  // duplicates collapse, first position wins
    symbols_.push_back(s);
    ids_[s] = static_cast<int>(symbols_.size());
  }
  if (symbols_.empty()) throw std::invalid_argument("charset is empty");
}

std::string Charset::preset_characters(const std::string& spec) {
  if (spec == "vin") return vin_alphabet();
  if (spec == "digits") return "0123456789";
  if (spec == "printed") {
    std::string s;
    for (char c = 0x20; c < 0x7F; ++c) s += c;  // printable ASCII, space included
    // Latin-1 letters and signs that occur in European documents, typographic quotes, dashes, bullets.
    s += u8"¡¢£¤¥¦§¨©ª«¬®¯°±²³´µ¶·¸¹º»¼½¾¿ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõö÷øùúûüýþÿ";
    s += u8"ŒœŠšŽžŸƒ‘’‚“”„†‡•…‰‹›€™–—−→←↑↓≤≥≠≈∞√∑∏∫∂∆∇∈∉⊂⊃∪∩∧∨¬′″";
    // Since printed-v1 stage 4: what technical documents set that the above lacked (the harvest's most
    // frequent characters outside it): box drawing of tree listings, the asterisk operator of footnote
    // marks, LaTeX's angle brackets and triangle, Greek letters that no Latin letter or sign above
    // resembles (no mu: micro sign; no Delta, Sigma, Pi: the signs above; no omicron, nu, kappa,
    // iota, upsilon, rho).
    s += u8"─│┌┐└┘├┤┬┴┼▷∗⊕⊗⟨⟩αβγδεζηθλξπστφχψωΓΘΛΞΦΨΩ";
    return s;
  }
  return spec;
}

Charset Charset::from_spec(const std::string& spec) { return Charset(utf8_chars(preset_characters(spec))); }

std::string Charset::characters() const {
  std::string s;
  for (const auto& c : symbols_) s += c;
  return s;
}

int Charset::id(const std::string& symbol) const {
  auto it = ids_.find(symbol);
  return it == ids_.end() ? -1 : it->second;
}

std::vector<int> Charset::encode(const std::string& text) const {
  std::vector<int> out;
  for (const auto& c : utf8_chars(text)) {
    int i = id(c);
    if (i < 0) throw std::invalid_argument("character '" + c + "' is not in the charset");
    out.push_back(i);
  }
  return out;
}

std::string Charset::missing(const std::string& text) const {
  std::string out;
  for (const auto& c : utf8_chars(text))
    if (!contains(c) && out.find(c) == std::string::npos) out += c;
  return out;
}

}  // namespace ocrkit
