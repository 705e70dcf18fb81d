// Vehicle identification numbers: 17 characters from A-H J-N P R-Z 0-9 (never I, O, Q), with a check
// digit at position 9 (North America). A failed check changes a read only where the model itself hesitated
// between readings (DecodeOptions::check); otherwise it is a flag.
#pragma once
#include <string>

namespace ocrkit {

constexpr int kVinLength = 17;
// "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
const std::string& vin_alphabet();
bool in_vin_alphabet(char c);
// The check character ('0'-'9' or 'X') for a 17-character VIN; 0 when the text is not VIN-shaped.
char vin_check_char(const std::string& vin);
// True when the text is 17 VIN-alphabet characters and position 9 holds the right check character.
bool vin_check_valid(const std::string& vin);

}  // namespace ocrkit
