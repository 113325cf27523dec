#pragma once
// An agent's meeting calendar settings (PUT /v1/agents/{id}/calendar, docs/meetings.md):
// when they take meetings, in their own time zone, and how a meeting is laid out. Decoded
// strictly: every problem is listed with its path, and nothing is stored while any is.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dynchat/dialogue/validate.hpp"

namespace dynchat::calendar {

using problem = dialogue::problem;

/// Weekly availability: on `weekday` (0 Sunday .. 6 Saturday), from `start_min` to
/// `end_min` minutes after local midnight (end 1440: until midnight).
struct weekly_block {
  std::uint8_t weekday = 1;
  std::uint16_t start_min = 9 * 60;
  std::uint16_t end_min = 17 * 60;
  bool operator==(const weekly_block&) const = default;
};

struct settings {
  std::string time_zone = "UTC"; // an IANA name
  std::vector<weekly_block> weekly;
  std::uint32_t duration_min = 30;
  std::uint32_t buffer_min = 0;          // kept free after each meeting
  std::uint32_t min_notice_min = 24 * 60; // the earliest bookable start is now plus this
  std::uint32_t horizon_days = 14;        // the latest bookable end is now plus this
  bool takes_meetings = true;             // the agent may be given meetings at all
  std::string invite_template;            // the invite's description; lead tokens render
  std::string conference_template;        // the invite's location, e.g. a meeting link; tokens render
  // Live chat: the weekly hours the agent is available by schedule (empty: only its own
  // toggle says). A toggle overrides it until the next block starts, or local midnight.
  std::vector<weekly_block> chat_hours;
  bool operator==(const settings&) const = default;
};

struct limits {
  std::size_t max_blocks = 70; // ten per weekday
  std::size_t max_template_bytes = 4000;
};

struct decoded {
  std::optional<settings> value; // set exactly when there is no problem
  std::vector<problem> problems;
};

/// Unknown fields, an unknown time zone, a block that ends before it starts or overlaps
/// another on the same day, and values out of range are all problems.
decoded decode_settings(const nlohmann::json& body, const limits& lim = {});
nlohmann::json to_json(const settings& s);
/// Settings as the store keeps them (to_json's text); nullopt for none or unreadable.
std::optional<settings> settings_from_stored(const std::string& json_text);

/// True when `name` is a time zone of the system's database (tzdata).
bool known_time_zone(const std::string& name);

} // namespace dynchat::calendar
