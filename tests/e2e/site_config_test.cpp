// /v1/config over a real dynchatd: defaults, a refused save with every problem, a saved
// one in every new welcome and kept across a restart; the response delay, blocked email
// domains, allowed site domains and the chat switch as visitors meet them.
#include "helpers.hpp"

#include <algorithm>
#include <set>

using namespace dynchat::testing;

namespace {

http_result put_config(std::uint16_t port, const json& body) {
  return http_call(port, "PUT", "/v1/config", body.dump(), admin_token);
}

const char* const capture_dialogue = R"({
  "name": "Capture", "priority": 1, "start": "email",
  "cards": [
    {"id": "email", "kind": "capture", "text": "Your email?", "capture": "email", "next": "bye"},
    {"id": "bye", "kind": "end", "text": "Thanks"}]})";

} // namespace

TEST_CASE("the configuration is checked, stored, sent in welcome and kept across a restart", "[e2e][config]") {
  const auto dir = fresh_dir("site-config");
  {
    daemon_process server({}, dir);
    const auto port = server.port();
    auto defaults = http_call(port, "GET", "/v1/config", {}, admin_token);
    REQUIRE(defaults.status == 200);
    CHECK(defaults.json_body()["chat_enabled"] == true);
    CHECK(defaults.json_body()["blocked_email_domains"].empty());

    auto refused = put_config(port, {{"primary_color", "blue"}, {"bot_name", ""}, {"launcher", "left"}});
    REQUIRE(refused.status == 400);
    std::set<std::string> paths;
    const auto envelope = refused.json_body();
    for (auto& p : envelope["error"]["problems"]) paths.insert(p["path"]);
    CHECK(paths == std::set<std::string>{"primary_color", "bot_name", "launcher"});
    CHECK(http_call(port, "GET", "/v1/config", {}, admin_token).json_body() == defaults.json_body()); // nothing stored

    auto saved = put_config(port, {{"primary_color", "#112233"}, {"bot_name", "Ada"}, {"header_label", "Talk to Acme"}});
    REQUIRE(saved.status == 200);
    CHECK(saved.json_body()["bot_name"] == "Ada");
    ws_client v;
    auto w = visitor_hello(v, port);
    CHECK(w["config"]["bot_name"] == "Ada");
    CHECK(w["config"]["primary_color"] == "#112233");
    CHECK(w["config"]["header_label"] == "Talk to Acme");
    CHECK(w["config"]["max_text_bytes"].is_number()); // the limits are still there
    CHECK_FALSE(w["config"].contains("blocked_email_domains"));
    // Only for marketers: an agent's token may not read it.
    auto agent = create_agent(port, "Ann", 1);
    CHECK(http_call(port, "GET", "/v1/config", {}, agent.second).status == 403);
    server.kill_hard();
  }
  daemon_process server({}, dir);
  CHECK(http_call(server.port(), "GET", "/v1/config", {}, admin_token).json_body()["bot_name"] == "Ada");
  std::filesystem::remove_all(dir);
}

TEST_CASE("the response delay and the blocked email domains reach the conversations", "[e2e][config]") {
  daemon_process server;
  const auto port = server.port();
  auto created = http_call(port, "POST", "/v1/dialogues", capture_dialogue, admin_token);
  REQUIRE(created.status == 201);
  const std::string id = created.json_body()["id"];
  REQUIRE(http_call(port, "POST", "/v1/dialogues/" + id + "/publish", {}, admin_token).status == 200);
  REQUIRE(put_config(port, {{"response_delay_seconds", 0}, {"blocked_email_domains", {"gmail.com"}}}).status == 200);
  ws_client v;
  visitor_hello(v, port);
  auto first = v.receive(); // no delay: the question itself, no typing before it
  REQUIRE(first);
  CHECK((*first)["type"] == "message");
  CHECK((*first)["prompt"]["input"] == "email");
  v.send({{"type", "say"}, {"client_msg_id", "1"}, {"text", "me@GMail.com"}});
  REQUIRE(v.receive_type("ack"));
  auto refusal = v.receive_type("message");
  REQUIRE(refusal);
  CHECK((*refusal)["text"] == "Please use your work email address.");

  // A delay of 0.3 s: typing first, the message after it.
  REQUIRE(put_config(port, {{"response_delay_seconds", 0.3}, {"blocked_email_domains", {"gmail.com"}}}).status == 200);
  auto asked = v.receive_type("message"); // the question again (said at once: it was due before the change)
  REQUIRE(asked);
  v.send({{"type", "say"}, {"client_msg_id", "2"}, {"text", "me@acme.example"}});
  const auto sent = std::chrono::steady_clock::now();
  // The bot's typing may come before the ack (the ack waits for the commit).
  std::vector<std::string> types;
  for (auto f = v.receive(); f; f = v.receive()) {
    types.push_back((*f)["type"]);
    if ((*f)["type"] == "message") {
      CHECK((*f)["text"] == "Thanks");
      break;
    }
  }
  CHECK(std::chrono::steady_clock::now() - sent >= 290ms);
  CHECK(std::count(types.begin(), types.end(), "typing") == 1);
  CHECK(std::count(types.begin(), types.end(), "ack") == 1);
  CHECK(types.back() == "message");
}

TEST_CASE("allowed site domains and the chat switch decide who may start a chat", "[e2e][config]") {
  daemon_process server;
  const auto port = server.port();
  REQUIRE(put_config(port, {{"allowed_site_domains", {"*.acme.example"}}}).status == 200);
  ws_client ok;
  auto w = visitor_hello(ok, port, ws_client::mode::json, {{"page_url", "https://www.acme.example/pricing"}});
  const std::string token = w["resume_token"];
  ws_client other;
  REQUIRE(other.connect(port, "/v1/visitor") == 0);
  other.send({{"type", "hello"}, {"page_url", "https://copycat.example/"}});
  expect_error(other, "forbidden");
  expect_close(other, 1008);

  REQUIRE(put_config(port, {{"allowed_site_domains", {"*.acme.example"}}, {"chat_enabled", false}}).status == 200);
  ws_client late;
  REQUIRE(late.connect(port, "/v1/visitor") == 0);
  late.send({{"type", "hello"}, {"page_url", "https://www.acme.example/pricing"}});
  expect_error(late, "unavailable");
  // A conversation already open carries on.
  ok.close();
  ws_client back;
  auto resumed = visitor_hello(back, port, ws_client::mode::json,
                               {{"page_url", "https://www.acme.example/pricing"}, {"resume_token", token}});
  CHECK(resumed["conversation_id"] == w["conversation_id"]);
  CHECK(resumed["config"]["chat_enabled"] == false);
}
