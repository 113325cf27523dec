#include "dynchat/calendar/slots.hpp"

#include <algorithm>

#include <date/tz.h>

namespace dynchat::calendar {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using sys_ms = date::sys_time<milliseconds>;

constexpr std::int64_t minute_ms = 60'000;
constexpr std::int64_t day_ms = 24 * 60 * minute_ms;

const date::time_zone* zone_or_utc(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return date::locate_zone("UTC");
  }
}

// A local wall-clock time to its instant: an ambiguous one (the hour repeated in autumn)
// is its earlier instant; one skipped in spring is the moment of the change.
std::int64_t to_instant(const date::time_zone* zone, date::local_time<minutes> local) {
  const auto info = zone->get_info(local);
  if (info.result == date::local_info::nonexistent) return std::chrono::duration_cast<milliseconds>(info.first.end.time_since_epoch()).count();
  const auto sys = date::sys_time<minutes>{local.time_since_epoch() - std::chrono::duration_cast<minutes>(info.first.offset)};
  return std::chrono::duration_cast<milliseconds>(sys.time_since_epoch()).count();
}

} // namespace

occupancy::occupancy(std::vector<interval> busy) {
  busy.erase(std::remove_if(busy.begin(), busy.end(), [](const interval& i) { return i.end_ms <= i.start_ms; }), busy.end());
  std::sort(busy.begin(), busy.end(), [](const interval& a, const interval& b) { return a.start_ms < b.start_ms; });
  for (const auto& i : busy) {
    if (!merged_.empty() && i.start_ms <= merged_.back().end_ms) merged_.back().end_ms = std::max(merged_.back().end_ms, i.end_ms);
    else merged_.push_back(i);
  }
}

bool occupancy::free(std::int64_t start_ms, std::int64_t end_ms, std::int64_t buffer_ms) const {
  // The first busy interval whose end, with its buffer, lies after the slot's start: the
  // slot is free unless that interval starts before the slot's end plus its buffer.
  auto it = std::upper_bound(merged_.begin(), merged_.end(), start_ms,
                             [&](std::int64_t s, const interval& b) { return s < b.end_ms + buffer_ms; });
  return it == merged_.end() || it->start_ms >= end_ms + buffer_ms;
}

std::vector<interval> free_slots(const settings& s, const occupancy& busy, const slot_query& q) {
  std::vector<interval> out;
  if (!s.takes_meetings || s.weekly.empty() || s.duration_min == 0) return out;
  const std::int64_t earliest = std::max(q.from_ms, q.now_ms + static_cast<std::int64_t>(s.min_notice_min) * minute_ms);
  std::int64_t latest = q.now_ms + static_cast<std::int64_t>(s.horizon_days) * day_ms;
  if (q.to_ms > 0) latest = std::min(latest, q.to_ms);
  if (latest <= earliest) return out;
  const auto* zone = zone_or_utc(s.time_zone);
  const std::int64_t duration = static_cast<std::int64_t>(s.duration_min) * minute_ms;
  const std::int64_t buffer = static_cast<std::int64_t>(s.buffer_min) * minute_ms;

  // Local days from the one holding `earliest` (less a day: a block may run past midnight
  // in UTC terms) to the one holding `latest`.
  const auto first_local = zone->to_local(sys_ms{milliseconds{earliest}});
  const auto last_local = zone->to_local(sys_ms{milliseconds{latest}});
  for (auto day = date::floor<date::days>(first_local) - date::days{1}; day <= date::floor<date::days>(last_local);
       day += date::days{1}) {
    const auto weekday = date::weekday{day}.c_encoding();
    for (const auto& block : s.weekly) {
      if (block.weekday != weekday) continue;
      const auto block_start = to_instant(zone, day + minutes{block.start_min});
      const auto block_end = to_instant(zone, day + minutes{block.end_min});
      for (auto start = block_start; start + duration <= block_end; start += duration) {
        if (start < earliest) continue;
        if (start + duration > latest) break;
        if (!busy.free(start, start + duration, buffer)) continue;
        out.push_back({start, start + duration});
        if (q.max_slots && out.size() >= q.max_slots) return out;
      }
    }
  }
  return out;
}

std::int64_t local_to_utc_ms(std::int64_t local_ms, const std::string& zone) {
  const auto whole = date::floor<minutes>(milliseconds{local_ms});
  return to_instant(zone_or_utc(zone), date::local_time<minutes>{whole}) + (local_ms - std::chrono::duration_cast<milliseconds>(whole).count());
}

std::string local_iso(std::int64_t ms, const std::string& zone) {
  const auto* z = zone_or_utc(zone);
  const auto when = date::floor<std::chrono::seconds>(sys_ms{milliseconds{ms}});
  const auto info = z->get_info(when);
  const auto local = z->to_local(when);
  auto offset = std::chrono::duration_cast<minutes>(info.offset).count();
  const char sign = offset < 0 ? '-' : '+';
  offset = offset < 0 ? -offset : offset;
  char tail[8];
  std::snprintf(tail, sizeof tail, "%c%02lld:%02lld", sign, static_cast<long long>(offset / 60),
                static_cast<long long>(offset % 60));
  return date::format("%FT%T", local) + tail;
}

} // namespace dynchat::calendar

namespace dynchat::calendar {

std::string local_label(std::int64_t ms, const std::string& zone) {
  const auto* z = zone_or_utc(zone);
  const auto local = z->to_local(date::floor<minutes>(sys_ms{milliseconds{ms}}));
  const date::year_month_day day{date::floor<date::days>(local)};
  return date::format("%a ", local) + std::to_string(static_cast<unsigned>(day.day())) +
         date::format(" %b %Y, %H:%M", local) + " (" + std::string{z->name()} + ")";
}

} // namespace dynchat::calendar
