#include <catch2/catch.hpp>

#include "dynchat/rest/query.hpp"
#include "dynchat/rest/route_table.hpp"

using namespace dynchat::rest;

namespace {
route_table table() {
  return route_table{{{"GET", "/v1/agents", 1, {}},
                      {"POST", "/v1/agents", 2, {}},
                      {"GET", "/v1/agents/{id}", 3, {}},
                      {"DELETE", "/v1/agents/{id}", 4, {}},
                      {"GET", "/v1/conversations/{id}/transcript.txt", 5, {}}}};
}
} // namespace

TEST_CASE("a route is found by method and path, with its parameters", "[rest]") {
  auto t = table();
  auto m = t.match("GET", "/v1/agents/abc%20def");
  REQUIRE(m.what == route_match::kind::found);
  CHECK(m.handler == 3);
  CHECK(m.params.at("id") == "abc def");
  CHECK(t.match("POST", "/v1/agents").handler == 2);
  CHECK(t.match("GET", "/v1/agents/").handler == 1); // a trailing slash names the same resource
  CHECK(t.match("GET", "/v1/conversations/c1/transcript.txt").params.at("id") == "c1");
}

TEST_CASE("a known path with another method is 405 with the methods it has, an unknown one 404", "[rest]") {
  auto t = table();
  auto wrong = t.match("PUT", "/v1/agents");
  CHECK(wrong.what == route_match::kind::wrong_method);
  CHECK(wrong.allow == "GET, POST");
  CHECK(t.match("POST", "/v1/agents/x").allow == "GET, DELETE");
  CHECK(t.match("GET", "/v1/nothing").what == route_match::kind::no_such_path);
  CHECK(t.match("GET", "/v1/agents/a/b").what == route_match::kind::no_such_path);
  CHECK(t.match("GET", "/v1/agents/%zz").what == route_match::kind::no_such_path); // a bad escape matches nothing
  // An empty segment is not skipped: these name nothing, not /v1/agents or /v1/agents/{id}.
  for (const char* loose : {"/v1//agents", "//v1/agents", "/v1/agents//", "/v1//agents/x", "v1/agents", ""}) {
    INFO(loose);
    CHECK(t.match("GET", loose).what == route_match::kind::no_such_path);
  }
}

TEST_CASE("percent-decoding refuses malformed escapes", "[rest]") {
  CHECK(percent_decode("a%2Fb+c") == std::optional<std::string>{"a/b c"});
  CHECK_FALSE(percent_decode("%"));
  CHECK_FALSE(percent_decode("%4"));
  CHECK_FALSE(percent_decode("%g1"));
}

TEST_CASE("query parameters are checked and named in the error", "[rest]") {
  query ok{"limit=20&status=live"};
  CHECK(ok.integer("limit", 50, 1, 500) == 20);
  CHECK(ok.text("status", {"bot", "waiting", "live", "ended"}) == "live");
  CHECK_FALSE(ok.error());

  for (const char* bad : {"limit=abc", "limit=0", "limit=501", "limit=", "limit=1.5", "limit=10x"}) {
    query q{bad};
    q.integer("limit", 50, 1, 500);
    INFO(bad);
    REQUIRE(q.error());
    CHECK_THAT(*q.error(), Catch::Contains("'limit'"));
  }
  query unknown{"limt=5"};
  unknown.integer("limit", 50, 1, 500);
  CHECK_THAT(unknown.error().value_or(""), Catch::Contains("unknown parameter 'limt'"));
  query twice{"limit=1&limit=2"};
  twice.integer("limit", 50, 1, 500);
  CHECK_THAT(twice.error().value_or(""), Catch::Contains("more than once"));
  query status{"status=bogus"};
  status.text("status", {"bot", "live"});
  CHECK_THAT(status.error().value_or(""), Catch::Contains("'status'"));
  query escape{"cursor=%zz"};
  CHECK_THAT(escape.error().value_or(""), Catch::Contains("'cursor' has a malformed percent-escape"));
  query unnamed{"a%2o=1"}; // found by the fuzzer: the refusal said nothing of where
  CHECK_THAT(unnamed.error().value_or(""), Catch::Contains("at 'a%2o=1'"));
  query empty{"cursor="};
  empty.text("cursor");
  CHECK_THAT(empty.error().value_or(""), Catch::Contains("'cursor' must not be empty"));
  query absent{""};
  CHECK(absent.integer("limit", 50, 1, 500) == 50);
  CHECK_FALSE(absent.error());
}
