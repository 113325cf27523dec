// The JSON form of an agent's calendar settings (docs/meetings.md, "Calendar settings").
#include "dynchat/calendar/settings.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <date/tz.h>

namespace dynchat::calendar {
namespace {

using nlohmann::json;

constexpr std::array<const char*, 7> day_names = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

std::string at(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

// "HH:MM", 00:00 to 24:00; nullopt when it is not one.
std::optional<std::uint16_t> minutes_of(const std::string& s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  int h = 0, m = 0;
  if (std::from_chars(s.data(), s.data() + 2, h).ptr != s.data() + 2) return std::nullopt;
  if (std::from_chars(s.data() + 3, s.data() + 5, m).ptr != s.data() + 5) return std::nullopt;
  if (h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return static_cast<std::uint16_t>(h * 60 + m);
}

std::string hhmm(std::uint16_t minutes) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02u:%02u", minutes / 60u, minutes % 60u);
  return buf;
}

struct reader {
  std::vector<problem>& out;
  void fail(std::string path, std::string reason) { out.push_back({std::move(path), std::move(reason)}); }

  void whole(const json& j, const char* key, std::uint32_t& into, std::uint32_t lo, std::uint32_t hi) {
    auto it = j.find(key);
    if (it == j.end()) return;
    if (!it->is_number_integer() || it->get<std::int64_t>() < lo || it->get<std::int64_t>() > hi)
      return fail(key, "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    into = static_cast<std::uint32_t>(it->get<std::int64_t>());
  }
  void text(const json& j, const char* key, std::string& into, std::size_t max_bytes) {
    auto it = j.find(key);
    if (it == j.end()) return;
    if (!it->is_string()) return fail(key, "must be a string");
    if (it->get_ref<const std::string&>().size() > max_bytes)
      return fail(key, "is longer than " + std::to_string(max_bytes) + " bytes");
    into = it->get<std::string>();
  }
};

} // namespace

bool known_time_zone(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  try {
    return date::locate_zone(name) != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

// Weekly blocks under `field`: each {day, start, end}, none overlapping another that day.
static void read_blocks(reader& r, const json& body, const char* field, const limits& lim, std::vector<weekly_block>& out) {
  if (auto it = body.find(field); it != body.end()) {
    if (!it->is_array()) r.fail(field, "must be a list of {day, start, end}");
    else if (it->size() > lim.max_blocks) r.fail(field, "holds more than " + std::to_string(lim.max_blocks) + " blocks");
    else {
      for (std::size_t i = 0; i < it->size(); ++i) {
        const auto& b = (*it)[i];
        const auto path = std::string{field} + "[" + std::to_string(i) + "]";
        if (!b.is_object()) {
          r.fail(path, "must be an object {day, start, end}");
          continue;
        }
        for (const auto& item : b.items()) {
          const std::string& key = item.key();
          if (key != "day" && key != "start" && key != "end") r.fail(at(path, key), "is not a field here");
        }
        weekly_block block;
        bool ok = true;
        auto day = b.find("day");
        auto found = day != b.end() && day->is_string()
                       ? std::find(day_names.begin(), day_names.end(), day->get<std::string>())
                       : day_names.end();
        if (found == day_names.end()) {
          r.fail(at(path, "day"), "must be one of sun, mon, tue, wed, thu, fri, sat");
          ok = false;
        } else {
          block.weekday = static_cast<std::uint8_t>(found - day_names.begin());
        }
        std::optional<std::uint16_t> start, end;
        for (const char* key : {"start", "end"}) {
          auto v = b.find(key);
          auto m = v != b.end() && v->is_string() ? minutes_of(v->get<std::string>()) : std::nullopt;
          if (!m) {
            r.fail(at(path, key), "must be a time \"HH:MM\" from 00:00 to 24:00");
            ok = false;
          }
          (std::string_view{key} == "start" ? start : end) = m;
        }
        if (start && end && *end <= *start) {
          r.fail(path, "ends at or before it starts");
          ok = false;
        }
        if (!ok) continue;
        block.start_min = *start;
        block.end_min = *end;
        for (std::size_t k = 0; k < out.size(); ++k) {
          const auto& other = out[k];
          if (other.weekday == block.weekday && other.start_min < block.end_min && block.start_min < other.end_min)
            r.fail(path, "overlaps another block on " + std::string{day_names[block.weekday]});
        }
        out.push_back(block);
      }
    }
  }
}

decoded decode_settings(const json& body, const limits& lim) {
  decoded d;
  reader r{d.problems};
  if (!body.is_object()) {
    r.fail("", "must be an object");
    return d;
  }
  static constexpr const char* fields[] = {"time_zone", "availability", "duration_min", "buffer_min", "min_notice_min",
                                           "horizon_days", "takes_meetings", "invite_template", "conference_template",
                                           "live_chat_hours"};
  for (const auto& item : body.items()) {
    const std::string& key = item.key();
    if (std::none_of(std::begin(fields), std::end(fields), [&](const char* f) { return key == f; }))
      r.fail(key, "is not a field here");
  }
  settings s;
  if (auto it = body.find("time_zone"); it == body.end()) r.fail("time_zone", "is missing: an IANA time zone such as Europe/Berlin");
  else if (!it->is_string() || !known_time_zone(it->get<std::string>()))
    r.fail("time_zone", "is not a known IANA time zone (such as Europe/Berlin or America/New_York)");
  else s.time_zone = it->get<std::string>();

  r.whole(body, "duration_min", s.duration_min, 5, 480);
  r.whole(body, "buffer_min", s.buffer_min, 0, 240);
  r.whole(body, "min_notice_min", s.min_notice_min, 0, 60 * 24 * 30);
  r.whole(body, "horizon_days", s.horizon_days, 1, 90);
  if (auto it = body.find("takes_meetings"); it != body.end()) {
    if (!it->is_boolean()) r.fail("takes_meetings", "must be true or false");
    else s.takes_meetings = it->get<bool>();
  }
  r.text(body, "invite_template", s.invite_template, lim.max_template_bytes);
  r.text(body, "conference_template", s.conference_template, 2000);

  read_blocks(r, body, "availability", lim, s.weekly);
  read_blocks(r, body, "live_chat_hours", lim, s.chat_hours);
  for (const auto& b : s.weekly)
    if (b.end_min - b.start_min < s.duration_min) {
      r.fail("availability", "a block on " + std::string{day_names[b.weekday]} + " is shorter than one meeting");
      break;
    }
  if (d.problems.empty()) {
    for (auto* blocks : {&s.weekly, &s.chat_hours})
      std::sort(blocks->begin(), blocks->end(),
                [](const auto& a, const auto& b) { return std::tie(a.weekday, a.start_min) < std::tie(b.weekday, b.start_min); });
    d.value = std::move(s);
  }
  return d;
}

json to_json(const settings& s) {
  auto blocks_json = [](const std::vector<weekly_block>& list) {
    json blocks = json::array();
    for (const auto& b : list)
      blocks.push_back({{"day", day_names[b.weekday]}, {"start", hhmm(b.start_min)}, {"end", hhmm(b.end_min)}});
    return blocks;
  };
  return json{{"time_zone", s.time_zone},           {"availability", blocks_json(s.weekly)},
              {"live_chat_hours", blocks_json(s.chat_hours)},
              {"duration_min", s.duration_min},     {"buffer_min", s.buffer_min},
              {"min_notice_min", s.min_notice_min}, {"horizon_days", s.horizon_days},
              {"takes_meetings", s.takes_meetings}, {"invite_template", s.invite_template},
              {"conference_template", s.conference_template}};
}

std::optional<settings> settings_from_stored(const std::string& json_text) {
  if (json_text.empty()) return std::nullopt;
  auto parsed = nlohmann::json::parse(json_text, nullptr, false);
  if (parsed.is_discarded()) return std::nullopt;
  return decode_settings(parsed).value;
}

} // namespace dynchat::calendar
