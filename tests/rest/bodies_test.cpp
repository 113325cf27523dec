#include <catch2/catch.hpp>

#include "dynchat/rest/bodies.hpp"

using namespace dynchat::rest;
using nlohmann::json;

TEST_CASE("an agent body gives the fields it names and refuses the rest with the reason", "[rest][bodies]") {
  auto full = decode_agent_body(json::parse(R"({"name":"Ann","email":"ann@example.com","max_chats":3})"), true);
  REQUIRE(full);
  CHECK(full->name == "Ann");
  CHECK(full->max_chats == 3u);
  auto partial = decode_agent_body(json::parse(R"({"max_chats":10})"), false);
  REQUIRE(partial);
  CHECK_FALSE(partial->name);
  struct row {
    const char* body;
    bool creating;
    const char* reason;
  };
  const row rows[] = {
    {R"({"max_chats":3})", true, "name is required"},
    {R"({"name":"\u00a0\u200b"})", true, "name must be"},
    {R"({"name":"A\u0007"})", true, "name must be"},
    {R"({"name":5})", true, "name must be"},
    {R"({"max_chats":11})", false, "max_chats must be"},
    {R"({"max_chats":2.5})", false, "max_chats must be"},
    {R"({"email":["x"]})", false, "email must be"},
    {R"({"role":"admin"})", false, "unknown field 'role'"},
    {R"("Ann")", true, "must be a JSON object"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.body);
    auto d = decode_agent_body(json::parse(r.body), r.creating);
    REQUIRE_FALSE(d);
    CHECK(d.error().message.find(r.reason) != std::string::npos);
  }
  CHECK_FALSE(decode_agent_body(json::parse(R"({"name":")" + std::string(101, 'a') + R"("})"), true));
}

TEST_CASE("a token body names a role, and an agent id exactly for the agent role", "[rest][bodies]") {
  auto marketer = decode_token_body(json::parse(R"({"name":"reports","role":"marketer"})"));
  REQUIRE(marketer);
  CHECK(marketer->agent_id.empty());
  auto agent = decode_token_body(json::parse(R"({"name":"ann","role":"agent","agent_id":"0123456789abcdef0123456789abcdef"})"));
  REQUIRE(agent);
  CHECK(agent->agent_id == "0123456789abcdef0123456789abcdef");
  // null is the same as leaving it out
  CHECK(decode_token_body(json::parse(R"({"name":"x","role":"marketer","agent_id":null})")));
  CHECK_FALSE(decode_token_body(json::parse(R"({"name":"x","role":"agent","agent_id":"ANN"})")));
  CHECK_FALSE(decode_token_body(json::parse(R"({"name":"x","role":"Admin"})")));
}
