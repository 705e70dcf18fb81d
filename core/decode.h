// CTC decoding of per-frame class probabilities into text with per-character confidences.
#pragma once
#include <string>
#include <vector>

#include "core/charset.h"

namespace ocrkit {

class Config;

struct DecodeOptions {
  std::string method = "greedy";  // greedy | beam (beam is used whenever a length is required)
  int beam_width = 8;             // prefixes kept per frame in beam search
  std::string alphabet;           // only these characters may be emitted; empty = whole charset
  int length = 0;                 // exact number of characters (0 = any); VIN = 17
  // Check-character rule for beam search: none | vin | auto (vin when the alphabet is vin and the length 17).
  // With vin, when the best reading fails the check and another reading in the final beam passes it and
  // is at most check_ratio times less likely, that one wins: a confident read is never changed, and a VIN
  // without a check digit (outside North America) keeps its reading unless the model itself hesitated.
  std::string check = "auto";
  double check_ratio = 100;

  static DecodeOptions from_config(const Config& config);
};

struct Decoded {
  std::string text;
  std::vector<std::string> chars;  // the characters of text
  std::vector<float> char_conf;    // probability of each character at the frame that emitted it
  std::vector<int> char_frame;     // frame index that emitted each character
  float confidence = 0;            // the lowest character confidence (1 - mean blank prob when empty)
};

// Whether opt asks for the VIN check-character rule (check vin, or auto with the VIN alphabet and length).
bool uses_vin_check(const DecodeOptions& opt);
// Throws std::invalid_argument unless a model's class count matches the charset (blank + symbols).
void require_charset_classes(int classes, const Charset& charset);
// probs: T x C row-major probabilities (softmax output), class 0 = blank.
Decoded ctc_decode(const float* probs, int frames, int classes, const Charset& charset, const DecodeOptions& opt);

// Greedy decoding needs, per frame, only the best allowed class, its probability and the blank's
// probability: a GPU reduces to these three and copies 1/80 of the data back. Same result as
// ctc_decode with method greedy (ties go to the lower class in both).
bool decode_needs_all_classes(const DecodeOptions& opt);
Decoded ctc_decode_best(const int64_t* best_class, const float* best_prob, const float* blank_prob, int frames,
                        const Charset& charset);
// allowed[c] for every class (the alphabet constraint); the blank is always allowed.
std::vector<char> allowed_classes(const Charset& charset, const std::string& alphabet, int classes);

}  // namespace ocrkit
