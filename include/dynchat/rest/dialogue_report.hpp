#pragma once
// A dialogue's report, counted from its visits (one row per visitor who met it, written
// by the conversation that ran it): triggered, engaged, completed, people acquired,
// meetings booked, goals reached, per day of trigger (UTC) and in total, with the
// engagement and conversion rates. Pure: the handler scans the rows and feeds them here.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dynchat/store/records.hpp"

namespace dynchat::rest {

/// Days since 1970-01-01 of a "YYYY-MM-DD" date; nullopt for anything else (Feb 30 included).
std::optional<std::int64_t> parse_day(std::string_view text);
std::string format_day(std::int64_t days);

enum class visitor_filter { all, known, anonymous };

struct report_range {
  std::int64_t first_day = 0; // inclusive, days since the epoch
  std::int64_t last_day = 0;  // inclusive
  visitor_filter visitors = visitor_filter::all;
  std::int64_t from_ms() const { return first_day * 86'400'000; }
  std::int64_t to_ms() const { return (last_day + 1) * 86'400'000; } // exclusive
};

/// At most this many days in one report: 24 months.
inline constexpr std::int64_t max_report_days = 731;

/// The range of `from` and `to` ("YYYY-MM-DD", both optional: the last 30 days up to
/// today) and `visitors` (all, known, anonymous); an error message when they do not fit.
struct range_or_error {
  std::optional<report_range> range;
  std::string error;
};
range_or_error read_range(const std::string& from, const std::string& to, const std::string& visitors,
                          std::int64_t today);

struct counts {
  std::uint64_t triggered = 0, engaged = 0, completed = 0, acquired = 0, meetings = 0, goals = 0;
  void add(const store::dialogue_visit& v);
};

/// Live chat: requests for an agent in the range, how many an agent took, how many ended
/// untaken (missed), and the averages of the taken ones (length to the end, the agent's
/// first answer after taking it).
struct live_chat_counts {
  std::uint64_t requested = 0, connected = 0, missed = 0;
  std::int64_t length_sum_ms = 0, response_sum_ms = 0;
  std::uint64_t lengths = 0, responses = 0;
  /// Counts a request when it is in the range and of the visitor kind asked for.
  void add(const store::live_chat_visit& v, const report_range& range);
  nlohmann::json to_json() const;
};

class dialogue_report {
public:
  dialogue_report(std::string id, std::string name, report_range range)
    : id_(std::move(id)), name_(std::move(name)), range_(range) {}
  /// Counts one visit (those of the other visitor kind, or outside the range, are left out).
  void add(const store::dialogue_visit& v);
  /// A request for an agent that this dialogue handed over.
  void add(const store::live_chat_visit& v) { live_.add(v, range_); }
  void set_live_chat(const live_chat_counts& c) { live_ = c; }
  const counts& totals() const { return totals_; }
  const live_chat_counts& live_chat() const { return live_; }
  nlohmann::json to_json() const;
  /// CSV rows, one per day with visits: dialogue_id,dialogue,day,triggered,... (no header).
  void csv_rows(std::string& out) const;
  static std::string_view csv_header();

private:
  std::string id_, name_;
  report_range range_;
  counts totals_;
  live_chat_counts live_;
  std::map<std::int64_t, counts> days_;
};

/// A CSV field: quoted when it holds a comma, a quote or a line break; a leading = + - @
/// is prefixed with ' so a spreadsheet never runs it as a formula.
std::string csv_field(std::string_view s);

} // namespace dynchat::rest
