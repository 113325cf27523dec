#include "dynchat/rest/dialogue_report.hpp"

#include <charconv>

#include <fmt/format.h>

namespace dynchat::rest {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool digits(std::string_view s, unsigned& out) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return std::from_chars(s.data(), s.data() + s.size(), out).ec == std::errc{};
}

double rate(std::uint64_t part, std::uint64_t whole) { return whole == 0 ? 0.0 : static_cast<double>(part) / whole; }

nlohmann::json counts_json(const counts& c) {
  return {{"triggered", c.triggered},
          {"engaged", c.engaged},
          {"completed", c.completed},
          {"acquired", c.acquired},
          {"meetings_booked", c.meetings},
          {"goals_reached", c.goals},
          {"engagement_rate", rate(c.engaged, c.triggered)},
          {"conversion_rate", rate(c.acquired, c.engaged)}};
}

} // namespace

std::optional<std::int64_t> parse_day(std::string_view text) {
  unsigned y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (!digits(text.substr(0, 4), y) || !digits(text.substr(5, 2), m) || !digits(text.substr(8, 2), d)) return std::nullopt;
  if (y < 1970 || m < 1 || m > 12 || d < 1) return std::nullopt;
  const auto days = days_from_civil(y, m, d);
  std::int64_t back_y = 0;
  unsigned back_m = 0, back_d = 0;
  civil_from_days(days, back_y, back_m, back_d);
  if (back_m != m || back_d != d) return std::nullopt; // the 30th of February
  return days;
}

std::string format_day(std::int64_t days) {
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

range_or_error read_range(const std::string& from, const std::string& to, const std::string& visitors,
                          std::int64_t today) {
  report_range r;
  r.last_day = today;
  if (!to.empty()) {
    auto d = parse_day(to);
    if (!d) return {std::nullopt, "'to' must be a date, YYYY-MM-DD"};
    r.last_day = *d;
  }
  r.first_day = r.last_day - 29;
  if (!from.empty()) {
    auto d = parse_day(from);
    if (!d) return {std::nullopt, "'from' must be a date, YYYY-MM-DD"};
    r.first_day = *d;
  }
  if (r.first_day > r.last_day) return {std::nullopt, "'from' must not be after 'to'"};
  if (r.last_day - r.first_day + 1 > max_report_days)
    return {std::nullopt, "a report covers at most 24 months (" + std::to_string(max_report_days) + " days)"};
  if (visitors == "known") r.visitors = visitor_filter::known;
  else if (visitors == "anonymous") r.visitors = visitor_filter::anonymous;
  else if (!visitors.empty() && visitors != "all") return {std::nullopt, "'visitors' must be all, known or anonymous"};
  return {r, {}};
}

void counts::add(const store::dialogue_visit& v) {
  ++triggered;
  engaged += v.engaged_ms != 0;
  completed += v.completed_ms != 0;
  acquired += v.acquired;
  meetings += v.meetings;
  goals += v.goals;
}

void live_chat_counts::add(const store::live_chat_visit& v, const report_range& range) {
  if (v.requested_ms < range.from_ms() || v.requested_ms >= range.to_ms()) return;
  if (range.visitors == visitor_filter::known && !v.known) return;
  if (range.visitors == visitor_filter::anonymous && v.known) return;
  ++requested;
  if (v.connected_ms != 0) {
    ++connected;
    if (v.ended_ms >= v.connected_ms) {
      length_sum_ms += v.ended_ms - v.connected_ms;
      ++lengths;
    }
    if (v.first_response_ms >= v.connected_ms) {
      response_sum_ms += v.first_response_ms - v.connected_ms;
      ++responses;
    }
  } else if (v.ended_ms != 0) {
    ++missed;
  }
}

nlohmann::json live_chat_counts::to_json() const {
  auto average_s = [](std::int64_t sum_ms, std::uint64_t n) {
    return n == 0 ? nlohmann::json(nullptr) : nlohmann::json(static_cast<double>(sum_ms) / n / 1000.0);
  };
  return {{"requested", requested},
          {"connected", connected},
          {"missed", missed},
          {"average_chat_seconds", average_s(length_sum_ms, lengths)},
          {"average_first_response_seconds", average_s(response_sum_ms, responses)}};
}

void dialogue_report::add(const store::dialogue_visit& v) {
  if (v.triggered_ms < range_.from_ms() || v.triggered_ms >= range_.to_ms()) return;
  if (range_.visitors == visitor_filter::known && !v.known) return;
  if (range_.visitors == visitor_filter::anonymous && v.known) return;
  totals_.add(v);
  days_[v.triggered_ms / 86'400'000].add(v);
}

nlohmann::json dialogue_report::to_json() const {
  nlohmann::json days = nlohmann::json::array();
  for (const auto& [day, c] : days_) {
    auto j = counts_json(c);
    j["day"] = format_day(day);
    days.push_back(std::move(j));
  }
  return {{"dialogue_id", id_},       {"name", name_}, {"from", format_day(range_.first_day)},
          {"to", format_day(range_.last_day)}, {"totals", counts_json(totals_)}, {"live_chat", live_.to_json()},
          {"days", std::move(days)}};
}

std::string_view dialogue_report::csv_header() {
  return "dialogue_id,dialogue,day,triggered,engaged,completed,acquired,meetings_booked,goals_reached,engagement_rate,"
         "conversion_rate\r\n";
}

void dialogue_report::csv_rows(std::string& out) const {
  for (const auto& [day, c] : days_)
    out += fmt::format("{},{},{},{},{},{},{},{},{},{:.4f},{:.4f}\r\n", csv_field(id_), csv_field(name_), format_day(day),
                       c.triggered, c.engaged, c.completed, c.acquired, c.meetings, c.goals, rate(c.engaged, c.triggered),
                       rate(c.acquired, c.engaged));
}

std::string csv_field(std::string_view s) {
  std::string v{s};
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r'))
    v.insert(v.begin(), '\'');
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string quoted = "\"";
  for (char c : v) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

} // namespace dynchat::rest
