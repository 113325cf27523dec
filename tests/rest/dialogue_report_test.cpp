// Reports counted from visit rows: dates, ranges, the known/anonymous filter, per-day
// buckets, rates, and CSV that a spreadsheet reads safely.
#include <catch2/catch.hpp>

#include "dynchat/rest/dialogue_report.hpp"

using namespace dynchat;
using namespace dynchat::rest;

namespace {
constexpr std::int64_t day_ms = 86'400'000;

store::dialogue_visit visit(std::int64_t day, bool known, bool engaged, bool completed, bool acquired, std::uint32_t goals = 0) {
  store::dialogue_visit v;
  v.dialogue_id = "d";
  v.conversation_id = "c" + std::to_string(day);
  v.triggered_ms = day * day_ms + 5;
  v.engaged_ms = engaged ? v.triggered_ms + 1 : 0;
  v.completed_ms = completed ? v.triggered_ms + 2 : 0;
  v.known = known;
  v.acquired = acquired;
  v.goals = goals;
  return v;
}
} // namespace

TEST_CASE("days parse and print as calendar dates, and nothing else parses", "[rest][report]") {
  CHECK(parse_day("1970-01-01") == 0);
  CHECK(parse_day("2026-12-03") == 20'790);
  CHECK(format_day(20'790) == "2026-12-03");
  CHECK(parse_day("2024-02-29")); // a leap day
  for (const char* bad : {"2023-02-29", "2026-13-01", "2026-00-10", "2026-1-01", "20261201", "2026-12-0x", "", "1969-12-31",
                          "2026-12-32"})
    CHECK_FALSE(parse_day(bad));
  for (std::int64_t d = 0; d < 30'000; d += 37) CHECK(parse_day(format_day(d)) == d);
}

TEST_CASE("a report's range defaults to the last 30 days, and is at most 24 months", "[rest][report]") {
  const auto today = *parse_day("2026-12-03");
  auto r = read_range("", "", "", today);
  REQUIRE(r.range);
  CHECK(r.range->last_day == today);
  CHECK(r.range->first_day == today - 29);
  CHECK(r.range->to_ms() == (today + 1) * day_ms);
  CHECK(read_range("2024-12-03", "2026-12-03", "", today).range); // 731 days
  CHECK(read_range("2024-12-02", "2026-12-03", "", today).error.find("24 months") != std::string::npos);
  CHECK(read_range("2026-12-04", "2026-12-03", "", today).error == "'from' must not be after 'to'");
  CHECK_FALSE(read_range("yesterday", "", "", today).range);
  CHECK(read_range("", "", "known", today).range->visitors == visitor_filter::known);
  CHECK(read_range("", "", "anonymous", today).range->visitors == visitor_filter::anonymous);
  CHECK_FALSE(read_range("", "", "robots", today).range);
}

TEST_CASE("a report counts each visit once, per day of trigger, with its rates", "[rest][report]") {
  report_range range{100, 102, visitor_filter::all};
  dialogue_report report{"d", "Welcome", range};
  report.add(visit(99, false, true, true, true)); // before the range
  report.add(visit(100, false, true, false, false));
  report.add(visit(100, true, true, true, true, 2));
  report.add(visit(100, false, false, false, false));
  report.add(visit(102, true, true, true, false, 1));
  report.add(visit(103, true, true, true, true)); // after
  const auto& t = report.totals();
  CHECK(t.triggered == 4);
  CHECK(t.engaged == 3);
  CHECK(t.completed == 2);
  CHECK(t.acquired == 1);
  CHECK(t.goals == 3);
  auto j = report.to_json();
  CHECK(j["from"] == "1970-04-11");
  REQUIRE(j["days"].size() == 2); // days without visits are left out
  CHECK(j["days"][0]["day"] == "1970-04-11");
  CHECK(j["days"][0]["triggered"] == 3);
  CHECK(j["totals"]["engagement_rate"] == Approx(0.75));
  CHECK(j["totals"]["conversion_rate"] == Approx(1.0 / 3));

  dialogue_report known{"d", "Welcome", {100, 102, visitor_filter::known}};
  dialogue_report anonymous{"d", "Welcome", {100, 102, visitor_filter::anonymous}};
  for (auto day : {100, 101, 102}) {
    known.add(visit(day, true, false, false, false));
    known.add(visit(day, false, true, false, false)); // anonymous: left out
    anonymous.add(visit(day, true, false, false, false));
    anonymous.add(visit(day, false, true, false, false));
  }
  CHECK(known.totals().triggered == 3);
  CHECK(known.totals().engaged == 0);
  CHECK(anonymous.totals().triggered == 3);
  CHECK(anonymous.totals().engaged == 3);
  // No visits: rates are 0, not a division by zero.
  dialogue_report empty{"d", "x", range};
  CHECK(empty.to_json()["totals"]["engagement_rate"] == 0.0);
}

TEST_CASE("CSV rows quote what needs it and never start a formula", "[rest][report]") {
  CHECK(csv_field("plain") == "plain");
  CHECK(csv_field("a,b") == "\"a,b\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"");
  CHECK(csv_field("+1") == "'+1");
  CHECK(csv_field("line\nbreak") == "\"line\nbreak\"");
  dialogue_report report{"d1", "Sales, EMEA", {0, 1, visitor_filter::all}};
  report.add(visit(1, true, true, true, true, 1));
  std::string rows;
  report.csv_rows(rows);
  CHECK(rows == "d1,\"Sales, EMEA\",1970-01-02,1,1,1,1,0,1,1.0000,1.0000\r\n");
  CHECK(dialogue_report::csv_header().substr(0, 22) == "dialogue_id,dialogue,d");
}

TEST_CASE("live chat figures: requested, taken, missed, and the averages of the taken ones", "[rest][report]") {
  const report_range range{0, 9, visitor_filter::all};
  live_chat_counts c;
  auto chat = [](std::int64_t requested, std::int64_t connected, std::int64_t first, std::int64_t ended, bool known = false) {
    store::live_chat_visit v;
    v.conversation_id = "c" + std::to_string(requested);
    v.requested_ms = requested;
    v.connected_ms = connected;
    v.first_response_ms = first;
    v.ended_ms = ended;
    v.known = known;
    return v;
  };
  c.add(chat(1000, 3000, 5000, 63000), range);  // taken after 2 s, answered 2 s later, 60 s long
  c.add(chat(2000, 4000, 10000, 124000), range); // answered 6 s in, 120 s long
  c.add(chat(3000, 0, 0, 50000), range);        // never taken, over: missed
  c.add(chat(4000, 0, 0, 0), range);            // still waiting: neither
  c.add(chat(5000, 6000, 0, 0), range);         // live, nobody answered yet
  c.add(chat(10 * 86'400'000, 0, 0, 1), range); // outside the range
  CHECK(c.requested == 5);
  CHECK(c.connected == 3);
  CHECK(c.missed == 1);
  auto j = c.to_json();
  CHECK(j["average_chat_seconds"] == Approx(90.0));
  CHECK(j["average_first_response_seconds"] == Approx(4.0));
  live_chat_counts none;
  CHECK(none.to_json()["average_chat_seconds"].is_null());
  live_chat_counts known, anonymous;
  for (auto* into : {&known, &anonymous}) {
    const report_range r{0, 9, into == &known ? visitor_filter::known : visitor_filter::anonymous};
    into->add(chat(1000, 0, 0, 2000, true), r);
    into->add(chat(1500, 0, 0, 2000, false), r);
    into->add(chat(1600, 0, 0, 2000, false), r);
  }
  CHECK(known.requested == 1);
  CHECK(anonymous.requested == 2);
}
