#include <catch2/catch.hpp>

#include "scenario.hpp"
#include <string>

using namespace dynchat::load;

TEST_CASE("presets exist and are valid", "[load]") {
  for (auto name : {"idle", "chat", "burst", "dialogue", "meeting", "soak"}) {
    auto s = preset(name);
    CHECK(s.name == name);
    validate(s);
  }
  CHECK(preset("idle").messages_per_visitor == 0);
  CHECK(preset("idle").agents == 0);
  CHECK_THROWS_WITH(preset("stampede"), Catch::Contains("unknown preset"));
}

TEST_CASE("presets with agents seat the chats they keep open, with room to spare", "[load]") {
  // A preset whose visitors mostly queue for an agent measures the queue, not the server
  // (the chat preset once had 40 seats for ~500 chats and timed out).
  for (auto name : {"chat", "soak"}) {
    CAPTURE(name);
    const auto s = preset(name);
    REQUIRE(s.agents > 0);
    CHECK(static_cast<double>(s.agents) * s.agent_max_chats >= 1.2 * expected_concurrent_chats(s));
    CHECK(expected_concurrent_chats(s) <= s.max_concurrent);
    CHECK(seat_shortfall(s).empty());
  }
}

TEST_CASE("the dialogue preset walks dialogues at 1,000 new visitors a second, without agents", "[load]") {
  const auto s = preset("dialogue");
  CHECK(s.walk_dialogues);
  CHECK(s.arrival_rate == 1000);
  CHECK(s.bot_delay_seconds == 1.0);
  CHECK(s.agents == 0);
  CHECK_FALSE(s.wait_for_agent);
  CHECK_NOTHROW(validate(s));
  auto bad = s;
  bad.bot_delay_seconds = -1;
  CHECK_THROWS_WITH(validate(bad), Catch::Contains("bot_delay"));
  auto from_file = load_scenario_text("[scenario]\npreset = \"chat\"\n[visitors]\nwalk_dialogues = true\nbot_delay = 0.25\n");
  CHECK(from_file.walk_dialogues);
  CHECK(from_file.bot_delay_seconds == 0.25);
}

TEST_CASE("too few agent seats for the chats a scenario opens is named before it runs", "[load]") {
  scenario s;
  s.arrival_rate = 100;
  s.messages_per_visitor = 5;
  s.visitor_think = {think_time::shape::fixed, 1.0};
  s.agent_think = {think_time::shape::fixed, 0.0};
  s.agents = 4; // 40 seats for 500 chats: the old chat preset
  CHECK(seat_shortfall(s) ==
        "40 agent seats (agents x max_chats) for about 500 chats open at once: visitors will queue for an agent "
        "(see 'wait for an agent')");
  s.agents = 50; // 500 seats: exactly enough
  CHECK(seat_shortfall(s).empty());
  s.agents = 0; // no agents, no chats to seat
  CHECK(seat_shortfall(s).empty());
}

TEST_CASE("expected concurrent chats follow Little's law", "[load]") {
  scenario s;
  s.arrival_rate = 10;
  s.messages_per_visitor = 4;
  s.visitor_think = {think_time::shape::fixed, 2.0};
  s.agent_think = {think_time::shape::exponential, 0.5};
  CHECK(expected_concurrent_chats(s) == Approx(10 * (4 * 2.0 + 0.5)));
  s.agent_replies = false;
  CHECK(expected_concurrent_chats(s) == Approx(80));
  s.agents = 0; // no agents: no chats to seat
  CHECK(expected_concurrent_chats(s) == 0);
}

TEST_CASE("a scenario file overrides its preset", "[load]") {
  auto s = load_scenario_text(R"(
[scenario]
preset = "burst"
name = "mine"
[visitors]
arrival_rate = 300
think_shape = "fixed"
msgpack = true
)");
  CHECK(s.name == "mine");
  CHECK(s.arrival_rate == 300);
  CHECK(s.duration_seconds == preset("burst").duration_seconds);
  CHECK(s.visitor_think.kind == think_time::shape::fixed);
  CHECK(s.msgpack);
}

TEST_CASE("the shipped scenarios parse", "[load]") {
  for (auto name : {"compare", "sessions"})
    CHECK_NOTHROW(load_scenario_file(std::string{DYNCHAT_SOURCE_DIR "/load-tests/scenarios/"} + name + ".toml"));
}

TEST_CASE("the shipped smoke scenario parses", "[load]") {
  auto s = load_scenario_file(DYNCHAT_SOURCE_DIR "/load-tests/scenarios/smoke.toml");
  CHECK(s.name == "smoke");
  CHECK(s.agents == 3);
}

TEST_CASE("bad scenarios fail with a clear message", "[load]") {
  CHECK_THROWS_WITH(load_scenario_text("[visitors]\narival_rate = 5\n"), Catch::Contains("unknown key 'visitors.arival_rate'"));
  CHECK_THROWS_WITH(load_scenario_text("[visitors]\narrival_rate = \"fast\"\n"), Catch::Contains("must be a number"));
  CHECK_THROWS_WITH(load_scenario_text("[visitors]\nresume_share = 2\n"), Catch::Contains("resume_share"));
  CHECK_THROWS_WITH(load_scenario_text("[agents]\ncount = 0\n"), Catch::Contains("wait_for_agent needs agents"));
  CHECK_THROWS_WITH(load_scenario_text("[agents]\nmax_chats = 11\n"), Catch::Contains("1..10"));
  CHECK_THROWS_WITH(load_scenario_text("[weather]\nsunny = true\n"), Catch::Contains("unknown table"));
  CHECK_THROWS_WITH(load_scenario_text("[visitors\n"), Catch::Contains("not valid TOML"));
  CHECK_THROWS_WITH(load_scenario_text("[visitors]\nthink_shape = \"gaussian\"\n"), Catch::Contains("fixed, uniform or exponential"));
}

#include <filesystem>
#include <fstream>

TEST_CASE("leads come from a CSV with an email column or from plain lines", "[load]") {
  const auto dir = std::filesystem::temp_directory_path() / "dynchat-leads-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "leads.csv") << "first_name,email\r\nAnn,ann@example.com\r\nBob,not-an-email\r\nCy,cy@example.com\r\n";
  std::ofstream(dir / "plain.txt") << "dee@example.com\neve@example.com\n";
  std::ofstream(dir / "empty.txt") << "no emails here\n";
  CHECK(load_leads(dir / "leads.csv") == std::vector<std::string>{"ann@example.com", "cy@example.com"});
  CHECK(load_leads(dir / "plain.txt").size() == 2);
  CHECK_THROWS_WITH(load_leads(dir / "empty.txt"), Catch::Contains("no email"));
  CHECK_THROWS_WITH(load_leads(dir / "missing.csv"), Catch::Contains("cannot read"));
  auto s = load_scenario_text("[visitors]\nknown_share = 0.5\nleads_file = \"leads.csv\"\n", dir);
  CHECK(s.leads.size() == 2);
  CHECK_THROWS_WITH(load_scenario_text("[visitors]\nknown_share = 0.5\n"), Catch::Contains("needs visitors.leads_file"));
  CHECK_THROWS_WITH(load_scenario_text("[visitors]\nknown_share = 2\nleads_file = \"leads.csv\"\n", dir),
                    Catch::Contains("known_share"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a chat belongs to another run only when its visitor names a different run", "[load]") {
  const std::string mine = run_page_url("run-a");
  CHECK(mine.find("run-a") != std::string::npos);
  CHECK_FALSE(from_another_run(mine, "run-a"));
  CHECK(from_another_run(run_page_url("run-b"), "run-a"));
  CHECK(from_another_run("https://example.com/pricing", "run-a"));
  CHECK_FALSE(from_another_run("", "run-a")); // a server that reports no page: this run's
}

TEST_CASE("the meeting preset sends 1,000 visitors to book together and a file tunes it", "[load]") {
  const auto m = preset("meeting");
  CHECK(m.walk_dialogues);
  CHECK(m.book_meetings);
  CHECK(m.book_together);
  CHECK(m.agents == 0);
  CHECK(arrivals_due(m, m.duration_seconds) == Approx(1000));
  const auto tuned = load_scenario_text("[scenario]\npreset = \"meeting\"\n[visitors]\nbook_together = false\nbooking_attempts = 3\n");
  CHECK_FALSE(tuned.book_together);
  CHECK(tuned.booking_attempts == 3);
  CHECK_THROWS_WITH(load_scenario_text("[visitors]\nbook_meetings = 1\n"), Catch::Contains("visitors.book_meetings"));
  CHECK_THROWS_WITH(load_scenario_text("[scenario]\npreset = \"meeting\"\n[visitors]\nbooking_attempts = 0\n"),
                    Catch::Contains("booking_attempts"));
  CHECK_THROWS_WITH(load_scenario_text("[visitors]\nbook_meetings = true\n"), Catch::Contains("walk_dialogues"));
}
