#pragma once
// The rows of the Marketo sync (docs/marketo.md): leads as synced, found by id, by email
// and by Munchkin cookie; the attributes captured in chat waiting to be written back;
// and the activity outbox's pending list and dead letters.
//
// A lead stores its values by position against a schema (the selected fields in the
// order of the export that brought it): 50 field names repeated in a million rows would
// double the file.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dynchat/store/lmdb.hpp"
#include "dynchat/store/records.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat::store {

struct lead_schema {
  std::uint32_t id = 0;
  std::vector<std::string> fields;
};

struct lead_record {
  std::string id;                   // Marketo's lead id
  std::string email;                // as Marketo has it
  std::uint32_t schema = 0;
  std::vector<std::string> values;  // by the schema's fields; "" when empty
  std::vector<std::string> cookies; // Munchkin cookie tokens (_mch-…) known for it
  std::int64_t updated_ms = 0;      // Marketo's updatedAt
  std::int64_t synced_ms = 0;       // when this copy was written here
  bool operator==(const lead_record&) const = default;
};

/// Every non-empty field by name, plus `email` and `id` (Marketo's).
std::map<std::string, std::string> lead_attributes(const lead_record& lead, const lead_schema& schema);

/// An attribute a visitor gave in chat, for the lead with that email in Marketo.
struct lead_update {
  std::string email;
  std::string attribute;
  std::string value;
  std::int64_t ts_ms = 0;
  std::string conversation_id;
  bool operator==(const lead_update&) const = default;
};

/// An activity Marketo refused (or that names no lead it has), with its reason.
struct dead_activity {
  activity_record activity;
  std::string reason;
  std::int64_t failed_ms = 0;
  std::string key; // the activity's outbox key (not stored: filled when read)
};

std::string encode(const lead_record& r);
std::optional<lead_record> decode_lead(std::string_view bytes);
std::string encode(const lead_schema& r);
std::optional<lead_schema> decode_lead_schema(std::string_view bytes);

std::string lower_email(std::string_view email);
std::string lead_schema_key(std::uint32_t id);
std::string lead_update_key(std::string_view conversation_id, std::string_view attribute);
std::string activity_pending_key(std::int64_t updated_ms, std::string_view activity_key);

std::optional<lead_record> load_lead(const read_txn& txn, std::string_view id);
std::optional<lead_record> find_lead_by_email(const read_txn& txn, std::string_view email);
std::optional<lead_record> find_lead_by_cookie(const read_txn& txn, std::string_view token);
std::optional<lead_schema> load_lead_schema(const read_txn& txn, std::uint32_t id);
/// The newest schema, or nullopt when none was ever stored.
std::optional<lead_schema> latest_lead_schema(const read_txn& txn);
std::uint64_t count_leads(const read_txn& txn);

/// Lead updates in key order (by conversation), at most `limit`.
std::vector<std::pair<std::string, lead_update>> load_lead_updates(const read_txn& txn, std::size_t limit);
/// Pending activities updated before `before_ms`, oldest first, at most `limit`: (pending key, activity key).
std::vector<std::pair<std::string, std::string>> load_pending_activities(const read_txn& txn, std::int64_t before_ms,
                                                                         std::size_t limit);
std::optional<activity_record> load_activity(const read_txn& txn, std::string_view activity_key);
std::uint64_t count_pending_activities(const read_txn& txn);
/// Dead letters in key order, from `after` (exclusive), at most `limit`.
std::vector<dead_activity> load_dead_activities(const read_txn& txn, std::string_view after, std::size_t limit);

namespace writes {
/// The lead and its email and cookie indexes; `before` (the stored copy, if any) lets an
/// index that no longer applies go.
void put_lead(write_batch& b, const lead_record& lead, const lead_record* before);
/// The lead, merged inside the commit over the copy stored then: its fields replace the
/// stored ones, its cookies join them, an empty email keeps the stored one, and the
/// indexes move. A sync batch parsed ahead, and a look-up's write that commits before
/// it, thus never undo each other.
void merge_lead(write_batch& b, const lead_record& lead);
/// Applies one merge_lead op to `txn` (store::writes::apply calls it).
void apply_lead_merge(write_txn& txn, std::string_view encoded);
void put_lead_schema(write_batch& b, const lead_schema& s);
/// The schema for leads of these fields: `latest` when it has them, else the next one,
/// whose row is added to `b`.
lead_schema schema_for(const std::optional<lead_schema>& latest, const std::vector<std::string>& fields, write_batch& b);
void put_lead_update(write_batch& b, const lead_update& u);
void erase_lead_update(write_batch& b, std::string_view key);
void erase_pending_activity(write_batch& b, std::string_view pending_key);
void put_dead_activity(write_batch& b, std::string_view activity_key, const dead_activity& d);
void erase_dead_activity(write_batch& b, std::string_view activity_key);
} // namespace writes

} // namespace dynchat::store
