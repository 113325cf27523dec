#pragma once
// The rows of meetings (docs/meetings.md): each agent's calendar (settings, connected
// calendar and its busy times), the meetings booked, and the invites waiting for SMTP.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dynchat/store/lmdb.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat::store {

struct calendar_record {
  std::string agent_id;
  std::string settings_json; // calendar::to_json; empty: never set
  std::string source;        // "" (none) | "upload" (an .ics file) | "feed" (an iCal address)
  std::string feed_url;
  std::string status;        // "" (none) | "ok" | "failing"
  std::string error;         // why the last refresh failed
  std::int64_t refreshed_ms = 0; // the busy times are from this refresh
  std::int64_t checked_ms = 0;   // the last attempt, good or not
  std::vector<std::pair<std::int64_t, std::int64_t>> busy; // [start, end) in ms, in start order
  std::uint32_t events = 0;  // events the calendar held
  bool operator==(const calendar_record&) const = default;
};

/// scheduled -> rescheduled / cancelled / completed / no_show.
struct meeting_record {
  std::string id;
  std::string agent_id;
  std::int64_t start_ms = 0, end_ms = 0;
  std::string status = "scheduled";
  std::string time_zone; // the booker's, for showing the time; the agent's when they gave none
  std::string booker_email, booker_name;
  std::string conversation_id, dialogue_id, page_url; // where it was booked; empty over REST
  std::uint32_t sequence = 0; // the invite's SEQUENCE: grows with each change
  std::int64_t created_ms = 0, updated_ms = 0;
  std::string manage_token_hash; // sha256 of the booker's secret link token
  bool operator==(const meeting_record&) const = default;
};

/// One invite to one recipient, as SMTP delivers it: pending until sent; never sent twice.
struct invite_delivery {
  std::string meeting_id;
  std::uint32_t sequence = 0;
  std::string recipient;
  std::string subject;
  std::string ics;
  std::string status = "pending"; // pending | sent | failed (given up: it stays visible)
  std::uint32_t attempts = 0;
  std::int64_t next_attempt_ms = 0;
  std::string last_error;
  std::int64_t sent_ms = 0;
  bool operator==(const invite_delivery&) const = default;
};

std::string encode(const calendar_record& r);
std::string encode(const meeting_record& r);
std::string encode(const invite_delivery& r);
std::optional<calendar_record> decode_calendar(std::string_view bytes);
std::optional<meeting_record> decode_meeting(std::string_view bytes);
std::optional<invite_delivery> decode_invite_delivery(std::string_view bytes);

std::string agent_meeting_key(std::string_view agent_id, std::int64_t start_ms, std::string_view meeting_id);
std::string invite_delivery_key(std::string_view meeting_id, std::uint32_t sequence, std::string_view recipient);

std::optional<calendar_record> load_calendar(const read_txn& txn, std::string_view agent_id);
std::vector<calendar_record> load_calendars(const read_txn& txn);
std::optional<meeting_record> load_meeting(const read_txn& txn, std::string_view id);
/// Every meeting in id (creation) order from `after` (exclusive); `fn` false stops.
void scan_meetings(const read_txn& txn, std::string_view after, const std::function<bool(const meeting_record&)>& fn);
/// An agent's meetings that end after `from_ms`, in start order.
std::vector<meeting_record> load_agent_meetings(const read_txn& txn, std::string_view agent_id, std::int64_t from_ms);
/// The invites of one meeting (every one when `meeting_id` is empty), in key order.
std::vector<invite_delivery> load_invite_deliveries(const read_txn& txn, std::string_view meeting_id = {});

namespace writes {
void put_calendar(write_batch& b, const calendar_record& c);
void erase_calendar(write_batch& b, std::string_view agent_id);
/// The meeting and its place in the agent's time index; `before` is the row it replaces
/// (its old index entry goes), null for a new meeting.
void put_meeting(write_batch& b, const meeting_record& m, const meeting_record* before);
void put_invite_delivery(write_batch& b, const invite_delivery& d);
} // namespace writes

} // namespace dynchat::store
