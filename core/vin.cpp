#include "core/vin.h"

namespace ocrkit {

const std::string& vin_alphabet() {
  static const std::string a = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
  return a;
}

bool in_vin_alphabet(char c) { return vin_alphabet().find(c) != std::string::npos; }

static int transliterate(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'H') return c - 'A' + 1;
  if (c >= 'J' && c <= 'N') return c - 'J' + 1;
  if (c == 'P') return 7;
  if (c == 'R') return 9;
  if (c >= 'S' && c <= 'Z') return c - 'S' + 2;
  return -1;
}

char vin_check_char(const std::string& vin) {
  static const int weights[kVinLength] = {8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2};
  if (vin.size() != kVinLength) return 0;
  int sum = 0;
  for (int i = 0; i < kVinLength; ++i) {
    if (!in_vin_alphabet(vin[i])) return 0;
    sum += transliterate(vin[i]) * weights[i];
  }
  int r = sum % 11;
  return r == 10 ? 'X' : static_cast<char>('0' + r);
}

bool vin_check_valid(const std::string& vin) {
  char c = vin_check_char(vin);
  return c != 0 && vin[8] == c;
}

}  // namespace ocrkit
