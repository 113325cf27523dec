// Meetings over real websockets and REST: a dialogue's meeting card shows two agents'
// calendars in strict turn, visitors racing for one slot (exactly one wins, the others
// get fresh times), the turn kept across a restart, and the invite read back by libical.
#include "meeting_helpers.hpp"

#include <atomic>
#include <ctime>
#include <set>
#include <thread>

#include "dynchat/calendar/ics.hpp"
#include "http/test_server.hpp"
#include "support/smtp_sink.hpp"

using namespace dynchat::testing;

namespace {

void publish_meeting_dialogue(std::uint16_t port) {
  auto created = http_call(port, "POST", "/v1/dialogues", R"({
    "name": "Book a demo", "priority": 1, "audience": {"urls": ["https://example.com/*"]}, "start": "meet",
    "cards": [
      {"id": "meet", "kind": "meeting", "text": "Pick a time", "next": "bye", "fallback": "none"},
      {"id": "none", "kind": "end", "text": "Nobody can meet."},
      {"id": "bye", "kind": "end", "text": "Bye!"}]})", admin_token);
  REQUIRE(created.status == 201);
  const std::string id = created.json_body()["id"];
  REQUIRE(http_call(port, "POST", "/v1/dialogues/" + id + "/publish", {}, admin_token).status == 200);
}

// A visitor at the meeting card: the times it shows.
json times_shown(ws_client& v, std::uint16_t port) {
  visitor_hello(v, port);
  auto m = bot_says(v);
  REQUIRE(m["text"] == "Pick a time");
  REQUIRE(m["prompt"].contains("slots"));
  return m;
}

std::string new_test_id() { return std::string(32, 'a'); }

} // namespace

TEST_CASE("visitors racing for one slot: exactly one books it and the others get fresh times", "[e2e][meetings]") {
  const auto dir = fresh_dir("meetings-race");
  std::string ann, bob, taken;
  {
    daemon_process server({"--set", "chat.bot_response_delay_ms=0", "--no-seed"}, dir);
    const auto port = server.port();
    ann = agent_with_calendar(port, "ann");
    bob = agent_with_calendar(port, "bob");
    publish_meeting_dialogue(port);

    constexpr int racers = 12;
    std::vector<std::unique_ptr<ws_client>> visitors;
    for (int i = 0; i < racers; ++i) {
      visitors.push_back(std::make_unique<ws_client>());
      auto shown = times_shown(*visitors.back(), port);
      // Nobody has booked yet: it is the first agent's turn for everyone.
      REQUIRE(agent_of(shown["prompt"]["slots"][0]["id"]) == ann);
      CHECK(shown["prompt"]["slots_agent"] == "ann");
      taken = shown["prompt"]["slots"][0]["id"];
    }
    for (int i = 0; i < racers; ++i)
      visitors[i]->send({{"type", "book"}, {"client_msg_id", "b" + std::to_string(i)}, {"slot", taken},
                         {"time_zone", "Europe/Berlin"}});
    int booked = 0, refused = 0;
    for (auto& v : visitors) {
      REQUIRE(v->receive_type("ack"));
      auto answer = bot_says(*v);
      const std::string text = answer["text"];
      if (text.rfind("You're booked with ann on ", 0) == 0) {
        ++booked;
        CHECK(text.find("(Europe/Berlin)") != std::string::npos);
        CHECK(bot_says(*v)["text"] == "Bye!");
      } else {
        ++refused;
        CHECK(text == "Sorry, that time was just taken. Here are the times still free.");
        auto fresh = bot_says(*v);
        REQUIRE(fresh["prompt"]["slots"].size() > 0);
        for (auto& s : fresh["prompt"]["slots"]) CHECK(s["id"] != taken);
      }
    }
    CHECK(booked == 1);
    CHECK(refused == racers - 1);

    // One meeting, stored as scheduled, where it was booked.
    auto listed = http_call(port, "GET", "/v1/meetings", {}, admin_token).json_body();
    REQUIRE(listed["meetings"].size() == 1);
    const auto& m = listed["meetings"][0];
    CHECK(m["status"] == "scheduled");
    CHECK(m["agent_id"] == ann);
    CHECK(m["agent_name"] == "ann");
    CHECK(m["time_zone"] == "Europe/Berlin");
    CHECK(std::to_string(m["start_ms"].get<std::int64_t>()) == taken.substr(taken.find(':') + 1));
    CHECK(m["page_url"] == "https://example.com/pricing");
    CHECK(m["dialogue_id"].get<std::string>().size() == 32);

    // Its invite is iCalendar that libical reads back: the meeting's own time.
    auto invite = http_call(port, "GET", "/v1/meetings/" + m["id"].get<std::string>() + "/invite.ics", {}, admin_token);
    REQUIRE(invite.status == 200);
    CHECK(invite.body.find("METHOD:REQUEST") != std::string::npos);
    CHECK(invite.body.find("mailto:ann@acme.example") != std::string::npos);
    auto read = dynchat::calendar::busy_from_ics(invite.body, "UTC", 0, std::numeric_limits<std::int64_t>::max() / 2);
    REQUIRE(read);
    REQUIRE(read->busy.size() == 1);
    CHECK(read->busy[0].start_ms == m["start_ms"].get<std::int64_t>());
    CHECK(read->busy[0].end_ms == m["end_ms"].get<std::int64_t>());

    // The agent's free times account for it at once.
    auto ann_slots = http_call(port, "GET", "/v1/agents/" + ann + "/slots?limit=500", {}, admin_token).json_body();
    for (auto& s : ann_slots["slots"]) CHECK(s["id"] != taken);
  }

  // After a restart, the turn has moved on: bob is next, and the totals are kept.
  daemon_process server({"--set", "chat.bot_response_delay_ms=0", "--no-seed"}, dir);
  ws_client next;
  auto shown = times_shown(next, server.port());
  CHECK(agent_of(shown["prompt"]["slots"][0]["id"]) == bob);
  auto routing = http_call(server.port(), "GET", "/v1/routing", {}, admin_token).json_body();
  CHECK(routing["meetings"]["last_agent_id"] == ann);
  REQUIRE(routing["meetings"]["next"].size() == 2);
  CHECK(routing["meetings"]["next"][0]["agent_id"] == bob);
  CHECK(routing["meetings"]["next"][1]["meetings"] == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a booker's secret link cancels their meeting and frees the time", "[e2e][meetings]") {
  daemon_process server({"--set", "chat.bot_response_delay_ms=0", "--no-seed"});
  const auto port = server.port();
  const auto ann = agent_with_calendar(port, "ann");
  auto slots = http_call(port, "GET", "/v1/agents/" + ann + "/slots?limit=2&tz=America/New_York", {}, admin_token).json_body();
  REQUIRE(slots["slots"].size() == 2);
  CHECK(slots["time_zone"] == "America/New_York");
  const std::string slot = slots["slots"][0]["id"];

  // Bad bookings: every problem listed, nothing stored.
  auto bad = http_call(port, "POST", "/v1/meetings", R"({"slot":"nope","email":"not-an-email","time_zone":"Mars/Base","x":1})", admin_token);
  CHECK(bad.status == 400);
  CHECK(bad.json_body()["error"]["problems"].size() == 4);

  auto booked = http_call(port, "POST", "/v1/meetings", json{{"slot", slot}, {"email", "vic@example.org"}, {"name", "Vic"}}.dump(), admin_token);
  REQUIRE(booked.status == 201);
  const std::string id = booked.json_body()["meeting"]["id"];
  const std::string token = booked.json_body()["manage_token"];
  auto again = http_call(port, "POST", "/v1/meetings", json{{"slot", slot}, {"email", "eve@example.org"}}.dump(), admin_token);
  CHECK(again.status == 409);
  CHECK(again.json_body()["fresh_slots"]["slots"].size() > 0);

  // The link reaches only its own meeting, and only the routes a booker has.
  CHECK(http_call(port, "GET", "/v1/meetings/" + id + "?token=wrong").status == 401);
  CHECK(http_call(port, "GET", "/v1/meetings?token=" + token).status == 401);
  CHECK(http_call(port, "PUT", "/v1/meetings/" + id + "/status?token=" + token, R"({"status":"completed"})").status == 403);
  CHECK(http_call(port, "GET", "/v1/meetings/" + id + "?token=" + token).json_body()["booker_name"] == "Vic");

  auto cancelled = http_call(port, "POST", "/v1/meetings/" + id + "/cancel?token=" + token);
  REQUIRE(cancelled.status == 200);
  CHECK(cancelled.json_body()["meeting"]["status"] == "cancelled");
  CHECK(cancelled.json_body()["meeting"]["sequence"] == 1);
  auto invite = http_call(port, "GET", "/v1/meetings/" + id + "/invite.ics?token=" + token);
  CHECK(invite.body.find("METHOD:CANCEL") != std::string::npos);
  CHECK(invite.body.find("SEQUENCE:1") != std::string::npos);
  CHECK(http_call(port, "POST", "/v1/meetings/" + id + "/cancel?token=" + token).status == 409); // once
  // The time is free again.
  auto rebooked = http_call(port, "POST", "/v1/meetings", json{{"slot", slot}, {"email", "eve@example.org"}}.dump(), admin_token);
  CHECK(rebooked.status == 201);
  auto listed = http_call(port, "GET", "/v1/meetings?status=cancelled", {}, admin_token).json_body();
  REQUIRE(listed["meetings"].size() == 1);
  CHECK(listed["meetings"][0]["id"] == id);
}

TEST_CASE("calendar settings and files that are wrong are refused and nothing is stored", "[e2e][meetings]") {
  daemon_process server({"--no-seed"});
  const auto port = server.port();
  auto created = http_call(port, "POST", "/v1/agents", R"({"name":"cy"})", admin_token);
  const std::string id = created.json_body()["id"];
  auto bad = http_call(port, "PUT", "/v1/agents/" + id + "/calendar",
                       R"({"time_zone":"Mars/Base","availability":[{"day":"mon","start":"10:00","end":"09:00"},
                           {"day":"tue","start":"09:00","end":"12:00"},{"day":"tue","start":"11:00","end":"13:00"}]})",
                       admin_token);
  CHECK(bad.status == 400);
  CHECK(bad.json_body()["error"]["problems"].size() == 3);
  CHECK(http_call(port, "PUT", "/v1/agents/" + id + "/calendar/ics", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n", admin_token).status == 400);
  auto shown = http_call(port, "GET", "/v1/agents/" + id + "/calendar", {}, admin_token).json_body();
  CHECK(shown["settings"].is_null());
  CHECK(shown["connection"]["status"] == "not_connected");
  // Not connected: not eligible, so no times.
  CHECK(http_call(port, "GET", "/v1/slots", {}, admin_token).json_body()["slots"].empty());
}

TEST_CASE("an iCal feed from a real local server is read and refreshed and when failing keeps the last good busy times",
          "[e2e][meetings][feeds]") {
  // The feed: one busy hour tomorrow at 10:00 UTC; then garbage; then silence.
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto day = now / 86'400'000 + 1;
  const std::int64_t busy_start = day * 86'400'000 + 10 * 3'600'000;
  const auto stamp = [](std::int64_t ms) {
    const std::time_t t = ms / 1000;
    char out[20];
    std::strftime(out, sizeof out, "%Y%m%dT%H%M%SZ", std::gmtime(&t));
    return std::string{out};
  };
  const std::string calendar = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:busy-1\r\nDTSTAMP:" +
                               stamp(now) + "\r\nDTSTART:" + stamp(busy_start) + "\r\nDTEND:" + stamp(busy_start + 3'600'000) +
                               "\r\nSUMMARY:Customer call\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  std::atomic<int> mode{0}; // 0: the calendar, 1: garbage, 2: never answers
  test_server feed_server([&](const served_request&) {
    canned_reply r;
    if (mode == 0) {
      r.body = calendar;
      r.headers = {{"Content-Type", "text/calendar"}};
    } else if (mode == 1) r.body = "<html>sign in</html>";
    else r.never = true;
    return r;
  });
  daemon_process server({"--no-seed", "--set", "meetings.feed_refresh=1", "--set", "meetings.feed_timeout=1"});
  const auto port = server.port();
  auto created = http_call(port, "POST", "/v1/agents", R"({"name":"dee","email":"dee@acme.example"})", admin_token);
  const std::string id = created.json_body()["id"];
  json week = json::array();
  for (auto d : {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}) week.push_back({{"day", d}, {"start", "00:00"}, {"end", "24:00"}});
  REQUIRE(http_call(port, "PUT", "/v1/agents/" + id + "/calendar",
                    json{{"time_zone", "UTC"}, {"min_notice_min", 0}, {"horizon_days", 3}, {"availability", week}}.dump(),
                    admin_token).status == 200);
  CHECK(http_call(port, "PUT", "/v1/agents/" + id + "/calendar/feed", R"({"url":"ftp://x/y.ics"})", admin_token).status == 400);

  auto feed_url = feed_server.url("/calendar/secret/basic.ics");
  auto connected = http_call(port, "PUT", "/v1/agents/" + id + "/calendar/feed", json{{"url", feed_url}}.dump(), admin_token);
  REQUIRE(connected.status == 200);
  auto connection = connected.json_body()["connection"];
  CHECK(connection["source"] == "feed");
  CHECK(connection["status"] == "ok");
  CHECK(connection["events"] == 1);
  CHECK(connection["busy_intervals"] == 1);
  CHECK(feed_server.requests().at(0).header("Accept") == "text/calendar");

  auto free_at = [&](std::int64_t start) {
    auto slots = http_call(port, "GET", "/v1/agents/" + id + "/slots?limit=500", {}, admin_token).json_body();
    for (auto& s : slots["slots"])
      if (s["start_ms"] == start) return true;
    return false;
  };
  CHECK_FALSE(free_at(busy_start));
  CHECK_FALSE(free_at(busy_start + 1'800'000));
  CHECK(free_at(busy_start + 3'600'000));

  // Garbage: failing, and why; the busy hour stays busy.
  mode = 1;
  auto wait_for = [&](const std::function<bool(const json&)>& ok) {
    for (int i = 0; i < 100; ++i) {
      auto c = http_call(port, "GET", "/v1/agents/" + id + "/calendar", {}, admin_token).json_body()["connection"];
      if (ok(c)) return c;
      std::this_thread::sleep_for(100ms);
    }
    FAIL("the connection status did not change");
    return json{};
  };
  auto failing = wait_for([](const json& c) { return c["status"] == "failing"; });
  CHECK(failing["error"].get<std::string>().find("not a calendar") != std::string::npos);
  CHECK(failing["busy_intervals"] == 1);
  CHECK(failing["refreshed_ms"] == connection["refreshed_ms"]);
  CHECK_FALSE(free_at(busy_start));

  // A feed that never answers: a timeout, and still the last good busy times.
  mode = 2;
  auto timing_out = wait_for([](const json& c) { return c["error"].get<std::string>().find("could not be read") != std::string::npos; });
  CHECK(timing_out["busy_intervals"] == 1);
  CHECK_FALSE(free_at(busy_start));

  // Back to good: ok again.
  mode = 0;
  wait_for([&](const json& c) { return c["status"] == "ok" && c["refreshed_ms"] > connection["refreshed_ms"]; });
}

TEST_CASE("invites go by SMTP to a real local server once each across a restart", "[e2e][meetings][smtp]") {
  smtp_sink sink;
  const auto dir = fresh_dir("meetings-smtp");
  const std::vector<std::string> flags{"--no-seed", "--set", "meetings.smtp_url=\"" + sink.url() + "\"",
                                       "--set", "meetings.smtp_starttls=false",
                                       "--set", "meetings.smtp_from=\"Acme <meetings@acme.example>\""};
  std::string first_id;
  {
    daemon_process server(flags, dir);
    const auto port = server.port();
    const auto ann = agent_with_calendar(port, "ann");
    auto slots = http_call(port, "GET", "/v1/agents/" + ann + "/slots?limit=2", {}, admin_token).json_body();
    for (int i = 0; i < 2; ++i) {
      auto booked = http_call(port, "POST", "/v1/meetings",
                              json{{"slot", slots["slots"][i]["id"]}, {"email", "v" + std::to_string(i) + "@example.org"}}.dump(),
                              admin_token);
      REQUIRE(booked.status == 201);
      if (i == 0) first_id = booked.json_body()["meeting"]["id"];
    }
    // Two meetings: an invite each to the agent and to the visitor.
    auto got = sink.wait_for(4, 20s);
    REQUIRE(got.size() == 4);
    std::multiset<std::string> to;
    for (const auto& m : got) {
      CHECK(m.find("Content-Type: text/calendar; charset=utf-8; method=REQUEST") != std::string::npos);
      CHECK(m.find("From: Acme <meetings@acme.example>") != std::string::npos);
      CHECK(m.find("BEGIN:VCALENDAR") != std::string::npos);
      const auto at = m.find("\nTo: ");
      REQUIRE(at != std::string::npos);
      to.insert(m.substr(at + 5, m.find_first_of("\r\n", at + 5) - at - 5));
    }
    CHECK(to == std::multiset<std::string>{"ann@acme.example", "ann@acme.example", "v0@example.org", "v1@example.org"});
    // Recorded as sent, and shown.
    for (int i = 0; i < 50; ++i) {
      auto shown = http_call(port, "GET", "/v1/meetings/" + first_id, {}, admin_token).json_body();
      if (shown["invites"].size() == 2 && shown["invites"][0]["status"] == "sent" && shown["invites"][1]["status"] == "sent") break;
      std::this_thread::sleep_for(100ms);
    }
    auto shown = http_call(port, "GET", "/v1/meetings/" + first_id, {}, admin_token).json_body();
    REQUIRE(shown["invites"].size() == 2);
    CHECK(shown["invites"][0]["status"] == "sent");
    CHECK(shown["invites"][1]["attempts"] == 1);
    REQUIRE(server.stop() == 0);
  }
  // After a restart nothing goes twice; a cancellation sends the update.
  daemon_process server(flags, dir);
  std::this_thread::sleep_for(1s);
  CHECK(sink.messages().size() == 4);
  REQUIRE(http_call(server.port(), "POST", "/v1/meetings/" + first_id + "/cancel", {}, admin_token).status == 200);
  auto got = sink.wait_for(6, 20s);
  REQUIRE(got.size() == 6);
  int cancels = 0;
  for (const auto& m : got)
    if (m.find("method=CANCEL") != std::string::npos) ++cancels;
  CHECK(cancels == 2);
  std::this_thread::sleep_for(500ms);
  CHECK(sink.messages().size() == 6);
  std::filesystem::remove_all(dir);
}

TEST_CASE("an SMTP relay that is down gets the invite retried and its failure stays visible", "[e2e][meetings][smtp]") {
  // Nobody listens on the relay's port: every attempt fails.
  daemon_process server({"--no-seed", "--set", "meetings.smtp_url=\"smtp://127.0.0.1:9\"", "--set", "meetings.smtp_starttls=false",
                         "--set", "meetings.smtp_retry_base=1", "--set", "meetings.smtp_max_attempts=2"});
  const auto port = server.port();
  const auto ann = agent_with_calendar(port, "ann");
  auto slots = http_call(port, "GET", "/v1/agents/" + ann + "/slots?limit=1", {}, admin_token).json_body();
  auto booked = http_call(port, "POST", "/v1/meetings", json{{"slot", slots["slots"][0]["id"]}, {"email", "v@example.org"}}.dump(), admin_token);
  REQUIRE(booked.status == 201);
  const std::string id = booked.json_body()["meeting"]["id"];
  json invites;
  for (int i = 0; i < 100; ++i) {
    invites = http_call(port, "GET", "/v1/meetings/" + id, {}, admin_token).json_body()["invites"];
    if (invites.size() == 2 && invites[0]["status"] == "failed" && invites[1]["status"] == "failed") break;
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE(invites.size() == 2);
  for (auto& inv : invites) {
    CHECK(inv["status"] == "failed");
    CHECK(inv["attempts"] == 2);
    CHECK_FALSE(inv["last_error"].get<std::string>().empty());
  }
}

TEST_CASE("a live agent shares a calendar into the chat and the visitor books from it", "[e2e][meetings]") {
  daemon_process server({"--no-seed", "--set", "chat.bot_response_delay_ms=0"});
  const auto port = server.port();
  const auto cal = agent_with_calendar(port, "cal"); // whose calendar is shared
  auto created = http_call(port, "POST", "/v1/agents", R"({"name":"liv","email":"liv@acme.example"})", admin_token);
  REQUIRE(created.status == 201);
  const std::string liv_token = created.json_body()["token"];
  ws_client agent, visitor;
  login_agent(agent, port, liv_token);
  auto welcome = start_live_chat(agent, visitor, port);
  const std::string conv = welcome["conversation_id"];

  // Not a chat it holds, or no such agent: refused or nothing offered.
  agent.send({{"type", "share_calendar"}, {"conversation_id", new_test_id()}});
  expect_error(agent, "not_assigned");
  agent.send({{"type", "share_calendar"}, {"conversation_id", conv}, {"agent_id", cal}});
  auto shared = bot_says(visitor);
  REQUIRE(shared["prompt"]["slots"].size() > 0);
  CHECK(shared["prompt"]["slots_agent"] == "cal");
  const std::string slot = shared["prompt"]["slots"][0]["id"];
  CHECK(agent_of(slot) == cal);
  visitor.send({{"type", "book"}, {"client_msg_id", "b1"}, {"slot", slot}, {"time_zone", "Asia/Tokyo"}});
  REQUIRE(visitor.receive_type("ack"));
  auto booked = bot_says(visitor);
  CHECK(booked["text"].get<std::string>().rfind("You're booked with cal on ", 0) == 0);
  CHECK(booked["text"].get<std::string>().find("(Asia/Tokyo)") != std::string::npos);
  auto listed = http_call(port, "GET", "/v1/meetings?agent=" + cal, {}, admin_token).json_body();
  REQUIRE(listed["meetings"].size() == 1);
  CHECK(listed["meetings"][0]["conversation_id"] == conv);
  // Booked once: the same times are no longer choosable.
  visitor.send({{"type", "book"}, {"client_msg_id", "b2"}, {"slot", shared["prompt"]["slots"][1]["id"]}});
  expect_error(visitor, "unsupported");
}
