// Visitors meeting published dialogues over real websockets: the demo dialogue walked in
// both encodings, a republish in the middle of a conversation, a completed dialogue never
// shown again, a kill -9 mid-dialogue, and the live-chat card with and without an agent.
#include "helpers.hpp"

#include <atomic>
#include <map>
#include <regex>
#include <thread>

using namespace dynchat::testing;

namespace {

constexpr auto delay_flag = "chat.bot_response_delay_ms=20";

// The next message from the bot, skipping its typing frames (and anything else).
// A simple dialogue: a question whose answers lead to an email capture or the end.
std::string small_dialogue(const std::string& name, int priority, const std::string& question,
                           const std::string& url = "https://example.com/*") {
  auto j = json::parse(R"({
    "name": "", "priority": 1, "audience": {"urls": []}, "start": "ask",
    "cards": [
      {"id": "ask", "kind": "question", "text": "", "answers": [
        {"label": "Tell me more", "value": "more", "next": "email"},
        {"label": "No thanks", "value": "no", "next": "bye"}]},
      {"id": "email", "kind": "capture", "text": "Your email?", "capture": "email", "next": "done"},
      {"id": "done", "kind": "goal", "name": "Signed up", "next": "bye"},
      {"id": "bye", "kind": "end", "text": "Bye from " }]})");
  j["name"] = name;
  j["priority"] = priority;
  j["cards"][0]["text"] = question;
  j["cards"][3]["text"] = "Bye from " + name;
  j["audience"]["urls"] = json::array({url});
  return j.dump();
}

std::string create_and_publish(std::uint16_t port, const std::string& body) {
  auto created = http_call(port, "POST", "/v1/dialogues", body, admin_token);
  REQUIRE(created.status == 201);
  const std::string id = created.json_body()["id"];
  REQUIRE(http_call(port, "POST", "/v1/dialogues/" + id + "/publish", {}, admin_token).status == 200);
  return id;
}

json choose(ws_client& v, const std::string& option, const std::string& id) {
  v.send({{"type", "choose"}, {"client_msg_id", id}, {"option", option}});
  auto ack = v.receive_type("ack");
  REQUIRE(ack);
  return *ack;
}

void say(ws_client& v, const std::string& text, const std::string& id) {
  v.send({{"type", "say"}, {"client_msg_id", id}, {"text", text}});
  REQUIRE(v.receive_type("ack"));
}

// The demo agents' login tokens, as the first start prints them.
std::string demo_agent_token(const daemon_process& server, const std::string& name) {
  std::smatch m;
  const auto log = server.log();
  REQUIRE(std::regex_search(log, m, std::regex{name + R"(\s+([0-9a-f]{64}))"}));
  return m[1];
}

void walk_demo(ws_client::mode mode) {
  launch_limits launch;
  launch.seed_demo = true;
  launch.capture_log = true;
  daemon_process server({"--set", delay_flag}, {}, launch);
  ws_client v;
  auto welcome = visitor_hello(v, server.port(), mode);
  REQUIRE(welcome.contains("dialogue"));
  CHECK(welcome["dialogue"]["name"] == "Demo: welcome");
  CHECK(welcome["dialogue"]["version"] == 1);
  CHECK(welcome["phase"] == "bot");
  // The bot types before each message.
  auto typing = v.receive_type("typing");
  REQUIRE(typing);
  CHECK((*typing)["from"] == "bot");
  CHECK(bot_says(v)["text"] == "Hi there, welcome to Acme!"); // the token's default: the visitor is anonymous
  auto ask = bot_says(v);
  CHECK(ask["text"] == "What brings you here today?");
  REQUIRE(ask["prompt"]["options"].size() == 3);
  CHECK(ask["prompt"]["options"][1] == json({{"label", "A product demo"}, {"value", "demo"}}));

  // An option that is not offered: an error, and the question again.
  v.send({{"type", "choose"}, {"client_msg_id", "c0"}, {"option", "free lunch"}});
  expect_error(v, "bad_value");
  CHECK(bot_says(v)["prompt"]["options"].size() == 3);

  choose(v, "demo", "c1");
  auto email = bot_says(v);
  CHECK(email["prompt"]["input"] == "email");
  CHECK(email["prompt"]["placeholder"] == "you@company.com");
  say(v, "not an email", "c2");
  CHECK(bot_says(v)["text"] == "That does not look like an email address.");
  CHECK(bot_says(v)["prompt"]["input"] == "email"); // asked again: never a dead end
  say(v, "ann@acme.example", "c3");
  // Known now and asking for a demo: the branch leads to the goal and the meeting card,
  // which offers the demo agents' times (their seeded calendars: weekdays 09:00-17:00 UTC).
  auto times = bot_says(v);
  CHECK(times["text"] == "Pick a time to talk with our team.");
  REQUIRE(times["prompt"]["slots"].size() > 0);
  CHECK(times["prompt"]["slots_agent"] == "Alice Demo"); // first in turn
  v.send({{"type", "book"}, {"client_msg_id", "c4"}, {"slot", times["prompt"]["slots"][0]["id"]}, {"time_zone", "Europe/Paris"}});
  REQUIRE(v.receive_type("ack"));
  CHECK(bot_says(v)["text"].get<std::string>().rfind("You're booked with Alice Demo on ", 0) == 0);
  CHECK(bot_says(v)["text"] == "Thanks for stopping by!");
  auto meetings = http_call(server.port(), "GET", "/v1/meetings", {}, admin_token).json_body();
  REQUIRE(meetings["meetings"].size() == 1);
  CHECK(meetings["meetings"][0]["booker_email"] == "ann@acme.example");

  // The transcript holds every line, the visitor's choice as the label they pressed.
  const std::string conv = welcome["conversation_id"];
  auto stored = http_call(server.port(), "GET", "/v1/conversations/" + conv, {}, admin_token).json_body();
  std::vector<std::string> visitor_lines;
  for (auto& m : stored["messages"])
    if (m["from"] == "visitor") visitor_lines.push_back(m["text"]);
  REQUIRE(visitor_lines.size() == 4); // the time booked is the fourth
  CHECK(std::vector<std::string>(visitor_lines.begin(), visitor_lines.begin() + 3) ==
        std::vector<std::string>{"A product demo", "not an email", "ann@acme.example"});
  CHECK(stored["email"] == "ann@acme.example");
  CHECK(stored["status"] == "bot");

  // With an agent available, the live chat card hands over.
  ws_client agent;
  login_agent(agent, server.port(), demo_agent_token(server, "Alice Demo"), mode);
  ws_client v2;
  visitor_hello(v2, server.port(), mode, {{"email", "bo@acme.example"}});
  CHECK(bot_says(v2)["text"] == "Hi there, welcome to Acme!");
  bot_says(v2);
  choose(v2, "pricing", "p1");
  // Known from the hello: the capture is skipped (when_known: skip); asking about pricing,
  // the branch hands over to live chat.
  CHECK(bot_says(v2)["text"] == "Let me connect you with someone from our team.");
  auto offer = agent.receive_type("offer");
  REQUIRE(offer);
  agent.send({{"type", "accept"}, {"conversation_id", (*offer)["conversation_id"]}});
  REQUIRE(agent.receive_type("chat"));
  auto joined = v2.receive_type("message");
  REQUIRE(joined);
  CHECK((*joined)["text"] == "Alice Demo joined the chat.");
  const std::string conv2 = (*offer)["conversation_id"];
  agent.send({{"type", "say"}, {"conversation_id", conv2}, {"client_msg_id", "a1"}, {"text", "Hello!"}});
  REQUIRE(agent.receive_type("ack"));
  agent.send({{"type", "end"}, {"conversation_id", conv2}});
  REQUIRE(v2.receive_type("ended"));

  // The live-chat figures: one request from the dialogue (the first visitor booked a
  // meeting instead), taken, answered and ended.
  const auto reports = http_call(server.port(), "GET", "/v1/reports", {}, admin_token).json_body();
  const auto live = reports["live_chat"];
  CHECK(live["requested"] == 1);
  CHECK(live["connected"] == 1);
  CHECK(live["missed"] == 0);
  CHECK(live["average_chat_seconds"].is_number());
  CHECK(live["average_first_response_seconds"].is_number());
  REQUIRE(reports["dialogues"].size() == 1);
  CHECK(reports["dialogues"][0]["live_chat"]["requested"] == 1);
  CHECK(reports["dialogues"][0]["totals"]["acquired"] == 1); // bo's email came with the hello
}

} // namespace

TEST_CASE("a visitor walks the demo dialogue, in JSON", "[e2e][dialogues][walk]") { walk_demo(ws_client::mode::json); }

TEST_CASE("a visitor walks the demo dialogue, in MessagePack", "[e2e][dialogues][walk]") {
  walk_demo(ws_client::mode::msgpack);
}

TEST_CASE("a republish mid-conversation: the visitor keeps their version, new visitors get the new one",
          "[e2e][dialogues][walk]") {
  daemon_process server({"--set", delay_flag});
  const auto port = server.port();
  const auto id = create_and_publish(port, small_dialogue("Offer", 1, "Version one?"));
  ws_client early;
  auto w1 = visitor_hello(early, port);
  CHECK(w1["dialogue"]["version"] == 1);
  CHECK(bot_says(early)["text"] == "Version one?");

  REQUIRE(http_call(port, "PUT", "/v1/dialogues/" + id, small_dialogue("Offer", 1, "Version two?"), admin_token).status == 200);
  auto v2 = http_call(port, "POST", "/v1/dialogues/" + id + "/publish", {}, admin_token);
  REQUIRE(v2.status == 200);
  CHECK(v2.json_body()["published_version"] == 2);

  ws_client late;
  auto w2 = visitor_hello(late, port);
  CHECK(w2["dialogue"]["version"] == 2);
  CHECK(bot_says(late)["text"] == "Version two?");
  // The early visitor carries on in version 1, even across a reconnect.
  early.close();
  ws_client again;
  auto resumed = visitor_hello(again, port, ws_client::mode::json,
                               {{"resume_token", w1["resume_token"]}, {"last_seq", w1["last_seq"]}});
  CHECK(resumed["conversation_id"] == w1["conversation_id"]);
  CHECK(resumed["dialogue"]["version"] == 1);
  CHECK(bot_says(again)["text"] == "Version one?"); // replayed
  choose(again, "no", "n1");
  CHECK(bot_says(again)["text"] == "Bye from Offer");

  // Unpublished: nobody new meets it (no dialogue: a live chat); those in it finish.
  REQUIRE(http_call(port, "POST", "/v1/dialogues/" + id + "/unpublish", {}, admin_token).status == 200);
  ws_client after;
  CHECK_FALSE(visitor_hello(after, port).contains("dialogue"));
  choose(late, "no", "n2");
  CHECK(bot_says(late)["text"] == "Bye from Offer");
}

TEST_CASE("a dialogue triggers once per visitor, and the next page load resolves the next one",
          "[e2e][dialogues][walk]") {
  daemon_process server({"--set", delay_flag});
  const auto port = server.port();
  create_and_publish(port, small_dialogue("First", 1, "First question?"));
  create_and_publish(port, small_dialogue("Second", 2, "Second question?"));
  ws_client v;
  auto w = visitor_hello(v, port);
  CHECK(w["dialogue"]["name"] == "First");
  bot_says(v);
  choose(v, "no", "x1");
  CHECK(bot_says(v)["text"] == "Bye from First");
  const std::string visitor = w["visitor_id"];

  // A reconnect on the same page (no page_load) keeps the finished conversation.
  v.close();
  ws_client same;
  auto back = visitor_hello(same, port, ws_client::mode::json, {{"resume_token", w["resume_token"]}});
  CHECK(back["conversation_id"] == w["conversation_id"]);
  CHECK(back["dialogue"]["finished"] == true);
  same.close();

  // The next page load with the same token: the first is done, the second starts.
  ws_client next;
  auto w2 = visitor_hello(next, port, ws_client::mode::json, {{"resume_token", w["resume_token"]}, {"page_load", true}});
  CHECK(w2["conversation_id"] != w["conversation_id"]);
  CHECK(w2["visitor_id"] == visitor);
  CHECK(w2["dialogue"]["name"] == "Second");
  CHECK(w2["resume_token"] != w["resume_token"]);
  CHECK(bot_says(next)["text"] == "Second question?");
  next.close();

  // Triggered once: a fresh hello of this visitor meets neither again, even the second,
  // which they never answered (its own resume token would take them back to it).
  ws_client fresh;
  auto w3 = visitor_hello(fresh, port, ws_client::mode::json, {{"visitor_id", visitor}});
  CHECK_FALSE(w3.contains("dialogue"));
  // Another visitor meets the first.
  ws_client other;
  CHECK(visitor_hello(other, port)["dialogue"]["name"] == "First");
  // A page the audience does not target meets no dialogue.
  ws_client elsewhere;
  auto w4 = visitor_hello(elsewhere, port, ws_client::mode::json, {{"page_url", "https://other.example/"}});
  CHECK_FALSE(w4.contains("dialogue"));
}

TEST_CASE("an engaged dialogue resumes on a page load, even where another dialogue is targeted",
          "[e2e][dialogues][walk]") {
  daemon_process server({"--set", delay_flag});
  const auto port = server.port();
  create_and_publish(port, small_dialogue("Pricing", 1, "Pricing question?", "https://example.com/pricing"));
  create_and_publish(port, small_dialogue("Docs", 2, "Docs question?", "https://example.com/docs"));
  ws_client v;
  auto w = visitor_hello(v, port);
  CHECK(w["dialogue"]["name"] == "Pricing");
  bot_says(v);
  choose(v, "more", "m1");
  CHECK(bot_says(v)["prompt"]["input"] == "email");
  v.close();
  ws_client docs;
  auto w2 = visitor_hello(docs, port, ws_client::mode::json,
                          {{"resume_token", w["resume_token"]}, {"page_load", true}, {"page_url", "https://example.com/docs"}});
  CHECK(w2["conversation_id"] == w["conversation_id"]);
  CHECK(w2["dialogue"]["name"] == "Pricing");
}

TEST_CASE("kill -9 mid-dialogue: the visitor resumes on the same card", "[e2e][dialogues][walk][restart]") {
  const auto dir = fresh_dir("dialogue-kill");
  json welcome;
  std::uint64_t last_seq = 0;
  {
    daemon_process server({"--set", delay_flag}, dir);
    create_and_publish(server.port(), small_dialogue("Offer", 1, "Interested?"));
    ws_client v;
    welcome = visitor_hello(v, server.port());
    bot_says(v);
    auto ack = choose(v, "more", "k1");
    auto email = bot_says(v);
    CHECK(email["prompt"]["input"] == "email");
    last_seq = email["seq"];
    server.kill_hard();
  }
  daemon_process server({"--set", delay_flag}, dir);
  ws_client v;
  auto back = visitor_hello(v, server.port(), ws_client::mode::json,
                            {{"resume_token", welcome["resume_token"]}, {"last_seq", last_seq - 1}});
  CHECK(back["conversation_id"] == welcome["conversation_id"]);
  CHECK(back["last_seq"] == last_seq); // nothing was asked twice
  auto replayed = v.receive_type("message");
  REQUIRE(replayed);
  CHECK((*replayed)["prompt"]["input"] == "email"); // the same card, its input kept
  say(v, "kim@acme.example", "k2");
  CHECK(bot_says(v)["text"] == "Bye from Offer");
  std::filesystem::remove_all(dir);
}

TEST_CASE("many concurrent visitors give exact report counts", "[e2e][dialogues][walk][report]") {
  daemon_process server({"--set", delay_flag, "--set", "chat.new_conversations_burst=1000"});
  const auto port = server.port();
  const auto id = create_and_publish(port, small_dialogue("Offer", 1, "Interested?"));
  // Visitor i: known when i % 5 == 0; leaves at the question when i % 3 == 0; else
  // answers "more" and gives an email when i is even (acquired, the goal), "no" when odd.
  // Either way the dialogue reaches its end card: completed.
  constexpr int threads = 4, per_thread = 15;
  std::atomic<int> failures{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int k = 0; k < per_thread; ++k) {
        const int i = t * per_thread + k;
        ws_client v;
        if (v.connect(port, "/v1/visitor") != 0) { failures++; continue; }
        json hello{{"type", "hello"}, {"page_url", "https://example.com/pricing"}};
        if (i % 5 == 0) hello["email"] = "known" + std::to_string(i) + "@acme.example";
        v.send(hello);
        auto ask = v.receive_type("welcome") ? v.receive_type("message") : std::nullopt;
        if (!ask || !(*ask).contains("prompt")) { failures++; continue; }
        if (i % 3 == 0) continue; // triggered, never engaged
        v.send({{"type", "choose"}, {"client_msg_id", "a"}, {"option", i % 2 == 0 ? "more" : "no"}});
        if (!v.receive_type("ack")) { failures++; continue; }
        if (i % 2 == 0) {
          if (!v.receive_type("message")) { failures++; continue; }
          v.send({{"type", "say"}, {"client_msg_id", "b"}, {"text", "v" + std::to_string(i) + "@acme.example"}});
          if (!v.receive_type("ack")) { failures++; continue; }
        }
        bool ended = false; // its last line: every fact of its row is written by then
        for (auto m = v.receive_type("message"); m && !ended; m = ended ? m : v.receive_type("message"))
          ended = (*m)["text"] == "Bye from Offer";
        if (!ended) failures++;
      }
    });
  for (auto& th : pool) th.join();
  REQUIRE(failures == 0);
  int triggered = 0, engaged = 0, acquired = 0, known = 0, known_engaged = 0;
  for (int i = 0; i < threads * per_thread; ++i) {
    ++triggered;
    const bool e = i % 3 != 0, a = e && i % 2 == 0;
    engaged += e;
    acquired += a;
    known += i % 5 == 0;
    known_engaged += i % 5 == 0 && e;
  }
  // A row commits with the message that changed it, and the bot's last line came after.
  json totals;
  for (int tries = 0; tries < 50; ++tries, std::this_thread::sleep_for(100ms)) {
    totals = http_call(port, "GET", "/v1/dialogues/" + id + "/report", {}, admin_token).json_body()["totals"];
    if (totals["completed"] == engaged) break;
  }
  CHECK(totals["triggered"] == triggered);
  CHECK(totals["engaged"] == engaged);
  CHECK(totals["acquired"] == acquired);
  CHECK(totals["completed"] == engaged);
  CHECK(totals["goals_reached"] == acquired);
  CHECK(totals["engagement_rate"].get<double>() == Approx(double(engaged) / triggered));
  auto known_only = http_call(port, "GET", "/v1/dialogues/" + id + "/report?visitors=known", {}, admin_token).json_body();
  CHECK(known_only["totals"]["triggered"] == known);
  CHECK(known_only["totals"]["engaged"] == known_engaged);
  auto csv = http_call(port, "GET", "/v1/dialogues/" + id + "/report.csv", {}, admin_token);
  CHECK(csv.status == 200);
  CHECK(csv.body.find(id + ",Offer,") != std::string::npos);
  auto all = http_call(port, "GET", "/v1/reports", {}, admin_token).json_body();
  CHECK(all["totals"]["triggered"] == triggered);
  CHECK(http_call(port, "GET", "/v1/reports?from=2020-01-01", {}, admin_token).status == 400); // over 24 months
  CHECK(http_call(port, "GET", "/v1/dialogues/nope/report", {}, admin_token).status == 404);
}

TEST_CASE("what happens in a dialogue lands in the activities outbox, and agents score the conversation",
          "[e2e][dialogues][walk][activities]") {
  daemon_process server({"--set", delay_flag, "--set", "chat.visitor_grace=1"});
  const auto port = server.port();
  create_and_publish(port, R"({
    "name": "Guide", "priority": 1, "start": "doc",
    "cards": [
      {"id": "doc", "kind": "document", "text": "Our guide", "url": "https://example.com/guide.pdf", "next": "ask"},
      {"id": "ask", "kind": "question", "text": "Useful?", "answers": [
        {"label": "Yes", "value": "yes", "next": "goal"}, {"label": "More", "value": "more", "next": "email"}]},
      {"id": "email", "kind": "capture", "text": "Email?", "capture": "email", "next": "goal"},
      {"id": "goal", "kind": "goal", "name": "Read the guide", "score": 2, "next": "bye"},
      {"id": "bye", "kind": "end", "text": "Bye"}]})");
  auto activities_of = [&](const std::string& conv) {
    std::map<std::string, json> by_kind;
    auto body = http_call(port, "GET", "/v1/conversations/" + conv, {}, admin_token).json_body();
    for (auto& a : body["activities"]) by_kind[a["kind"].get<std::string>()] = a;
    return std::make_pair(by_kind, body["score"]);
  };

  ws_client v;
  auto w = visitor_hello(v, port);
  const std::string conv = w["conversation_id"];
  auto doc = bot_says(v);
  CHECK(doc["prompt"]["link"] == "https://example.com/guide.pdf");
  v.send({{"type", "opened"}, {"link", "https://evil.example/"}});
  expect_error(v, "bad_value"); // only links the dialogue offers
  v.send({{"type", "opened"}, {"link", "https://example.com/guide.pdf"}});
  bot_says(v);
  choose(v, "yes", "y1");
  CHECK(bot_says(v)["text"] == "Bye");
  auto [acts, score] = activities_of(conv);
  CHECK(score == 2); // the goal's score
  REQUIRE(acts.count("dialogue_engaged"));
  CHECK(acts["dialogue_engaged"]["status"] == "completed");
  CHECK(acts["dialogue_engaged"]["dialogue"] == "Guide");
  CHECK(acts["dialogue_engaged"]["page_url"] == "https://example.com/pricing");
  REQUIRE(acts.count("goal_reached"));
  CHECK(acts["goal_reached"]["name"] == "Read the guide");
  CHECK(acts["goal_reached"]["score"] == 2);
  REQUIRE(acts.count("document_opened"));
  CHECK(acts["document_opened"]["name"] == "https://example.com/guide.pdf");

  // An agent who never held it may not score it; out of range is refused; the admin may.
  auto agent = create_agent(port, "Ann", 1);
  CHECK(http_call(port, "PUT", "/v1/conversations/" + conv + "/score", R"({"score": 3})", agent.second).status == 404);
  CHECK(http_call(port, "PUT", "/v1/conversations/" + conv + "/score", R"({"score": 4})", admin_token).status == 400);
  CHECK(http_call(port, "PUT", "/v1/conversations/" + conv + "/score", R"({"score": 3})", admin_token).status == 200);
  auto scored = activities_of(conv);
  CHECK(scored.second == 3);
  CHECK(scored.first["dialogue_engaged"]["score"] == 3);

  // Engaged and gone before completing: dropped once the grace period ends.
  ws_client gone;
  auto w2 = visitor_hello(gone, port);
  bot_says(gone);
  bot_says(gone);
  choose(gone, "more", "m1");
  bot_says(gone);
  gone.close();
  json status;
  for (int i = 0; i < 40; ++i, std::this_thread::sleep_for(100ms)) {
    status = activities_of(w2["conversation_id"]).first["dialogue_engaged"]["status"];
    if (status == "dropped") break;
  }
  CHECK(status == "dropped");
}

TEST_CASE("a dialogue that waits for page events shows when the page reports them, and triggers then",
          "[e2e][dialogues][walk][events]") {
  daemon_process server({"--set", delay_flag});
  const auto port = server.port();
  auto body = json::parse(small_dialogue("Patient", 1, "Still reading?"));
  body["audience"]["events"] = {{"scroll_pct", 50}, {"time_on_page_s", 10}};
  const auto id = create_and_publish(port, body.dump());
  auto triggered = [&] {
    auto r = http_call(port, "GET", "/v1/dialogues/" + id + "/report", {}, admin_token).json_body();
    return r["totals"]["triggered"].get<int>();
  };

  ws_client v;
  auto w = visitor_hello(v, port);
  REQUIRE(w.contains("dialogue"));
  CHECK(w["dialogue"]["poke"] == "Still reading?");
  CHECK(w["dialogue"]["events"] == json({{"scroll_pct", 50}, {"time_on_page_s", 10}}));
  CHECK_FALSE(v.receive_type("message", 300ms)); // nothing until the page says so
  CHECK(triggered() == 0);

  v.send({{"type", "event"}, {"kind", "scroll_pct"}, {"value", 70}});
  v.send({{"type", "event"}, {"kind", "mouse_wiggles"}, {"value", 3}});
  expect_error(v, "bad_value");
  CHECK_FALSE(v.receive_type("message", 300ms)); // one of two met
  // A refresh keeps what the page reported: the scroll still counts.
  v.close();
  ws_client again;
  auto back = visitor_hello(again, port, ws_client::mode::json, {{"resume_token", w["resume_token"]}});
  CHECK(back["conversation_id"] == w["conversation_id"]);
  CHECK(back["dialogue"].contains("events"));
  again.send({{"type", "event"}, {"kind", "time_on_page_s"}, {"value", 4}});
  CHECK_FALSE(again.receive_type("message", 300ms)); // under the threshold
  again.send({{"type", "event"}, {"kind", "time_on_page_s"}, {"value", 11}});
  CHECK(bot_says(again)["text"] == "Still reading?");
  CHECK(triggered() == 1);

  // Shown: the next welcome asks for no events, and more events change nothing.
  again.close();
  ws_client third;
  auto w3 = visitor_hello(third, port, ws_client::mode::json, {{"resume_token", w["resume_token"]}});
  CHECK_FALSE(w3["dialogue"].contains("events"));
  third.send({{"type", "event"}, {"kind", "scroll_pct"}, {"value", 100}});
  third.send({{"type", "typing"}});
  auto replayed = bot_says(third); // the stored question, replayed; not a second one
  CHECK(replayed["text"] == "Still reading?");
  CHECK_FALSE(third.receive_type("message", 300ms));
  choose(third, "no", "e1");
  CHECK(bot_says(third)["text"] == "Bye from Patient");
  CHECK(triggered() == 1);
}

TEST_CASE("a branch on agent availability follows the agents: away, free, then full", "[e2e][dialogues][walk][agents]") {
  daemon_process server({"--set", delay_flag});
  const auto port = server.port();
  create_and_publish(port, R"({
    "name": "Who is in", "priority": 1, "audience": {"urls": ["https://example.com/*"]}, "start": "who",
    "cards": [
      {"id": "who", "kind": "branch", "rules": [{"agents_available": true, "next": "live"}], "default": "later"},
      {"id": "live", "kind": "live_chat", "text": "Someone is here for you.",
       "fallback": {"text": "They just got busy."}},
      {"id": "later", "kind": "end", "text": "Nobody is in; leave us a note."}]})");
  ws_client first;
  visitor_hello(first, port);
  CHECK(bot_says(first)["text"] == "Nobody is in; leave us a note."); // no agent logged in

  auto [agent_id, token] = create_agent(port, "Ann", 1);
  ws_client agent;
  login_agent(agent, port, token);
  // The router hears the status after the agent's socket does: wait until it says so.
  auto router_sees = [&](bool available, int chats) {
    for (int i = 0; i < 100; ++i) {
      auto agents = http_call(port, "GET", "/v1/agents", {}, admin_token).json_body()["agents"];
      if (agents.size() == 1 && agents[0]["available"] == available && agents[0]["active_chats"] == chats) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  };
  REQUIRE(router_sees(true, 0));
  ws_client second;
  visitor_hello(second, port);
  CHECK(bot_says(second)["text"] == "Someone is here for you.");
  auto offer = agent.receive_type("offer");
  REQUIRE(offer);
  agent.send({{"type", "accept"}, {"conversation_id", (*offer)["conversation_id"]}});
  REQUIRE(agent.receive_type("chat"));

  REQUIRE(router_sees(true, 1));
  ws_client third; // Ann's one seat is taken
  visitor_hello(third, port);
  CHECK(bot_says(third)["text"] == "Nobody is in; leave us a note.");
}
