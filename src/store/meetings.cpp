#include "dynchat/store/meetings.hpp"

#include <algorithm>

#include "pack.hpp"

namespace dynchat::store {

using detail::pack;
using detail::unpack;

std::string encode(const calendar_record& r) {
  return pack(r.agent_id, r.settings_json, r.source, r.feed_url, r.status, r.error, r.refreshed_ms, r.checked_ms, r.busy,
              r.events);
}
std::optional<calendar_record> decode_calendar(std::string_view bytes) {
  calendar_record r;
  if (!unpack(bytes, 10, r.agent_id, r.settings_json, r.source, r.feed_url, r.status, r.error, r.refreshed_ms, r.checked_ms,
              r.busy, r.events))
    return std::nullopt;
  return r;
}

std::string encode(const meeting_record& r) {
  return pack(r.id, r.agent_id, r.start_ms, r.end_ms, r.status, r.time_zone, r.booker_email, r.booker_name,
              r.conversation_id, r.dialogue_id, r.page_url, r.sequence, r.created_ms, r.updated_ms, r.manage_token_hash);
}
std::optional<meeting_record> decode_meeting(std::string_view bytes) {
  meeting_record r;
  if (!unpack(bytes, 15, r.id, r.agent_id, r.start_ms, r.end_ms, r.status, r.time_zone, r.booker_email, r.booker_name,
              r.conversation_id, r.dialogue_id, r.page_url, r.sequence, r.created_ms, r.updated_ms, r.manage_token_hash))
    return std::nullopt;
  return r;
}

std::string encode(const invite_delivery& r) {
  return pack(r.meeting_id, r.sequence, r.recipient, r.subject, r.ics, r.status, r.attempts, r.next_attempt_ms,
              r.last_error, r.sent_ms);
}
std::optional<invite_delivery> decode_invite_delivery(std::string_view bytes) {
  invite_delivery r;
  if (!unpack(bytes, 10, r.meeting_id, r.sequence, r.recipient, r.subject, r.ics, r.status, r.attempts, r.next_attempt_ms,
              r.last_error, r.sent_ms))
    return std::nullopt;
  return r;
}

std::string agent_meeting_key(std::string_view agent_id, std::int64_t start_ms, std::string_view meeting_id) {
  return std::string{agent_id} + be64(static_cast<std::uint64_t>(std::max<std::int64_t>(0, start_ms))) + std::string{meeting_id};
}
std::string invite_delivery_key(std::string_view meeting_id, std::uint32_t sequence, std::string_view recipient) {
  return std::string{meeting_id} + be64(sequence) + std::string{recipient};
}

std::optional<calendar_record> load_calendar(const read_txn& txn, std::string_view agent_id) {
  auto v = txn.get(table::calendars, agent_id);
  return v ? decode_calendar(*v) : std::nullopt;
}
std::vector<calendar_record> load_calendars(const read_txn& txn) {
  std::vector<calendar_record> out;
  txn.scan_prefix(table::calendars, "", "", [&](std::string_view, std::string_view value) {
    if (auto c = decode_calendar(value)) out.push_back(std::move(*c));
    return true;
  });
  return out;
}
std::optional<meeting_record> load_meeting(const read_txn& txn, std::string_view id) {
  auto v = txn.get(table::meetings, id);
  return v ? decode_meeting(*v) : std::nullopt;
}
void scan_meetings(const read_txn& txn, std::string_view after, const std::function<bool(const meeting_record&)>& fn) {
  std::string from{after};
  if (!from.empty()) from += '\0'; // strictly after
  txn.scan_prefix(table::meetings, "", from, [&](std::string_view, std::string_view value) {
    auto m = decode_meeting(value);
    return !m || fn(*m);
  });
}
std::vector<meeting_record> load_agent_meetings(const read_txn& txn, std::string_view agent_id, std::int64_t from_ms) {
  std::vector<meeting_record> out;
  // Meetings last at most a day (480 minutes): one that ends after from_ms started after from_ms less a day.
  const auto from = agent_meeting_key(agent_id, from_ms - 86'400'000, "");
  txn.scan_prefix(table::agent_meetings, agent_id, from, [&](std::string_view key, std::string_view) {
    if (auto m = load_meeting(txn, key.substr(agent_id.size() + 8)); m && m->end_ms > from_ms) out.push_back(std::move(*m));
    return true;
  });
  return out;
}
std::vector<invite_delivery> load_invite_deliveries(const read_txn& txn, std::string_view meeting_id) {
  std::vector<invite_delivery> out;
  txn.scan_prefix(table::meeting_outbox, meeting_id, "", [&](std::string_view, std::string_view value) {
    if (auto d = decode_invite_delivery(value)) out.push_back(std::move(*d));
    return true;
  });
  return out;
}

namespace writes {
void put_calendar(write_batch& b, const calendar_record& c) { b.push_back({table::calendars, c.agent_id, encode(c), false}); }
void erase_calendar(write_batch& b, std::string_view agent_id) { b.push_back({table::calendars, std::string{agent_id}, {}, true}); }
void put_meeting(write_batch& b, const meeting_record& m, const meeting_record* before) {
  if (before && (before->start_ms != m.start_ms || before->agent_id != m.agent_id))
    b.push_back({table::agent_meetings, agent_meeting_key(before->agent_id, before->start_ms, before->id), {}, true});
  b.push_back({table::agent_meetings, agent_meeting_key(m.agent_id, m.start_ms, m.id), {}, false});
  b.push_back({table::meetings, m.id, encode(m), false});
}
void put_invite_delivery(write_batch& b, const invite_delivery& d) {
  b.push_back({table::meeting_outbox, invite_delivery_key(d.meeting_id, d.sequence, d.recipient), encode(d), false});
}
} // namespace writes

} // namespace dynchat::store
