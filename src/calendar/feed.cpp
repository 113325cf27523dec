#include "dynchat/calendar/feed.hpp"

#include "dynchat/http/url.hpp"

namespace dynchat::calendar {

std::optional<std::string> feed_fetch_url(std::string_view given, std::string& why) {
  std::string text{given};
  constexpr std::string_view webcal = "webcal://";
  if (text.size() > webcal.size() && text.compare(0, webcal.size(), webcal) == 0) text = "https://" + text.substr(webcal.size());
  auto parsed = http::parse_url(text);
  if (!parsed) {
    why = "not an http, https or webcal address: " + parsed.error().message;
    return std::nullopt;
  }
  return parsed->to_string();
}

store::calendar_record after_feed_read(const std::string& agent_id, const std::string& url, const feed_read& r,
                                       const std::string& agent_zone, std::int64_t now_ms, const busy_limits& limits) {
  constexpr std::int64_t day_ms = 86'400'000;
  store::calendar_record c;
  c.agent_id = agent_id;
  c.source = "feed";
  c.feed_url = url;
  c.checked_ms = now_ms;
  c.status = "failing";
  if (!r.answered) {
    c.error = "the feed could not be read: " + r.error;
    return c;
  }
  if (r.status != 200) {
    c.error = "the feed answered HTTP " + std::to_string(r.status);
    return c;
  }
  auto busy = busy_from_ics(r.body, agent_zone, now_ms - day_ms, now_ms + 91 * day_ms, limits);
  if (!busy) {
    c.error = "the feed is not a calendar: " + busy.error().message;
    return c;
  }
  c.status = "ok";
  c.refreshed_ms = now_ms;
  c.events = static_cast<std::uint32_t>(busy->events);
  if (busy->truncated) c.error = "more busy times than the limit: the latest were left out";
  for (const auto& b : busy->busy) c.busy.emplace_back(b.start_ms, b.end_ms);
  return c;
}

} // namespace dynchat::calendar
