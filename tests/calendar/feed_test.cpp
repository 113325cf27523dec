// What one read of an iCal feed leaves in the agent's calendar, and which addresses are read.
#include <catch2/catch.hpp>

#include "dynchat/calendar/feed.hpp"

using namespace dynchat::calendar;

TEST_CASE("feed addresses: http and https as given and webcal as https and others refused", "[calendar][feeds]") {
  std::string why;
  CHECK(feed_fetch_url("https://calendar.google.com/calendar/ical/x%40group/private-abc/basic.ics", why) ==
        "https://calendar.google.com/calendar/ical/x%40group/private-abc/basic.ics");
  CHECK(feed_fetch_url("webcal://outlook.office365.com/owa/calendar/a/b/reachcalendar.ics", why) ==
        "https://outlook.office365.com/owa/calendar/a/b/reachcalendar.ics");
  CHECK_FALSE(feed_fetch_url("ftp://example.com/cal.ics", why));
  CHECK_FALSE(why.empty());
  CHECK_FALSE(feed_fetch_url("https://user:pass@example.com/cal.ics", why));
  CHECK_FALSE(feed_fetch_url("webcal://", why));
}

TEST_CASE("a read of a feed is ok with its busy times or failing and why", "[calendar][feeds]") {
  constexpr std::int64_t now = 1'796'000'000'000; // 2026-11-29
  const std::string ics =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261201T100000Z\r\n"
    "DTEND:20261201T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  auto ok = after_feed_read("agent", "https://x/y.ics", {true, 200, ics, {}}, "UTC", now);
  CHECK(ok.status == "ok");
  CHECK(ok.source == "feed");
  CHECK(ok.refreshed_ms == now);
  CHECK(ok.checked_ms == now);
  REQUIRE(ok.busy.size() == 1);
  CHECK(ok.busy[0].second - ok.busy[0].first == 3'600'000);

  auto gone = after_feed_read("agent", "https://x/y.ics", {true, 404, "not here", {}}, "UTC", now);
  CHECK(gone.status == "failing");
  CHECK(gone.error == "the feed answered HTTP 404");
  CHECK(gone.refreshed_ms == 0); // the scheduler keeps the last good busy times
  CHECK(gone.busy.empty());
  auto garbage = after_feed_read("agent", "https://x/y.ics", {true, 200, "<html>", {}}, "UTC", now);
  CHECK(garbage.status == "failing");
  CHECK(garbage.error.find("not a calendar") != std::string::npos);
  auto silent = after_feed_read("agent", "https://x/y.ics", {false, 0, {}, "timed out"}, "UTC", now);
  CHECK(silent.error == "the feed could not be read: timed out");
}
