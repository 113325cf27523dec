#include <catch2/catch.hpp>

#include "dynchat/calendar/slots.hpp"
#include "utc.hpp"

using namespace dynchat::calendar;
using dynchat::calendar::test::utc;

namespace {

settings weekdays_9_to_12(const char* zone = "UTC") {
  settings s;
  s.time_zone = zone;
  for (std::uint8_t day = 1; day <= 5; ++day) s.weekly.push_back({day, 9 * 60, 12 * 60});
  s.min_notice_min = 0;
  return s;
}

std::vector<std::int64_t> starts(const std::vector<interval>& slots) {
  std::vector<std::int64_t> out;
  for (const auto& s : slots) out.push_back(s.start_ms);
  return out;
}

} // namespace

// 2026-12-07 is a Monday.
TEST_CASE("slots fill each availability block on the meeting grid", "[calendar][slots]") {
  const auto s = weekdays_9_to_12();
  const auto slots = free_slots(s, occupancy{}, {utc(2026, 12, 6), 0, utc(2026, 12, 8)});
  REQUIRE(slots.size() == 6);
  CHECK(slots.front() == interval{utc(2026, 12, 7, 9), utc(2026, 12, 7, 9, 30)});
  CHECK(slots.back() == interval{utc(2026, 12, 7, 11, 30), utc(2026, 12, 7, 12)});
}

TEST_CASE("slots honour the minimum notice and the horizon", "[calendar][slots]") {
  auto s = weekdays_9_to_12();
  s.min_notice_min = 60;
  auto slots = free_slots(s, occupancy{}, {utc(2026, 12, 7, 9, 10), 0, utc(2026, 12, 8)});
  REQUIRE_FALSE(slots.empty());
  CHECK(slots.front().start_ms == utc(2026, 12, 7, 10, 30)); // 10:10 at the earliest, on the grid
  s.min_notice_min = 24 * 60; // the default: nothing today, tomorrow from 09:10 on
  slots = free_slots(s, occupancy{}, {utc(2026, 12, 7, 9, 10), 0, 0});
  REQUIRE_FALSE(slots.empty());
  CHECK(slots.front().start_ms == utc(2026, 12, 8, 9, 30));
  s.horizon_days = 2; // the last bookable end is Wednesday 09:10
  slots = free_slots(s, occupancy{}, {utc(2026, 12, 7, 9, 10), 0, 0});
  CHECK(slots.back().start_ms == utc(2026, 12, 8, 11, 30));
  s.takes_meetings = false;
  CHECK(free_slots(s, occupancy{}, {utc(2026, 12, 7), 0, 0}).empty());
}

TEST_CASE("overlapping busy events block every slot they touch", "[calendar][slots]") {
  const auto s = weekdays_9_to_12();
  const occupancy busy{{{utc(2026, 12, 7, 9, 40), utc(2026, 12, 7, 10, 10)}, {utc(2026, 12, 7, 9, 15), utc(2026, 12, 7, 9, 45)}}};
  CHECK(busy.merged().size() == 1);
  const auto slots = free_slots(s, busy, {utc(2026, 12, 7), 0, utc(2026, 12, 7, 23)});
  CHECK(starts(slots) == std::vector<std::int64_t>{utc(2026, 12, 7, 10, 30), utc(2026, 12, 7, 11), utc(2026, 12, 7, 11, 30)});
}

TEST_CASE("back-to-back meetings keep the buffer after each", "[calendar][slots]") {
  auto s = weekdays_9_to_12();
  s.buffer_min = 15;
  // A meeting 09:00-09:30 and another 10:30-11:00: 09:30 is inside the first one's buffer,
  // 10:00 would run its own buffer into the second, 11:00 is inside the second's buffer.
  const occupancy busy{{{utc(2026, 12, 7, 9), utc(2026, 12, 7, 9, 30)}, {utc(2026, 12, 7, 10, 30), utc(2026, 12, 7, 11)}}};
  const auto slots = free_slots(s, busy, {utc(2026, 12, 7), 0, utc(2026, 12, 7, 23)});
  CHECK(starts(slots) == std::vector<std::int64_t>{utc(2026, 12, 7, 11, 30)});
  s.buffer_min = 0; // without a buffer, back to back is fine
  CHECK(starts(free_slots(s, busy, {utc(2026, 12, 7), 0, utc(2026, 12, 7, 23)})) ==
        std::vector<std::int64_t>{utc(2026, 12, 7, 9, 30), utc(2026, 12, 7, 10), utc(2026, 12, 7, 11), utc(2026, 12, 7, 11, 30)});
}

TEST_CASE("slots follow the agent's zone across daylight-saving changes", "[calendar][slots]") {
  settings s;
  s.time_zone = "Europe/Berlin";
  s.min_notice_min = 0;
  s.weekly = {{6, 9 * 60, 10 * 60}, {0, 2 * 60, 4 * 60}, {0, 9 * 60, 10 * 60}};
  // Saturday 28 March 2026 is CET (+1); on Sunday the 29th clocks go from 02:00 to 03:00.
  const auto slots = free_slots(s, occupancy{}, {utc(2026, 3, 27), 0, utc(2026, 3, 30)});
  CHECK(starts(slots) == std::vector<std::int64_t>{
                           utc(2026, 3, 28, 8), utc(2026, 3, 28, 8, 30), // 09:00 CET
                           utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30), // 02:00 does not exist: from 03:00 CEST
                           utc(2026, 3, 29, 7), utc(2026, 3, 29, 7, 30), // 09:00 CEST
                         });
  // Sunday 25 October: 02:00-03:00 happens twice; 01:00 CEST to 04:00 CET is four hours.
  s.weekly = {{0, 1 * 60, 4 * 60}};
  const auto autumn = free_slots(s, occupancy{}, {utc(2026, 10, 24), 0, utc(2026, 10, 26)});
  REQUIRE(autumn.size() == 8);
  CHECK(autumn.front().start_ms == utc(2026, 10, 24, 23));
  CHECK(autumn.back().end_ms == utc(2026, 10, 25, 3));
}

TEST_CASE("a zone west of UTC puts a late block on the next UTC day", "[calendar][slots]") {
  settings s;
  s.time_zone = "America/Los_Angeles";
  s.min_notice_min = 0;
  s.weekly = {{1, 16 * 60, 17 * 60}}; // Monday 16:00 PST = Tuesday 00:00 UTC
  const auto slots = free_slots(s, occupancy{}, {utc(2026, 12, 7), 0, utc(2026, 12, 9)});
  CHECK(starts(slots) == std::vector<std::int64_t>{utc(2026, 12, 8, 0), utc(2026, 12, 8, 0, 30)});
}

TEST_CASE("local times render in the visitor's zone", "[calendar][slots]") {
  CHECK(local_iso(utc(2026, 3, 29, 7), "Europe/Berlin") == "2026-03-29T09:00:00+02:00");
  CHECK(local_iso(utc(2026, 12, 8, 0), "America/Los_Angeles") == "2026-12-07T16:00:00-08:00");
  CHECK(local_iso(utc(2026, 12, 8, 0), "Asia/Kolkata") == "2026-12-08T05:30:00+05:30");
  CHECK(local_iso(utc(2026, 12, 8, 0), "no such zone") == "2026-12-08T00:00:00+00:00");
  CHECK(local_to_utc_ms(utc(2026, 3, 29, 9), "Europe/Berlin") == utc(2026, 3, 29, 7));
}
