#include <catch2/catch.hpp>

#include <random>

#include "dynchat/protocol/codec.hpp"

using namespace dynchat::protocol;

namespace {
json sample() {
  return json{{"type", "message"}, {"seq", 42u}, {"neg", -7}, {"pi", 3.25}, {"ok", true}, {"none", nullptr},
              {"text", "héllo \xe2\x9c\x93"}, {"list", json::array({1u, "two", json::object({{"x", 1u}})})}};
}
} // namespace

TEST_CASE("JSON and MessagePack round trip to the same value", "[protocol]") {
  auto v = sample();
  for (auto enc : {encoding::json, encoding::msgpack}) {
    auto bytes = serialize(v, enc);
    auto back = parse(bytes, enc);
    REQUIRE(back);
    CHECK(*back == v);
  }
}

TEST_CASE("MessagePack output is what nlohmann's independent encoder reads back", "[protocol]") {
  auto v = sample();
  CHECK(json::from_msgpack(to_msgpack(v)) == v);
  auto theirs = json::to_msgpack(v);
  auto ours = parse_msgpack(std::string{theirs.begin(), theirs.end()});
  REQUIRE(ours);
  CHECK(*ours == v);
}

TEST_CASE("every truncation of a valid frame is an error, never a crash", "[protocol]") {
  auto v = sample();
  for (auto enc : {encoding::json, encoding::msgpack}) {
    auto bytes = serialize(v, enc);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      auto r = parse(std::string_view{bytes}.substr(0, n), enc);
      INFO("encoding " << static_cast<int>(enc) << " prefix " << n);
      CHECK_FALSE(r);
    }
  }
}

TEST_CASE("random garbage is refused or decodes to a value that round trips", "[protocol]") {
  std::mt19937 rng{12345};
  std::uniform_int_distribution<int> byte{0, 255}, len{0, 200};
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s(static_cast<std::size_t>(len(rng)), '\0');
    for (auto& c : s) c = static_cast<char>(byte(rng));
    for (auto enc : {encoding::msgpack, encoding::json}) {
      auto r = parse(s, enc);
      if (!r) continue;
      ++decoded;
      // Whatever the decoder accepts must be a well-formed value: it serializes and
      // decodes back to itself in both encodings.
      for (auto out : {encoding::msgpack, encoding::json}) {
        auto again = parse(serialize(*r, out), out);
        REQUIRE(again);
        CHECK(*again == *r);
      }
    }
  }
  CHECK(decoded > 0); // single bytes like 0x01 are valid MessagePack: the property was exercised
}

TEST_CASE("trailing bytes and empty input are refused", "[protocol]") {
  auto bytes = to_msgpack(json{{"type", "x"}}) + "\x01";
  auto r = parse_msgpack(bytes);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == error_code::bad_frame);
  CHECK_FALSE(parse_msgpack(""));
  CHECK_FALSE(parse_json(""));
  CHECK_FALSE(parse_json(R"({"a":1} x)"));
}

TEST_CASE("nesting past the limit is refused before it is built", "[protocol]") {
  std::string deep_json(5000, '[');
  auto r = parse_json(deep_json);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == error_code::too_deep);
  std::string deep_pack(5000, '\x91'); // fixarray of 1, nested
  deep_pack += '\xc0';
  auto m = parse_msgpack(deep_pack);
  REQUIRE_FALSE(m);
  CHECK(m.error().code == error_code::too_deep);
  // Brackets inside strings do not count.
  CHECK(parse_json(R"({"text":"[[[[[[[[[[[[[[[[[[[[[[[[[["})"));
}

TEST_CASE("MessagePack strings must be valid UTF-8 and keys must be strings", "[protocol]") {
  auto r = parse_msgpack(std::string("\x81\xa1k\xa2\xc3\x28", 6));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == error_code::bad_utf8);
  auto k = parse_msgpack(std::string("\x81\x01\x02", 3));
  REQUIRE_FALSE(k);
  CHECK(k.error().code == error_code::bad_frame);
}

TEST_CASE("UTF-8 validation follows RFC 3629", "[protocol]") {
  CHECK(is_valid_utf8("plain"));
  CHECK(is_valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));         // overlong
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));     // surrogate
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80")); // past U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xe2\x82"));         // truncated
  CHECK_FALSE(is_valid_utf8("\x80"));             // lone continuation
}

TEST_CASE("MessagePack errors are our own words, not the library's", "[protocol]") {
  // A map announcing 2^32-1 entries in a 5-byte frame; a string cut short; a reserved byte.
  for (const std::string& bytes : {std::string("\xdf\xff\xff\xff\xff", 5), std::string("\xa5he", 3), std::string("\xc1", 1)}) {
    auto r = parse_msgpack(bytes);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == error_code::bad_frame);
    INFO(r.error().message);
    CHECK(r.error().message.find("overflow") == std::string::npos);
    CHECK(r.error().message.find("MessagePack") != std::string::npos);
  }
}

TEST_CASE("MessagePack NaN and infinities are refused: JSON could not carry them (found by the fuzzer)", "[protocol]") {
  const std::string nan_in_array{"\x91\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", 10};
  const std::string inf{"\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00", 9};
  const std::string float32_inf{"\xca\x7f\x80\x00\x00", 5};
  for (const auto& bytes : {nan_in_array, inf, float32_inf}) {
    auto r = parse_msgpack(bytes);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == error_code::bad_frame);
  }
  auto finite = parse_msgpack(std::string{"\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00", 9});
  REQUIRE(finite);
  CHECK(*finite == 1.5);
}
