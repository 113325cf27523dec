#pragma once
// iCalendar in and out, through libical: the busy times of a connected calendar (an
// iCal feed's text or an uploaded .ics), and the invite a booked meeting sends.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dynchat/calendar/slots.hpp"
#include "dynchat/core/result.hpp"

namespace dynchat::calendar {

struct busy_limits {
  std::size_t max_bytes = 8u << 20;      // the text of one calendar
  std::size_t max_intervals = 20'000;    // busy intervals kept from it, earliest first
};

struct busy_times {
  std::vector<interval> busy; // in start order
  std::size_t events = 0;     // VEVENTs read
  std::size_t skipped = 0;    // cancelled, free (TRANSP:TRANSPARENT), without a start, or recurring every minute or second
  bool truncated = false;     // more intervals than max_intervals: the latest were left out
};

/// The busy intervals in [from_ms, to_ms) of a VCALENDAR: recurrences expanded (RRULE,
/// RDATE, EXDATE, overridden instances by RECURRENCE-ID), times in their TZID, all-day
/// and floating times in `agent_zone`. Fails, saying why, when the text is not iCalendar.
result<busy_times, int> busy_from_ics(std::string_view text, const std::string& agent_zone, std::int64_t from_ms,
                                      std::int64_t to_ms, const busy_limits& lim = {});

struct person {
  std::string name;
  std::string email;
};

/// What an invite says. `sequence` grows with each change; a cancelled meeting's invite
/// has METHOD:CANCEL and STATUS:CANCELLED.
struct invite {
  std::string uid; // stable across changes: "<meeting id>@<host>"
  std::uint32_t sequence = 0;
  bool cancelled = false;
  std::int64_t start_ms = 0, end_ms = 0, stamp_ms = 0;
  std::string summary, description, location;
  person organizer; // the agent
  person attendee;  // the visitor who booked
};

/// A VCALENDAR with METHOD:REQUEST (or CANCEL) and one VEVENT: agent and visitor as
/// attendees, the agent organizing.
std::string invite_ics(const invite& inv);

} // namespace dynchat::calendar
