#include "dynchat/calendar/chat_schedule.hpp"

#include <algorithm>
#include <limits>

#include <date/tz.h>

#include "dynchat/calendar/slots.hpp"

namespace dynchat::calendar {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
constexpr std::int64_t day_ms = 86'400'000;
constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();

const date::time_zone* zone_or_utc(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return date::locate_zone("UTC");
  }
}

// Local midnight of the day `ms` falls on, as local milliseconds (a clock without zone).
std::int64_t local_day_of(const date::time_zone* zone, std::int64_t ms) {
  const auto local = zone->to_local(date::sys_time<milliseconds>{milliseconds{ms}});
  return std::chrono::duration_cast<milliseconds>(date::floor<date::days>(local).time_since_epoch()).count();
}

struct span {
  std::int64_t start, end;
};

// The blocks as instants, from the day before `ms` to eight days after: every start and
// end within a week of it.
std::vector<span> spans_around(const std::vector<weekly_block>& blocks, const std::string& zone, std::int64_t ms) {
  const auto* z = zone_or_utc(zone);
  const auto today = local_day_of(z, ms);
  std::vector<span> out;
  for (std::int64_t d = -1; d <= 8; ++d) {
    const auto day = today + d * day_ms;
    const auto weekday = date::weekday{date::local_days{date::days{day / day_ms}}}.c_encoding();
    for (const auto& b : blocks)
      if (b.weekday == weekday)
        out.push_back({local_to_utc_ms(day + b.start_min * 60'000LL, zone), local_to_utc_ms(day + b.end_min * 60'000LL, zone)});
  }
  return out;
}

std::int64_t next_midnight(const std::string& zone, std::int64_t ms) {
  return local_to_utc_ms(local_day_of(zone_or_utc(zone), ms) + day_ms, zone);
}

} // namespace

std::int64_t override_ends(const std::vector<weekly_block>& blocks, const std::string& zone, std::int64_t set_ms) {
  auto until = next_midnight(zone, set_ms);
  for (const auto& s : spans_around(blocks, zone, set_ms))
    if (s.start > set_ms) until = std::min(until, s.start);
  return until;
}

chat_status scheduled_status(const std::vector<weekly_block>& blocks, const std::string& zone, std::int64_t now_ms,
                             const std::optional<manual_status>& manual) {
  if (manual) {
    const auto until = override_ends(blocks, zone, manual->set_ms);
    if (now_ms < until) return {manual->status, until, true};
  }
  bool in_block = false;
  std::int64_t next = never;
  for (const auto& s : spans_around(blocks, zone, now_ms)) {
    if (s.start <= now_ms && now_ms < s.end) in_block = true;
    if (s.start > now_ms) next = std::min(next, s.start);
    if (s.end > now_ms) next = std::min(next, s.end);
  }
  // Adjacent blocks (17:00-24:00 then 00:00-08:00) meet: looking again at the join is harmless.
  return {in_block ? "available" : "away", next, false};
}

} // namespace dynchat::calendar
