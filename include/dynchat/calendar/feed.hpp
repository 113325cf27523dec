#pragma once
// A connected iCal feed, read on a schedule (docs/meetings.md): the address Google
// Calendar and Outlook publish, and what one read of it leaves in the agent's calendar.
// Pure: the fetching is the feeds actor's.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dynchat/calendar/ics.hpp"
#include "dynchat/store/meetings.hpp"

namespace dynchat::calendar {

/// The URL to fetch: http(s) as given, webcal:// (what Outlook and Apple hand out) as
/// https://. nullopt, with `why`, for anything else.
std::optional<std::string> feed_fetch_url(std::string_view given, std::string& why);

/// One read of a feed: the server's answer, or why there was none.
struct feed_read {
  bool answered = false; // a response came (whatever its status)
  unsigned status = 0;
  std::string body;
  std::string error;     // no response: timeout, refused, TLS, too large
};

/// The calendar after a read: status ok with the busy times of [now - 1 day, now + 91
/// days) when the read answered 200 with iCalendar; otherwise status failing and why.
/// A failing record carries no busy times: the scheduler keeps the last good ones.
store::calendar_record after_feed_read(const std::string& agent_id, const std::string& url, const feed_read& r,
                                       const std::string& agent_zone, std::int64_t now_ms,
                                       const busy_limits& limits = {});

} // namespace dynchat::calendar
