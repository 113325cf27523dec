// Live-chat hours: available inside a weekly block and away outside it, in the agent's
// zone; the agent's own toggle holds until the next block starts or local midnight.
#include <catch2/catch.hpp>

#include <date/date.h>

#include "dynchat/calendar/chat_schedule.hpp"

using namespace dynchat::calendar;

namespace {

// An instant given as UTC wall time.
std::int64_t utc(int y, unsigned m, unsigned d, int h, int min = 0) {
  const auto t = date::sys_days{date::year{y} / m / d} + std::chrono::hours{h} + std::chrono::minutes{min};
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::vector<weekly_block> weekdays_9_to_5() {
  std::vector<weekly_block> out;
  for (std::uint8_t d = 1; d <= 5; ++d) out.push_back({d, 9 * 60, 17 * 60});
  return out;
}

const std::string berlin = "Europe/Berlin"; // UTC+1 in March until the 29th, then +2

} // namespace

TEST_CASE("the schedule says available inside a block and away outside it", "[calendar][chat_schedule]") {
  const auto blocks = weekdays_9_to_5();
  struct row {
    std::int64_t now;
    const char* status;
    std::int64_t next;
  };
  // Monday 23 March 2026 (CET).
  for (const auto& r : {row{utc(2026, 3, 23, 9), "available", utc(2026, 3, 23, 16)},  // 10:00 local: until 17:00
                        row{utc(2026, 3, 23, 8), "available", utc(2026, 3, 23, 16)},  // 09:00 sharp: in
                        row{utc(2026, 3, 23, 16), "away", utc(2026, 3, 24, 8)},       // 17:00 sharp: out, back Tue 09:00
                        row{utc(2026, 3, 27, 17), "away", utc(2026, 3, 30, 7)},       // Fri evening: back Mon (CEST by then)
                        row{utc(2026, 3, 28, 12), "away", utc(2026, 3, 30, 7)}}) {   // Saturday
    INFO(r.now);
    auto s = scheduled_status(blocks, berlin, r.now, std::nullopt);
    CHECK(s.status == std::string{r.status});
    CHECK(s.next_change_ms == r.next);
    CHECK_FALSE(s.overridden);
  }
}

TEST_CASE("the toggle overrides the schedule until local midnight or the next block", "[calendar][chat_schedule]") {
  const auto blocks = weekdays_9_to_5();
  // Away at Monday 10:00 local: holds through the evening, until midnight (before Tuesday's block).
  const manual_status away{"away", utc(2026, 3, 23, 9)};
  CHECK(override_ends(blocks, berlin, away.set_ms) == utc(2026, 3, 23, 23));
  auto s = scheduled_status(blocks, berlin, utc(2026, 3, 23, 12), away);
  CHECK(s.status == "away");
  CHECK(s.overridden);
  CHECK(s.next_change_ms == utc(2026, 3, 23, 23));
  s = scheduled_status(blocks, berlin, utc(2026, 3, 23, 23), away); // midnight: the schedule again
  CHECK(s.status == "away");
  CHECK_FALSE(s.overridden);
  CHECK(scheduled_status(blocks, berlin, utc(2026, 3, 24, 8), away).status == "available");

  // Available on a Saturday: until midnight.
  const manual_status weekend{"available", utc(2026, 3, 28, 10)};
  CHECK(scheduled_status(blocks, berlin, utc(2026, 3, 28, 22), weekend).status == "available");
  CHECK(scheduled_status(blocks, berlin, utc(2026, 3, 28, 23), weekend).status == "away");

  // Two blocks a day: away at 11:00 holds until the afternoon block starts at 13:00.
  std::vector<weekly_block> split{{1, 9 * 60, 12 * 60}, {1, 13 * 60, 17 * 60}};
  const manual_status lunch{"away", utc(2026, 3, 23, 10)};
  CHECK(override_ends(split, berlin, lunch.set_ms) == utc(2026, 3, 23, 12));
  CHECK(scheduled_status(split, berlin, utc(2026, 3, 23, 11, 59), lunch).status == "away");
  CHECK(scheduled_status(split, berlin, utc(2026, 3, 23, 12), lunch).status == "available");
}

TEST_CASE("midnight and blocks follow daylight saving in the agent's zone", "[calendar][chat_schedule]") {
  const auto blocks = weekdays_9_to_5();
  // Sunday 29 March 2026 has 23 hours in Berlin: midnight after 10:00 CEST is 22:00 UTC.
  CHECK(override_ends(blocks, berlin, utc(2026, 3, 29, 8)) == utc(2026, 3, 29, 22));
  // Saturday before it: midnight is 23:00 UTC (still CET).
  CHECK(override_ends(blocks, berlin, utc(2026, 3, 28, 20)) == utc(2026, 3, 28, 23));
  // Monday's block starts at 09:00 CEST = 07:00 UTC.
  CHECK(scheduled_status(blocks, berlin, utc(2026, 3, 30, 7), std::nullopt).status == "available");
  CHECK(scheduled_status(blocks, berlin, utc(2026, 3, 30, 6, 59), std::nullopt).status == "away");
  // New York, the same rules in its own zone.
  CHECK(scheduled_status(blocks, "America/New_York", utc(2026, 3, 23, 13), std::nullopt).status == "available"); // 09:00 EDT
  CHECK(scheduled_status(blocks, "America/New_York", utc(2026, 3, 23, 12), std::nullopt).status == "away");
}
