#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "dynchat/http/url.hpp"

using namespace dynchat::http;

TEST_CASE("absolute URLs are split into origin and target", "[http][url]") {
  auto u = parse_url("HTTPS://Example.COM:8443/a/b?x=1&y=%20#frag");
  REQUIRE(u);
  CHECK(u->scheme == "https");
  CHECK(u->host == "example.com");
  CHECK(u->port == 8443);
  CHECK(u->target == "/a/b?x=1&y=%20");
  CHECK(u->host_header() == "example.com:8443");
  CHECK(u->origin() == "https://example.com:8443");
  CHECK(u->to_string() == "https://example.com:8443/a/b?x=1&y=%20");

  auto plain = parse_url("http://localhost");
  REQUIRE(plain);
  CHECK(plain->port == 80);
  CHECK(plain->target == "/");
  CHECK(plain->host_header() == "localhost"); // the default port is left out
  CHECK(plain->origin() == "http://localhost:80");

  auto query_only = parse_url("http://h?q=1");
  REQUIRE(query_only);
  CHECK(query_only->target == "/?q=1");

  auto v6 = parse_url("http://[::1]:8080/x");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->host_header() == "[::1]:8080");
  CHECK(v6->to_string() == "http://[::1]:8080/x");
  CHECK(parse_url("https://[::1]/")->port == 443);
}

TEST_CASE("URLs we would have to guess about are refused, each with its reason", "[http][url]") {
  const std::vector<std::pair<std::string, url_error>> cases = {
    {"", url_error::malformed},
    {"example.com/path", url_error::malformed},
    {"/relative", url_error::malformed},
    {"http:/one-slash", url_error::malformed},
    {"ftp://example.com/", url_error::unsupported_scheme},
    {"ws://example.com/", url_error::unsupported_scheme},
    {"http://user:secret@example.com/", url_error::has_credentials},
    {"http:///path", url_error::bad_host},
    {"http://exa mple.com/", url_error::bad_host},
    {"http://example.com:0/", url_error::bad_port},
    {"http://example.com:65536/", url_error::bad_port},
    {"http://example.com:80a/", url_error::bad_port},
    {"http://[::1/", url_error::bad_host},
    {"http://[not-v6]/", url_error::bad_host},
    {"http://[::1]x/", url_error::malformed},
    {"http://example.com/a b", url_error::bad_target},
    {"http://example.com/\r\nHost: evil", url_error::bad_target},
    {"http://example.com/caf\xc3\xa9", url_error::bad_target},
  };
  for (const auto& [text, expected] : cases) {
    INFO(text);
    auto u = parse_url(text);
    REQUIRE_FALSE(u);
    CHECK(u.error().code == expected);
    CHECK_FALSE(u.error().message.empty());
  }
}

TEST_CASE("references resolve against a base as RFC 3986 section 5.4 shows", "[http][url]") {
  const auto base = *parse_url("http://a/b/c/d;p?q");
  // §5.4.1 and §5.4.2 (fragments are dropped: they are never sent).
  const std::vector<std::pair<std::string, std::string>> cases = {
    {"g", "http://a/b/c/g"},       {"./g", "http://a/b/c/g"},          {"g/", "http://a/b/c/g/"},
    {"/g", "http://a/g"},          {"//g", "http://g/"},               {"?y", "http://a/b/c/d;p?y"},
    {"g?y", "http://a/b/c/g?y"},   {"#s", "http://a/b/c/d;p?q"},       {"g#s", "http://a/b/c/g"},
    {"g?y#s", "http://a/b/c/g?y"}, {";x", "http://a/b/c/;x"},          {"g;x", "http://a/b/c/g;x"},
    {"", "http://a/b/c/d;p?q"},    {".", "http://a/b/c/"},             {"./", "http://a/b/c/"},
    {"..", "http://a/b/"},         {"../", "http://a/b/"},             {"../g", "http://a/b/g"},
    {"../..", "http://a/"},        {"../../", "http://a/"},            {"../../g", "http://a/g"},
    {"../../../g", "http://a/g"},  {"../../../../g", "http://a/g"},    {"/./g", "http://a/g"},
    {"/../g", "http://a/g"},       {"g.", "http://a/b/c/g."},          {".g", "http://a/b/c/.g"},
    {"g..", "http://a/b/c/g.."},   {"..g", "http://a/b/c/..g"},        {"./../g", "http://a/b/g"},
    {"./g/.", "http://a/b/c/g/"},  {"g/./h", "http://a/b/c/g/h"},      {"g/../h", "http://a/b/c/h"},
    {"g;x=1/./y", "http://a/b/c/g;x=1/y"}, {"g;x=1/../y", "http://a/b/c/y"}, {"g?y/./x", "http://a/b/c/g?y/./x"},
    {"g#s/../x", "http://a/b/c/g"},
    {"https://other:444/z", "https://other:444/z"},
  };
  for (const auto& [reference, expected] : cases) {
    INFO(reference);
    auto u = resolve_reference(base, reference);
    REQUIRE(u);
    CHECK(u->to_string() == expected);
  }
  CHECK(resolve_reference(base, "g:h").error().code == url_error::unsupported_scheme);
  CHECK(resolve_reference(base, "a b").error().code == url_error::bad_target);
  // A scheme-relative reference keeps the base's scheme.
  CHECK(resolve_reference(*parse_url("https://a:8443/x"), "//b/y")->to_string() == "https://b/y");
}
