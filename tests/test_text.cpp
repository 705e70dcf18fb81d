#include <gtest/gtest.h>

#include "core/charset.h"
#include "core/text.h"
#include "core/vin.h"

using namespace ocrkit;

TEST(Text, Utf8RoundTripAndChars) {
  std::string s = "Aé€😀";
  auto chars = utf8_chars(s);
  ASSERT_EQ(chars.size(), 4u);
  EXPECT_EQ(chars[1], "é");
  EXPECT_EQ(chars[3], "😀");
  EXPECT_EQ(u32_to_utf8(utf8_to_u32(s)), s);
  EXPECT_FALSE(valid_utf8("\xC3"));
  EXPECT_THROW(utf8_chars("ab\xFF"), std::runtime_error);
}

TEST(Text, NormaliseLabels) {
  EXPECT_EQ(nfc("e\u0301"), "\u00e9");
  EXPECT_EQ(normalize_label("  of\uFB01ce\tspace  "), "office space");
  EXPECT_EQ(normalize_label("a\u00a0b"), "a b");
  EXPECT_EQ(collapse_whitespace(" a  b \n c "), "a b c");
}

TEST(Text, EditDistance) {
  EXPECT_EQ(edit_distance(U"kitten", U"sitting"), 3u);
  EXPECT_EQ(edit_distance(U"", U"abc"), 3u);
  EXPECT_EQ(edit_distance(U"abc", U"abc"), 0u);
  EXPECT_EQ(edit_distance(U"abcd", U"acd"), 1u);
}

TEST(Charset, EncodeAndPresets) {
  Charset vin = Charset::from_spec("vin");
  EXPECT_EQ(vin.num_classes(), 34);  // 33 VIN characters + blank
  EXPECT_FALSE(vin.contains("I"));
  EXPECT_FALSE(vin.contains("O"));
  EXPECT_FALSE(vin.contains("Q"));
  auto ids = vin.encode("1A0");
  EXPECT_EQ(ids, (std::vector<int>{2, 11, 1}));
  EXPECT_EQ(vin.symbol(11), "A");
  EXPECT_THROW(vin.encode("IO"), std::invalid_argument);
  EXPECT_EQ(vin.missing("AIQB"), "IQ");
  Charset printed = Charset::from_spec("printed");
  EXPECT_TRUE(printed.contains(" "));
  EXPECT_TRUE(printed.contains("é"));
  EXPECT_TRUE(printed.contains("“"));
  EXPECT_TRUE(printed.contains("—"));
  for (const char* c : {"├", "∗", "⟨", "⟩", "ε", "χ", "Ω"}) EXPECT_TRUE(printed.contains(c)) << c;
  EXPECT_EQ(printed.num_classes(), 1 + 241 + 41);  // blank, the characters of printed-v1 stages 1-3, stage 4's
  Charset literal = Charset::from_spec("abca");
  EXPECT_EQ(literal.num_classes(), 4);  // duplicates collapse
}

TEST(Vin, CheckDigit) {
  EXPECT_TRUE(vin_check_valid("1M8GDM9AXKP042788"));
  EXPECT_EQ(vin_check_char("1M8GDM9AXKP042788"), 'X');
  EXPECT_FALSE(vin_check_valid("1M8GDM9AXKP042789"));
  EXPECT_TRUE(vin_check_valid("11111111111111111"));  // classic all-ones example: check digit 1
  EXPECT_FALSE(vin_check_valid("1M8GDM9AXKP04278"));  // too short
  EXPECT_FALSE(vin_check_valid("1M8GDM9AXKP04278O"));  // O is not a VIN character
}
