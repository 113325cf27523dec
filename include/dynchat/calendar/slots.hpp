#pragma once
// Free meeting slots: an agent's weekly availability in their time zone, minus what is
// busy (their connected calendar's events and the meetings booked with them, each with
// the buffer after it), from now plus the minimum notice to now plus the horizon. Pure:
// the caller says what "now" is.
#include <cstdint>
#include <string>
#include <vector>

#include "dynchat/calendar/settings.hpp"

namespace dynchat::calendar {

/// [start_ms, end_ms), milliseconds since the epoch (UTC).
struct interval {
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
  bool operator==(const interval&) const = default;
};

/// Busy time as disjoint intervals in start order, so a slot is checked by one search.
/// Built once per change of the calendar, read by every request.
class occupancy {
public:
  occupancy() = default;
  /// Any order, overlapping or not; empty and negative intervals are dropped.
  explicit occupancy(std::vector<interval> busy);
  /// True when [start, end) overlaps none of it, with `buffer_ms` kept free after each busy
  /// interval and after the slot itself.
  bool free(std::int64_t start_ms, std::int64_t end_ms, std::int64_t buffer_ms) const;
  const std::vector<interval>& merged() const { return merged_; }
private:
  std::vector<interval> merged_;
};

struct slot_query {
  std::int64_t now_ms = 0;
  std::int64_t from_ms = 0; // 0: from now plus the notice
  std::int64_t to_ms = 0;   // 0: to the horizon
  std::size_t max_slots = 0; // 0: all of them
};

/// The free slots in start order. Each starts on the grid of its availability block (the
/// block's start, then every meeting duration), lies inside the block, and is free with
/// its buffer. Local times that a daylight-saving change skips move to the change.
std::vector<interval> free_slots(const settings& s, const occupancy& busy, const slot_query& q);

/// A wall-clock time in `zone` (as milliseconds of a clock that has no zone) to its instant,
/// as free_slots reads local times. UTC when the zone is unknown.
std::int64_t local_to_utc_ms(std::int64_t local_ms, const std::string& zone);

/// "2026-03-29T09:00:00+02:00": the instant as local time in `zone` (UTC when unknown).
std::string local_iso(std::int64_t ms, const std::string& zone);
/// "Thu 3 Dec 2026, 09:00 (Europe/Berlin)": the instant as a person reads it, in `zone`.
std::string local_label(std::int64_t ms, const std::string& zone);

} // namespace dynchat::calendar
