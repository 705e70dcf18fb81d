// UTF-8 text helpers: code-point splitting and Unicode normalisation (ICU), shared by charset, labels
// and metrics so every job sees the same characters.
#pragma once
#include <string>
#include <vector>

namespace ocrkit {

// Splits UTF-8 into code points, each as its own UTF-8 string. Throws on invalid UTF-8.
std::vector<std::string> utf8_chars(const std::string& text);
std::u32string utf8_to_u32(const std::string& text);
std::string u32_to_utf8(const std::u32string& text);
bool valid_utf8(const std::string& text);

std::string nfc(const std::string& text);
std::string nfkc(const std::string& text);
std::string case_fold(const std::string& text);
// Collapses runs of whitespace to one space and trims both ends.
std::string collapse_whitespace(const std::string& text);
// Label normalisation used for every ground truth: NFC, typographic ligatures (fi, fl, ffi, ...) spelt
// out, tabs/newlines to spaces, whitespace collapsed.
std::string normalize_label(const std::string& text);

// Escapes & < > " ' for XML and HTML (hOCR, reports).
std::string xml_escape(const std::string& text);

// Levenshtein distance between code-point sequences (unit costs).
size_t edit_distance(const std::u32string& a, const std::u32string& b);

}  // namespace ocrkit
