// A dialogue waiting for the page's events across a kill -9: still reported when it shows, and a refresh keeps its conversation.
#include "helpers.hpp"
#include <thread>

using namespace dynchat::testing;

namespace {

constexpr auto delay_flag = "chat.bot_response_delay_ms=10";

json bot_says(ws_client& v) {
  for (int i = 0; i < 20; ++i) {
    auto m = v.receive_type("message", 3s);
    REQUIRE(m);
    if ((*m)["from"] == "bot") return *m;
  }
  FAIL("no bot message");
  return {};
}

std::string create(std::uint16_t port, const std::string& body) {
  auto created = http_call(port, "POST", "/v1/dialogues", body, admin_token);
  INFO(created.body);
  REQUIRE(created.status == 201);
  return created.json_body()["id"];
}

void publish(std::uint16_t port, const std::string& id) {
  auto r = http_call(port, "POST", "/v1/dialogues/" + id + "/publish", {}, admin_token);
  INFO(r.body);
  REQUIRE(r.status == 200);
}

json totals(std::uint16_t port, const std::string& id) {
  return http_call(port, "GET", "/v1/dialogues/" + id + "/report", {}, admin_token).json_body()["totals"];
}

const char* patient = R"({
  "name": "Patient", "priority": 1, "audience": {"urls": ["https://example.com/*"], "events": {"scroll_pct": 50}},
  "start": "ask",
  "cards": [
    {"id": "ask", "kind": "question", "text": "Still reading?", "answers": [
      {"label": "Yes", "value": "yes", "next": "bye"}]},
    {"id": "bye", "kind": "end", "text": "Bye."}]})";

const char* plans_flow = R"({
  "type": "flow", "name": "Plans", "start": "q",
  "cards": [
    {"id": "q", "kind": "question", "text": "Which plan interests you?", "answers": [
      {"label": "Team", "value": "team", "next": "bye"}]},
    {"id": "bye", "kind": "end", "text": "Plans: that is all."}]})";

const char* welcome_dialogue = R"({
  "name": "Welcome", "priority": 1, "audience": {"urls": ["https://example.com/*"]}, "start": "ask",
  "cards": [
    {"id": "ask", "kind": "question", "text": "Hello! Looking for something?", "answers": [
      {"label": "Yes", "value": "yes", "next": "bye"}]},
    {"id": "bye", "kind": "end", "text": "Welcome: bye."}]})";

} // namespace

TEST_CASE("a dialogue waiting for page events, resumed after kill -9, is still reported when it shows",
          "[e2e][dialogues][events][restart]") {
  auto dir = std::filesystem::temp_directory_path() / ("dynchat-review-ev-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  json w;
  std::string id;
  {
    daemon_process server({"--set", delay_flag}, dir);
    id = create(server.port(), patient);
    publish(server.port(), id);
    ws_client v;
    w = visitor_hello(v, server.port());
    REQUIRE(w["dialogue"]["id"] == id);
    REQUIRE(w["dialogue"].contains("events"));
    v.send({{"type", "event"}, {"kind", "scroll_pct"}, {"value", 10}});
    CHECK_FALSE(v.receive_type("message", 300ms));
    server.kill_hard();
  }
  daemon_process server({"--set", delay_flag}, dir);
  ws_client v; // the widget reconnects (not a page load)
  auto back = visitor_hello(v, server.port(), ws_client::mode::json, {{"resume_token", w["resume_token"]}});
  CHECK(back["conversation_id"] == w["conversation_id"]);
  v.send({{"type", "event"}, {"kind", "scroll_pct"}, {"value", 80}});
  CHECK(bot_says(v)["text"] == "Still reading?");
  v.send({{"type", "choose"}, {"client_msg_id", "c1"}, {"option", "yes"}});
  REQUIRE(v.receive_type("ack"));
  CHECK(bot_says(v)["text"] == "Bye.");
  const auto t = totals(server.port(), id);
  INFO(t.dump());
  CHECK(t["triggered"] == 1);
  CHECK(t["engaged"] == 1);
  CHECK(t["completed"] == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("after a restart a refresh keeps the conversation waiting for page events",
          "[e2e][dialogues][events][restart]") {
  auto dir = std::filesystem::temp_directory_path() / ("dynchat-review-ev2-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  json w;
  std::string id;
  {
    daemon_process server({"--set", delay_flag}, dir);
    id = create(server.port(), patient);
    publish(server.port(), id);
    ws_client v;
    w = visitor_hello(v, server.port());
    v.send({{"type", "event"}, {"kind", "scroll_pct"}, {"value", 40}});
    CHECK_FALSE(v.receive_type("message", 300ms));
    server.kill_hard();
  }
  daemon_process server({"--set", delay_flag}, dir);
  ws_client v;
  auto back = visitor_hello(v, server.port(), ws_client::mode::json, {{"resume_token", w["resume_token"]}, {"page_load", true}});
  CHECK(back["conversation_id"] == w["conversation_id"]);
  v.send({{"type", "event"}, {"kind", "scroll_pct"}, {"value", 10}}); // the 40 from before should still count... 
  CHECK_FALSE(v.receive_type("message", 300ms));
  std::filesystem::remove_all(dir);
}

