// Conversational flows over real websockets: started by the page's trigger frame, run as
// often as asked, one report row per run, refused during a live chat; embedded by a
// dialogue's flow card when it is published; a kill -9 in the middle of a flow; a dialogue
// waiting for the page's events across a kill -9.
#include "helpers.hpp"

using namespace dynchat::testing;

namespace {

constexpr auto delay_flag = "chat.bot_response_delay_ms=10";

void choose(ws_client& v, const std::string& option, const std::string& id) {
  v.send({{"type", "choose"}, {"client_msg_id", id}, {"option", option}});
  REQUIRE(v.receive_type("ack"));
}

const char* plans_flow = R"({
  "type": "flow", "name": "Plans", "start": "q",
  "cards": [
    {"id": "q", "kind": "question", "text": "Which plan interests you?", "answers": [
      {"label": "Team", "value": "team", "next": "goal"},
      {"label": "Enterprise", "value": "ent", "next": "bye"}]},
    {"id": "goal", "kind": "goal", "name": "Plan picked", "next": "bye"},
    {"id": "bye", "kind": "end", "text": "Plans: that is all."}]})";

const char* welcome_dialogue = R"({
  "name": "Welcome", "priority": 1, "audience": {"urls": ["https://example.com/*"]}, "start": "ask",
  "cards": [
    {"id": "ask", "kind": "question", "text": "Hello! Looking for something?", "answers": [
      {"label": "Yes", "value": "yes", "next": "bye"}]},
    {"id": "bye", "kind": "end", "text": "Welcome: bye."}]})";

const char* patient = R"({
  "name": "Patient", "priority": 1, "audience": {"urls": ["https://example.com/*"], "events": {"scroll_pct": 50}},
  "start": "ask",
  "cards": [
    {"id": "ask", "kind": "question", "text": "Still reading?", "answers": [
      {"label": "Yes", "value": "yes", "next": "bye"}]},
    {"id": "bye", "kind": "end", "text": "Bye."}]})";

std::string create(std::uint16_t port, const std::string& body) {
  auto created = http_call(port, "POST", "/v1/dialogues", body, admin_token);
  REQUIRE(created.status == 201);
  return created.json_body()["id"];
}

void publish(std::uint16_t port, const std::string& id) {
  auto r = http_call(port, "POST", "/v1/dialogues/" + id + "/publish", {}, admin_token);
  INFO(r.body);
  REQUIRE(r.status == 200);
}

json report(std::uint16_t port, const std::string& id) {
  return http_call(port, "GET", "/v1/dialogues/" + id + "/report", {}, admin_token).json_body()["totals"];
}

std::string with_flow_card(const std::string& flow_id) {
  auto j = json::parse(R"({
    "name": "Pricing", "priority": 2, "audience": {"urls": ["https://example.com/pricing"]}, "start": "hi",
    "cards": [
      {"id": "hi", "kind": "message", "text": "Pricing here.", "next": "plans"},
      {"id": "plans", "kind": "flow", "flow_id": "", "next": "after"},
      {"id": "after", "kind": "end", "text": "Back to pricing."}]})");
  j["cards"][1]["flow_id"] = flow_id;
  return j.dump();
}

} // namespace

TEST_CASE("the page triggers a flow as often as it likes, each run reported, never during a live chat",
          "[e2e][dialogues][flows]") {
  daemon_process server({"--set", delay_flag});
  const auto port = server.port();
  const auto flow = create(port, plans_flow);
  auto listed = http_call(port, "GET", "/v1/dialogues/" + flow, {}, admin_token).json_body();
  CHECK(listed["type"] == "flow");
  CHECK(listed["priority"].is_null());
  const auto dialogue = create(port, welcome_dialogue);
  publish(port, dialogue);

  ws_client v;
  auto w = visitor_hello(v, port);
  CHECK(w["dialogue"]["id"] == dialogue);
  CHECK(bot_says(v)["text"] == "Hello! Looking for something?");
  // Not published yet, a dialogue's id, no such id: nothing starts.
  for (const auto& id : {flow, dialogue, std::string{"nope"}}) {
    v.send({{"type", "trigger"}, {"flow", id}});
    expect_error(v, "not_found");
  }
  publish(port, flow);
  v.send({{"type", "trigger"}, {"flow", flow}});
  auto q = bot_says(v);
  CHECK(q["text"] == "Which plan interests you?");
  // A second click while it waits asks the same question again; nothing restarts.
  v.send({{"type", "trigger"}, {"flow", flow}});
  CHECK(bot_says(v)["text"] == "Which plan interests you?");
  choose(v, "team", "f1");
  CHECK(bot_says(v)["text"] == "Plans: that is all.");
  // Finished: a click runs it again, as a run of its own.
  v.send({{"type", "trigger"}, {"flow", flow}});
  CHECK(bot_says(v)["text"] == "Which plan interests you?");
  choose(v, "ent", "f2");
  CHECK(bot_says(v)["text"] == "Plans: that is all.");

  // A refresh: the conversation is the flow's now.
  v.close();
  ws_client back;
  auto again = visitor_hello(back, port, ws_client::mode::json, {{"resume_token", w["resume_token"]}});
  CHECK(again["dialogue"]["id"] == flow);
  CHECK(again["dialogue"]["type"] == "flow");
  CHECK(again["dialogue"]["finished"] == true);

  const auto runs = report(port, flow);
  CHECK(runs["triggered"] == 2);
  CHECK(runs["engaged"] == 2);
  CHECK(runs["completed"] == 2);
  CHECK(runs["goals_reached"] == 1);
  const auto left = report(port, dialogue);
  CHECK(left["triggered"] == 1);
  CHECK(left["engaged"] == 0); // the flow took over before an answer
  // One flow_engaged activity for this conversation, however often the flow ran.
  auto conv = http_call(port, "GET", "/v1/conversations/" + w["conversation_id"].get<std::string>(), {}, admin_token).json_body();
  int flow_engaged = 0;
  const auto activities = conv["activities"];
  for (const auto& a : activities)
    if (a["kind"] == "flow_engaged") {
      ++flow_engaged;
      CHECK(a["dialogue_id"] == flow);
    }
  CHECK(flow_engaged == 1);

  // A visitor no dialogue meets is waiting for an agent: the flow must wait too.
  ws_client live;
  visitor_hello(live, port, ws_client::mode::json, {{"page_url", "https://other.example/"}});
  live.send({{"type", "trigger"}, {"flow", flow}});
  expect_error(live, "conflict");

  // A flow is neither turned into a dialogue nor deleted while a dialogue embeds it.
  auto as_dialogue = json::parse(welcome_dialogue);
  CHECK(http_call(port, "PUT", "/v1/dialogues/" + flow, as_dialogue.dump(), admin_token).status == 409);
  const auto embedding = create(port, with_flow_card(flow));
  CHECK(http_call(port, "POST", "/v1/dialogues/" + flow + "/unpublish", {}, admin_token).status == 200);
  auto refused = http_call(port, "DELETE", "/v1/dialogues/" + flow, {}, admin_token);
  CHECK(refused.status == 409);
  CHECK(refused.body.find(embedding) != std::string::npos);
}

TEST_CASE("a trigger during the bot's typing delay: what the old dialogue held back is never said",
          "[e2e][dialogues][flows]") {
  daemon_process server({"--set", "chat.bot_response_delay_ms=300"});
  const auto port = server.port();
  const auto flow = create(port, plans_flow);
  publish(port, flow);
  publish(port, create(port, welcome_dialogue));
  ws_client v;
  visitor_hello(v, port);
  v.send({{"type", "trigger"}, {"flow", flow}});
  std::vector<std::string> said;
  for (auto m = v.receive_type("message", 2s); m; m = v.receive_type("message", 1s)) said.push_back((*m)["text"]);
  CHECK(said == std::vector<std::string>{"Which plan interests you?"});
}

TEST_CASE("a dialogue's flow card runs the flow as it was published, then goes on", "[e2e][dialogues][flows]") {
  daemon_process server({"--set", delay_flag});
  const auto port = server.port();
  auto unknown = http_call(port, "POST", "/v1/dialogues", with_flow_card("nope"), admin_token);
  CHECK(unknown.status == 400);
  CHECK(unknown.body.find("cards[1].flow_id") != std::string::npos);
  const auto flow = create(port, plans_flow);
  const auto pricing = create(port, with_flow_card(flow));
  auto early = http_call(port, "POST", "/v1/dialogues/" + pricing + "/publish", {}, admin_token);
  CHECK(early.status == 400); // the flow is not published yet
  CHECK(early.body.find("cards[1].flow_id") != std::string::npos);
  publish(port, flow);
  publish(port, pricing);
  // The flow changes and is published again: the dialogue's version keeps the copy it took.
  auto changed = json::parse(plans_flow);
  changed["cards"][0]["text"] = "Which plan, again?";
  REQUIRE(http_call(port, "PUT", "/v1/dialogues/" + flow, changed.dump(), admin_token).status == 200);
  publish(port, flow);

  ws_client v;
  auto w = visitor_hello(v, port, ws_client::mode::msgpack, {{"page_url", "https://example.com/pricing"}});
  CHECK(w["dialogue"]["id"] == pricing);
  CHECK(bot_says(v)["text"] == "Pricing here.");
  CHECK(bot_says(v)["text"] == "Which plan interests you?");
  choose(v, "team", "p1");
  CHECK(bot_says(v)["text"] == "Plans: that is all.");
  CHECK(bot_says(v)["text"] == "Back to pricing.");
  const auto totals = report(port, pricing);
  CHECK(totals["completed"] == 1);
  CHECK(totals["goals_reached"] == 1); // the flow's goal counts for the dialogue that embeds it
}

TEST_CASE("kill -9 in the middle of a flow: it resumes at its card and its run is still counted",
          "[e2e][dialogues][flows][restart]") {
  auto dir = std::filesystem::temp_directory_path() / ("dynchat-flow-kill-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  json w;
  std::string flow;
  {
    daemon_process server({"--set", delay_flag}, dir);
    flow = create(server.port(), plans_flow);
    publish(server.port(), flow);
    publish(server.port(), create(server.port(), welcome_dialogue));
    ws_client v;
    w = visitor_hello(v, server.port());
    bot_says(v);
    v.send({{"type", "trigger"}, {"flow", flow}});
    CHECK(bot_says(v)["text"] == "Which plan interests you?");
    server.kill_hard();
  }
  daemon_process server({"--set", delay_flag}, dir);
  ws_client v;
  auto back = visitor_hello(v, server.port(), ws_client::mode::json, {{"resume_token", w["resume_token"]}});
  CHECK(back["dialogue"]["id"] == flow);
  CHECK(back["dialogue"]["finished"] == false);
  json last;
  for (auto m = v.receive_type("message", 1s); m; m = v.receive_type("message", 300ms)) last = *m;
  CHECK(last["text"] == "Which plan interests you?"); // the replay ends at the flow's question
  choose(v, "team", "k1");
  CHECK(bot_says(v)["text"] == "Plans: that is all.");
  const auto runs = report(server.port(), flow);
  CHECK(runs["triggered"] == 1);
  CHECK(runs["completed"] == 1);
  CHECK(runs["goals_reached"] == 1);
  std::filesystem::remove_all(dir);
}


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
  const auto t = report(server.port(), id);
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

