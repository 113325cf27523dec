#include <catch2/catch.hpp>

#include "dynchat/targeting/url_pattern.hpp"

using namespace dynchat::targeting;

TEST_CASE("glob: a star takes any run of characters, none included", "[targeting]") {
  struct row {
    const char* pattern;
    const char* text;
    bool match;
  };
  const row rows[] = {
    {"", "", true},          {"*", "", true},          {"*", "anything/at/all", true}, {"a*c", "ac", true},
    {"a*c", "abbbc", true},  {"a*c", "abbbd", false},  {"*.site.com", "www.site.com", true},
    {"*.site.com", "a.b.site.com", true},              {"*.site.com", "site.com", false},
    {"*.site.com", "site.com.evil.com", false},        {"/folder/*", "/folder/", true},
    {"/folder/*", "/folder", false},                   {"/f*/x*", "/foo/bar/xyz", true},
    {"**", "x", true},       {"a*b*c", "aXbYbZc", true}, {"abc", "abcd", false},
  };
  for (const auto& r : rows) {
    CAPTURE(r.pattern, r.text);
    CHECK(glob_match(r.pattern, r.text) == r.match);
  }
}

TEST_CASE("URL patterns: scheme, host and path, with query strings ignored", "[targeting]") {
  struct row {
    const char* pattern;
    const char* page;
    bool match;
  };
  const row rows[] = {
    {"https://*.site.com/folder/*", "https://www.site.com/folder/page?utm=1", true},
    {"https://*.site.com/folder/*", "https://www.site.com/other/page", false},
    {"https://*.site.com/folder/*", "http://www.site.com/folder/page", false}, // the scheme counts
    {"*://*.site.com/folder/*", "http://www.site.com/folder/page", true},
    {"https://site.com", "https://site.com/", true},                           // an empty path is "/"
    {"https://site.com", "https://site.com/pricing", false},
    {"https://site.com/*", "https://site.com", true},
    {"https://SITE.com/Pricing", "https://site.COM/Pricing", true},            // hosts without case
    {"https://site.com/Pricing", "https://site.com/pricing", false},           // paths with it
    {"https://site.com/pricing", "https://site.com:443/pricing#plans", true},  // default port, fragment
    {"https://site.com/pricing", "https://site.com:8443/pricing", false},
    {"https://site.com/*", "https://user@site.com/x", true},
    {"https://*.site.com/*", "https://evil.com/?.site.com/", false},
    {"https://*.site.com/*", "https://evil.com#.site.com/", false},
    {"https://*.site.com/*", "https://x.site.com@evil.com/", false},
    {"https://site.com/*", "https://site.com./x", true},                     // a trailing dot is the same host
    {"*://site.com/*", "https://site.com:80/x", false},                       // :80 is not https's default
  };
  for (const auto& r : rows) {
    CAPTURE(r.pattern, r.page);
    auto p = url_pattern::compile(r.pattern);
    REQUIRE(p);
    auto page = parse_page_url(r.page);
    REQUIRE(page);
    CHECK(p->matches(*page) == r.match);
  }
}

TEST_CASE("what is not an http(s) address is not a page, nor a pattern", "[targeting]") {
  for (const char* bad : {"", "site.com/x", "ftp://site.com/", "https://", "https:///path", "javascript:alert(1)",
                          "https://@/x", "https://evil.com\\@site.com/", "https://:443/"})
    CHECK_FALSE(parse_page_url(bad));
  CHECK_FALSE(url_pattern::compile("ftp://*.site.com/*"));
  CHECK_FALSE(url_pattern::compile("*.site.com/*"));
  CHECK(url_pattern::compile("*://*/*"));
}
