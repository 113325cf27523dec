#include <catch2/catch.hpp>

#include "dynchat/marketo/identity.hpp"

using namespace dynchat::marketo;

TEST_CASE("the Munchkin cookie is read raw or percent-encoded", "[marketo]") {
  auto c = parse_tracking_cookie("id:123-abc-456&token:_mch-example.com-1700000000000-12345");
  REQUIRE(c);
  CHECK(c->munchkin_id == "123-ABC-456");
  CHECK(c->token == "_mch-example.com-1700000000000-12345");
  CHECK(c->value() == "id:123-ABC-456&token:_mch-example.com-1700000000000-12345");
  auto encoded = parse_tracking_cookie("id%3A123-ABC-456%26token%3A_mch-example.com-1-2");
  REQUIRE(encoded);
  CHECK(encoded->token == "_mch-example.com-1-2");
  auto more = parse_tracking_cookie("id:123-ABC-456&token:_mch-a.com-1-2&later:x");
  REQUIRE(more);
  CHECK(more->token == "_mch-a.com-1-2");
  for (const char* bad : {"", "token:_mch-a", "id:123-ABC-456", "id:12-ABC-456&token:_mch-a.com-1",
                          "id:123-ABC-456&token:mch-a.com-1", "id:123-ABC-456&token:_mch-<script>",
                          "id:123-ABC-456&token:_mch"})
    CHECK_FALSE(parse_tracking_cookie(bad));
  CHECK_FALSE(parse_tracking_cookie(std::string(500, 'a')));
}

TEST_CASE("an Adobe org id is 24 hexadecimal characters with or without @AdobeOrg", "[marketo]") {
  auto ok = normalize_adobe_org("1234567890abcdef12345678@AdobeOrg");
  REQUIRE(ok.index() == 0);
  CHECK(std::get<0>(ok) == "1234567890ABCDEF12345678");
  CHECK(std::get<0>(normalize_adobe_org(" 1234567890ABCDEF12345678 ")) == "1234567890ABCDEF12345678");
  CHECK(std::get<0>(normalize_adobe_org("1234567890ABCDEF12345678@adobeorg")) == "1234567890ABCDEF12345678");

  auto why = [](const char* s) { return std::get<1>(normalize_adobe_org(s)); };
  CHECK_THAT(why(""), Catch::Contains("empty"));
  CHECK_THAT(why("1234567890ABCDEF1234567@AdobeOrg"), Catch::Contains("has 23 characters"));
  CHECK_THAT(why("1234567890ABCDEF123456789"), Catch::Contains("has 25 characters"));
  CHECK_THAT(why("1234567890ABCDEG12345678"), Catch::Contains("\"G\" at position 16"));
  CHECK_THAT(why("1234567890ABCDEF12345678@Adobe"), Catch::Contains("only suffix"));
}
