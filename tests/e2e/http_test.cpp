// Malformed HTTP and bad REST parameters: every one gets a status and a JSON error
// naming what is wrong, and the server goes on serving.
#include "helpers.hpp"

#include "support/raw_client.hpp"

using namespace dynchat::testing;

namespace {

// Sends raw bytes and reads the one answer.
raw_client::http_answer ask_raw(std::uint16_t port, const std::string& request) {
  raw_client c;
  REQUIRE(c.connect(port));
  REQUIRE(c.send(request));
  auto answer = c.read_http(3s);
  REQUIRE(answer);
  return *answer;
}

std::string error_code_of(const std::string& body) { return json::parse(body, nullptr, false)["error"]["code"]; }

} // namespace

TEST_CASE("malformed HTTP gets 400, 414 or 431 with a JSON body, then close", "[e2e][http]") {
  daemon_process server;
  const auto port = server.port();
  auto big_headers = ask_raw(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'h') + "\r\n\r\n");
  CHECK(big_headers.status == 431);
  CHECK(error_code_of(big_headers.body) == "headers_too_large");
  auto long_target = ask_raw(port, "GET /v1/agents?x=" + std::string(9000, 'u') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(long_target.status == 414);
  CHECK(error_code_of(long_target.body) == "uri_too_long");
  auto huge_line = ask_raw(port, "GET /" + std::string(20000, 'u') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(huge_line.status == 414);
  auto bad_length = ask_raw(port, "POST /v1/agents HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n");
  CHECK(bad_length.status == 400);
  CHECK(error_code_of(bad_length.body) == "bad_request");
  auto nul = ask_raw(port, std::string("GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 44));
  CHECK(nul.status == 400);
  auto garbage = ask_raw(port, "HELLO THERE\r\n\r\n");
  CHECK(garbage.status == 400);
  CHECK_THAT(garbage.headers, Catch::Contains("Connection: close"));
  CHECK(http_call(port, "GET", "/healthz").status == 200);
}

TEST_CASE("a request that stalls before its headers are complete is answered 408 and closed", "[e2e][http]") {
  daemon_process server{{"--set", "server.header_timeout=1"}};
  raw_client slow;
  REQUIRE(slow.connect(server.port()));
  REQUIRE(slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")); // and nothing more
  auto answer = slow.read_http(3s);
  REQUIRE(answer);
  CHECK(answer->status == 408);
  CHECK(slow.wait_closed(2s));
  raw_client silent; // a connection that never sends a byte is just closed
  REQUIRE(silent.connect(server.port()));
  CHECK(silent.wait_closed(3s));
}

TEST_CASE("methods a resource does not have get 405 with Allow, everywhere", "[e2e][http]") {
  daemon_process server;
  for (auto [method, target] : {std::pair{"POST", "/healthz"}, std::pair{"DELETE", "/metrics"},
                                std::pair{"POST", "/v1/conversations"}, std::pair{"PUT", "/v1/agents"},
                                std::pair{"POST", "/v1/routing"}, std::pair{"POST", "/v1/agents/x"}}) {
    raw_client c;
    REQUIRE(c.connect(server.port()));
    c.send(std::string{method} + " " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin_token +
           "\r\nContent-Length: 0\r\n\r\n");
    auto a = c.read_http(3s);
    INFO(method << " " << target);
    REQUIRE(a);
    CHECK(a->status == 405);
    CHECK_THAT(a->headers, Catch::Contains("Allow: "));
    CHECK(error_code_of(a->body) == "method_not_allowed");
  }
  CHECK(http_call(server.port(), "GET", "/v1/visitor").status == 426); // a websocket endpoint, asked without upgrading
}

TEST_CASE("two Authorization headers are refused", "[e2e][http]") {
  daemon_process server;
  auto a = ask_raw(server.port(), "GET /v1/agents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin_token +
                                     "\r\nAuthorization: Bearer other\r\n\r\n");
  CHECK(a.status == 400);
  CHECK_THAT(a.body, Catch::Contains("Authorization"));
}

TEST_CASE("every bad REST parameter gets 400 naming it", "[e2e][http][rest]") {
  daemon_process server;
  ws_client visitor;
  const std::string conv = visitor_hello(visitor, server.port())["conversation_id"];
  const auto get = [&](const std::string& target) { return http_call(server.port(), "GET", target, {}, admin_token); };
  for (auto [target, name] : std::vector<std::pair<std::string, std::string>>{
         {"/v1/conversations?limit=abc", "'limit'"},
         {"/v1/conversations?limit=0", "'limit'"},
         {"/v1/conversations?limit=501", "'limit'"},
         {"/v1/conversations?since=abc", "'since'"},
         {"/v1/conversations?until=-1", "'until'"},
         {"/v1/conversations?since=10&until=5", "'since'"},
         {"/v1/conversations?status=bogus", "'status'"},
         {"/v1/conversations?agent_id=nope", "'agent_id'"},
         {"/v1/conversations?cursor=zz", "'cursor'"},
         {"/v1/conversations?cursor=", "'cursor'"},
         {"/v1/conversations?status=", "'status'"},
         {"/v1/conversations?limt=5", "'limt'"},
         {"/v1/conversations?limit=5&limit=6", "'limit'"},
         {"/v1/conversations/" + conv + "?after_seq=99", "'after_seq'"},
         {"/v1/conversations/" + conv + "?limit=0", "'limit'"},
         {"/v1/conversations/" + conv + "/transcript.txt?after_seq=x", "'after_seq'"},
         {"/v1/agents?limit=5", "'limit'"},
         {"/v1/routing?verbose=1", "'verbose'"},
       }) {
    auto r = get(target);
    INFO(target);
    CHECK(r.status == 400);
    CHECK(error_code_of(r.body) == "bad_parameter");
    CHECK_THAT(r.body, Catch::Contains(name));
  }
  CHECK(get("/v1/conversations?limit=500&status=waiting").status == 200);
  CHECK(get("/v1/conversations/" + conv + "?after_seq=0&limit=10").status == 200);
}

TEST_CASE("REST bodies go through the nesting guard and unknown fields are refused", "[e2e][http][rest]") {
  daemon_process server;
  auto deep = http_call(server.port(), "POST", "/v1/agents", std::string(100, '[') + std::string(100, ']'), admin_token);
  CHECK(deep.status == 400);
  CHECK(error_code_of(deep.body) == "bad_json");
  auto unknown = http_call(server.port(), "POST", "/v1/agents", R"({"name":"A","max_chat":3})", admin_token);
  CHECK(unknown.status == 400);
  CHECK_THAT(unknown.body, Catch::Contains("max_chat"));
  auto newline = http_call(server.port(), "POST", "/v1/agents", R"({"name":"A\n[2026] #1 B"})", admin_token);
  CHECK(newline.status == 400);
  for (const char* blank : {R"({"name":" "})", R"({"name":"\u00a0\u3000"})", R"({"name":"\u200b"})"}) {
    INFO(blank);
    auto r = http_call(server.port(), "POST", "/v1/agents", blank, admin_token);
    CHECK(r.status == 400);
    CHECK_THAT(r.body, Catch::Contains("not blank"));
  }
  CHECK(http_call(server.port(), "GET", "/v1/agents", {}, admin_token).json_body()["agents"].empty());
}

TEST_CASE("a path with an empty segment names nothing", "[e2e][http][rest]") {
  daemon_process server;
  for (const char* loose : {"/v1//agents", "//v1/agents", "/v1/agents//", "/v1//routing"}) {
    INFO(loose);
    CHECK(http_call(server.port(), "GET", loose, {}, admin_token).status == 404);
  }
  CHECK(http_call(server.port(), "GET", "/v1/agents/", {}, admin_token).status == 200);
}

TEST_CASE("a client that sends Expect: 100-continue is told to go on, and its body is served", "[e2e][http]") {
  daemon_process server;
  const std::string body = R"({"name":"Patient"})";
  raw_client c;
  REQUIRE(c.connect(server.port()));
  REQUIRE(c.send("POST /v1/agents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin_token +
                 "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n"));
  auto go_on = c.read_http(1s); // curl would wait a second, then send anyway
  REQUIRE(go_on);
  CHECK(go_on->status == 100);
  REQUIRE(c.send(body));
  auto created = c.read_http(3s);
  REQUIRE(created);
  CHECK(created->status == 201);
  CHECK_THAT(created->body, Catch::Contains("Patient"));
  // A body over the limit is refused at once, without a 100.
  raw_client big;
  REQUIRE(big.connect(server.port()));
  REQUIRE(big.send("POST /v1/agents HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 999999999\r\n\r\n"));
  auto refused = big.read_http(2s);
  REQUIRE(refused);
  CHECK(refused->status == 413);
}
