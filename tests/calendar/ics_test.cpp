#include <catch2/catch.hpp>

#include <libical/ical.h>


#include "dynchat/calendar/ics.hpp"
#include "utc.hpp"

using namespace dynchat::calendar;
using dynchat::calendar::test::utc;

namespace {

std::string vcalendar(const std::string& body) {
  return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + body + "END:VCALENDAR\r\n";
}

const char* berlin_zone = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
                          "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n"
                          "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
                          "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n"
                          "DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
                          "END:VTIMEZONE\r\n";

std::vector<interval> busy_of(const std::string& ics, const char* zone = "UTC", std::int64_t from = utc(2026, 3, 1),
                              std::int64_t to = utc(2026, 4, 30)) {
  auto r = busy_from_ics(ics, zone, from, to);
  REQUIRE(r);
  return r->busy;
}

} // namespace

TEST_CASE("a weekly recurrence with an excluded date and a moved instance", "[calendar][ics]") {
  const auto ics = vcalendar(std::string{berlin_zone} +
                             "BEGIN:VEVENT\r\nUID:standup@x\r\nDTSTART;TZID=Europe/Berlin:20260316T090000\r\n"
                             "DTEND;TZID=Europe/Berlin:20260316T093000\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n"
                             "EXDATE;TZID=Europe/Berlin:20260323T090000\r\nEND:VEVENT\r\n"
                             "BEGIN:VEVENT\r\nUID:standup@x\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260330T090000\r\n"
                             "DTSTART;TZID=Europe/Berlin:20260330T140000\r\nDTEND;TZID=Europe/Berlin:20260330T150000\r\nEND:VEVENT\r\n");
  const auto busy = busy_of(ics);
  // 16 March (CET), 23 March excluded, 30 March moved to 14:00 CEST, 6 April (CEST).
  CHECK(busy == std::vector<interval>{{utc(2026, 3, 16, 8), utc(2026, 3, 16, 8, 30)},
                                      {utc(2026, 3, 30, 12), utc(2026, 3, 30, 13)},
                                      {utc(2026, 4, 6, 7), utc(2026, 4, 6, 7, 30)}});
}

TEST_CASE("all-day and floating events are the agent's own days", "[calendar][ics]") {
  const auto ics = vcalendar("BEGIN:VEVENT\r\nUID:holiday@x\r\nDTSTART;VALUE=DATE:20260402\r\nDTEND;VALUE=DATE:20260404\r\nEND:VEVENT\r\n"
                             "BEGIN:VEVENT\r\nUID:lunch@x\r\nDTSTART:20260406T120000\r\nDTEND:20260406T130000\r\nEND:VEVENT\r\n");
  const auto busy = busy_of(ics, "America/New_York");
  // Two whole days in New York (EDT, -4), and noon there.
  CHECK(busy == std::vector<interval>{{utc(2026, 4, 2, 4), utc(2026, 4, 4, 4)}, {utc(2026, 4, 6, 16), utc(2026, 4, 6, 17)}});
}

TEST_CASE("UTC times, cancelled and free events, the window", "[calendar][ics]") {
  const auto ics = vcalendar("BEGIN:VEVENT\r\nUID:a@x\r\nDTSTART:20260310T100000Z\r\nDURATION:PT45M\r\nEND:VEVENT\r\n"
                             "BEGIN:VEVENT\r\nUID:b@x\r\nDTSTART:20260311T100000Z\r\nDTEND:20260311T110000Z\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n"
                             "BEGIN:VEVENT\r\nUID:c@x\r\nDTSTART:20260312T100000Z\r\nDTEND:20260312T110000Z\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"
                             "BEGIN:VEVENT\r\nUID:d@x\r\nDTSTART:20250101T100000Z\r\nDTEND:20250101T110000Z\r\nEND:VEVENT\r\n"
                             "BEGIN:VEVENT\r\nUID:e@x\r\nDTSTART:20260301T000000Z\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\n");
  auto r = busy_from_ics(ics, "UTC", utc(2026, 3, 1), utc(2026, 4, 1));
  REQUIRE(r);
  CHECK(r->events == 5);
  CHECK(r->skipped == 3);
  CHECK(r->busy == std::vector<interval>{{utc(2026, 3, 10, 10), utc(2026, 3, 10, 10, 45)}});
}

TEST_CASE("a daily rule from long ago is expanded only as far as the window needs and is bounded", "[calendar][ics]") {
  const auto ics = vcalendar("BEGIN:VEVENT\r\nUID:daily@x\r\nDTSTART:20000101T090000Z\r\nDTEND:20000101T100000Z\r\n"
                             "RRULE:FREQ=HOURLY\r\nEND:VEVENT\r\n");
  busy_limits lim;
  lim.max_intervals = 100;
  auto r = busy_from_ics(ics, "UTC", utc(2026, 3, 1), utc(2026, 3, 15), lim);
  REQUIRE(r);
  CHECK(r->busy.size() == 100);
  CHECK(r->truncated);
  CHECK(r->busy.front().start_ms >= utc(2026, 2, 28, 23));
}

TEST_CASE("what is not iCalendar is refused, saying why", "[calendar][ics]") {
  for (const char* text : {"hello", "", "BEGIN:VEVENT\r\nEND:VEVENT\r\n", "<html>BEGIN:VCALENDAR</html>"}) {
    INFO(text);
    auto r = busy_from_ics(text, "UTC", 0, utc(2030, 1, 1));
    if (r) CHECK(r->busy.empty()); // libical takes a stray BEGIN:VCALENDAR as an empty calendar
    else CHECK_FALSE(r.error().message.empty());
  }
  CHECK_FALSE(busy_from_ics("hello", "UTC", 0, 1));
  busy_limits small;
  small.max_bytes = 10;
  auto r = busy_from_ics(vcalendar(""), "UTC", 0, 1, small);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == 413);
}

TEST_CASE("an invite parses back with libical, as a request and as a cancellation", "[calendar][ics]") {
  invite inv;
  inv.uid = "m123@dynchat";
  inv.sequence = 2;
  inv.start_ms = utc(2026, 12, 8, 9);
  inv.end_ms = utc(2026, 12, 8, 9, 30);
  inv.stamp_ms = utc(2026, 12, 1);
  inv.summary = "Meeting with Ann; about \"pricing\", too";
  inv.description = "Line one\nLine two, with a comma";
  inv.location = "https://meet.example.com/ann";
  inv.organizer = {"Ann \"the\" Agent", "ann@example.com"};
  inv.attendee = {"Vic Visitor", "vic@example.org"};
  for (bool cancelled : {false, true}) {
    inv.cancelled = cancelled;
    const auto text = invite_ics(inv);
    icalcomponent* cal = icalparser_parse_string(text.c_str());
    REQUIRE(cal);
    CHECK(icalcomponent_get_method(cal) == (cancelled ? ICAL_METHOD_CANCEL : ICAL_METHOD_REQUEST));
    icalcomponent* ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
    REQUIRE(ev);
    CHECK(std::string{icalcomponent_get_uid(ev)} == "m123@dynchat");
    CHECK(icalcomponent_get_sequence(ev) == 2);
    CHECK(std::string{icalcomponent_get_summary(ev)} == inv.summary);
    CHECK(std::string{icalcomponent_get_description(ev)} == inv.description);
    CHECK(icaltime_as_timet(icalcomponent_get_dtstart(ev)) * 1000 == inv.start_ms);
    CHECK(icaltime_as_timet(icalcomponent_get_dtend(ev)) * 1000 == inv.end_ms);
    CHECK(icalcomponent_get_status(ev) == (cancelled ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
    std::vector<std::string> attendees;
    for (auto* p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY); p;
         p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY))
      attendees.emplace_back(icalproperty_get_attendee(p));
    CHECK(attendees == std::vector<std::string>{"mailto:ann@example.com", "mailto:vic@example.org"});
    CHECK(std::string{icalproperty_get_organizer(icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY))} ==
          "mailto:ann@example.com");
    icalcomponent_free(cal);
  }
}
