#include <catch2/catch.hpp>

#include "dynchat/protocol/text_rules.hpp"

using dynchat::protocol::is_blank;

TEST_CASE("text that shows nothing in any script is blank", "[protocol]") {
  for (const char* blank : {"", " ", "\t\r\n ", "\u00a0", "\u3000\u3000", "\u200b", "\u2003\u200d\ufeff", "\u2028", " \u202f ",
                            "\u3164", "\u200e\u200f", "\u00ad", "\u2800", "\ufe0f", "\U000E0041", "\u115f\u1160"}) {
    INFO(blank);
    CHECK(is_blank(blank));
  }
}

TEST_CASE("text with anything visible, or not UTF-8, is not blank", "[protocol]") {
  for (const char* shown : {"a", " .", "\u00a0x", "\u3000\u4e2d", "\U0001F600", "\u200b!", "0"}) {
    INFO(shown);
    CHECK_FALSE(is_blank(shown));
  }
  CHECK_FALSE(is_blank("\xe3\x80"));     // a cut-off U+3000
  CHECK_FALSE(is_blank("\xa0"));         // a lone continuation byte
  CHECK_FALSE(is_blank(" \xff "));       // never a UTF-8 byte
  CHECK_FALSE(is_blank("\xc0\xa0"));     // an overlong space
  CHECK_FALSE(is_blank("\xed\xa0\x80")); // a surrogate
}
