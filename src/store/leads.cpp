#include "dynchat/store/leads.hpp"

#include <cerrno>
#include <algorithm>
#include <cctype>

#include "pack.hpp"

namespace dynchat::store {

using detail::pack;
using detail::unpack;

namespace {

std::string be32(std::uint32_t v) {
  std::string out(4, '\0');
  for (int i = 3; i >= 0; --i, v >>= 8) out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

void put(write_batch& b, table t, std::string key, std::string value) {
  b.push_back(write_op{t, std::move(key), std::move(value), false});
}
void erase(write_batch& b, table t, std::string key) { b.push_back(write_op{t, std::move(key), {}, true}); }

} // namespace

std::map<std::string, std::string> lead_attributes(const lead_record& lead, const lead_schema& schema) {
  std::map<std::string, std::string> out;
  const auto n = std::min(lead.values.size(), schema.fields.size());
  for (std::size_t i = 0; i < n; ++i)
    if (!lead.values[i].empty()) out[schema.fields[i]] = lead.values[i];
  if (!lead.email.empty()) out["email"] = lead.email;
  out["id"] = lead.id;
  return out;
}

std::string encode(const lead_record& r) {
  return pack(r.id, r.email, r.schema, r.values, r.cookies, r.updated_ms, r.synced_ms);
}
std::optional<lead_record> decode_lead(std::string_view bytes) {
  lead_record r;
  if (!unpack(bytes, 7, r.id, r.email, r.schema, r.values, r.cookies, r.updated_ms, r.synced_ms)) return std::nullopt;
  return r;
}
std::string encode(const lead_schema& r) { return pack(r.id, r.fields); }
std::optional<lead_schema> decode_lead_schema(std::string_view bytes) {
  lead_schema r;
  if (!unpack(bytes, 2, r.id, r.fields)) return std::nullopt;
  return r;
}
namespace {
std::string encode(const lead_update& u) { return pack(u.email, u.attribute, u.value, u.ts_ms, u.conversation_id); }
std::optional<lead_update> decode_lead_update(std::string_view bytes) {
  lead_update u;
  if (!unpack(bytes, 5, u.email, u.attribute, u.value, u.ts_ms, u.conversation_id)) return std::nullopt;
  return u;
}
std::string encode(const dead_activity& d) { return pack(encode(d.activity), d.reason, d.failed_ms); }
std::optional<dead_activity> decode_dead_activity(std::string_view bytes) {
  dead_activity d;
  std::string activity;
  if (!unpack(bytes, 3, activity, d.reason, d.failed_ms)) return std::nullopt;
  auto a = decode_activity(activity);
  if (!a) return std::nullopt;
  d.activity = std::move(*a);
  return d;
}
} // namespace

std::string lower_email(std::string_view email) {
  std::string out{email};
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string lead_schema_key(std::uint32_t id) { return be32(id); }

std::string lead_update_key(std::string_view conversation_id, std::string_view attribute) {
  std::string key{conversation_id};
  key += '\0';
  key += attribute;
  return key;
}

std::string activity_pending_key(std::int64_t updated_ms, std::string_view activity_key) {
  return be64(static_cast<std::uint64_t>(std::max<std::int64_t>(0, updated_ms))) + std::string{activity_key};
}

std::optional<lead_record> load_lead(const read_txn& txn, std::string_view id) {
  auto v = txn.get(table::leads, id);
  return v ? decode_lead(*v) : std::nullopt;
}

std::optional<lead_record> find_lead_by_email(const read_txn& txn, std::string_view email) {
  if (email.empty()) return std::nullopt;
  auto id = txn.get(table::lead_emails, lower_email(email));
  return id ? load_lead(txn, *id) : std::nullopt;
}

std::optional<lead_record> find_lead_by_cookie(const read_txn& txn, std::string_view token) {
  if (token.empty()) return std::nullopt;
  auto id = txn.get(table::lead_cookies, token);
  return id ? load_lead(txn, *id) : std::nullopt;
}

std::optional<lead_schema> load_lead_schema(const read_txn& txn, std::uint32_t id) {
  auto v = txn.get(table::lead_schemas, lead_schema_key(id));
  return v ? decode_lead_schema(*v) : std::nullopt;
}

std::optional<lead_schema> latest_lead_schema(const read_txn& txn) {
  std::optional<lead_schema> out;
  txn.scan_prefix_reverse(table::lead_schemas, "", "", [&](std::string_view, std::string_view v) {
    out = decode_lead_schema(v);
    return false;
  });
  return out;
}

std::uint64_t count_leads(const read_txn& txn) { return txn.entries(table::leads); }

std::vector<std::pair<std::string, lead_update>> load_lead_updates(const read_txn& txn, std::size_t limit) {
  std::vector<std::pair<std::string, lead_update>> out;
  txn.scan_prefix(table::lead_updates, "", "", [&](std::string_view key, std::string_view value) {
    if (auto u = decode_lead_update(value)) out.emplace_back(std::string{key}, std::move(*u));
    return out.size() < limit;
  });
  return out;
}

std::vector<std::pair<std::string, std::string>> load_pending_activities(const read_txn& txn, std::int64_t before_ms,
                                                                         std::size_t limit) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto stop = be64(static_cast<std::uint64_t>(std::max<std::int64_t>(0, before_ms)));
  txn.scan_prefix(table::activity_pending, "", "", [&](std::string_view key, std::string_view) {
    if (key.size() < 8 || key.substr(0, 8) >= stop) return false;
    out.emplace_back(std::string{key}, std::string{key.substr(8)});
    return out.size() < limit;
  });
  return out;
}

std::optional<activity_record> load_activity(const read_txn& txn, std::string_view activity_key) {
  auto v = txn.get(table::activities, activity_key);
  return v ? decode_activity(*v) : std::nullopt;
}

std::uint64_t count_pending_activities(const read_txn& txn) { return txn.entries(table::activity_pending); }

std::vector<dead_activity> load_dead_activities(const read_txn& txn, std::string_view after, std::size_t limit) {
  std::vector<dead_activity> out;
  std::string from{after};
  if (!from.empty()) from.push_back('\0'); // the first key after `after`
  txn.scan_prefix(table::activity_dead, "", from, [&](std::string_view key, std::string_view value) {
    if (auto d = decode_dead_activity(value)) {
      d->key = std::string{key};
      out.push_back(std::move(*d));
    }
    return out.size() < limit;
  });
  return out;
}

namespace writes {

void put_lead(write_batch& b, const lead_record& lead, const lead_record* before) {
  if (before) {
    if (!before->email.empty() && lower_email(before->email) != lower_email(lead.email))
      erase(b, table::lead_emails, lower_email(before->email));
    for (const auto& c : before->cookies)
      if (std::find(lead.cookies.begin(), lead.cookies.end(), c) == lead.cookies.end()) erase(b, table::lead_cookies, c);
  }
  put(b, table::leads, lead.id, encode(lead));
  if (!lead.email.empty() && (!before || lower_email(before->email) != lower_email(lead.email)))
    put(b, table::lead_emails, lower_email(lead.email), lead.id);
  for (const auto& c : lead.cookies)
    if (!before || std::find(before->cookies.begin(), before->cookies.end(), c) == before->cookies.end())
      put(b, table::lead_cookies, c, lead.id);
}

void merge_lead(write_batch& b, const lead_record& lead) {
  b.push_back(write_op{table::leads, lead.id, encode(lead), false, true});
}

void apply_lead_merge(write_txn& txn, std::string_view encoded) {
  auto fresh = decode_lead(encoded);
  if (!fresh) throw store_error("a lead to merge does not decode", EINVAL);
  auto before = load_lead(txn, fresh->id);
  if (!before) { // a new lead (every lead of a first sync): its bytes as they came
    txn.put(table::leads, fresh->id, encoded);
    if (!fresh->email.empty()) txn.put(table::lead_emails, lower_email(fresh->email), fresh->id);
    for (const auto& c : fresh->cookies) txn.put(table::lead_cookies, c, fresh->id);
    return;
  }
  for (const auto& c : before->cookies)
    if (std::find(fresh->cookies.begin(), fresh->cookies.end(), c) == fresh->cookies.end()) fresh->cookies.push_back(c);
  if (fresh->email.empty()) fresh->email = before->email;
  write_batch ops;
  put_lead(ops, *fresh, &*before);
  for (const auto& op : ops) {
    if (op.erase) txn.erase(op.target, op.key);
    else txn.put(op.target, op.key, op.value);
  }
}

void put_lead_schema(write_batch& b, const lead_schema& s) { put(b, table::lead_schemas, lead_schema_key(s.id), encode(s)); }

lead_schema schema_for(const std::optional<lead_schema>& latest, const std::vector<std::string>& fields, write_batch& b) {
  if (latest && latest->fields == fields) return *latest;
  lead_schema next{latest ? latest->id + 1 : 1, fields};
  put_lead_schema(b, next);
  return next;
}

void put_lead_update(write_batch& b, const lead_update& u) {
  put(b, table::lead_updates, lead_update_key(u.conversation_id, u.attribute), encode(u));
}
void erase_lead_update(write_batch& b, std::string_view key) { erase(b, table::lead_updates, std::string{key}); }
void erase_pending_activity(write_batch& b, std::string_view pending_key) {
  erase(b, table::activity_pending, std::string{pending_key});
}
void put_dead_activity(write_batch& b, std::string_view activity_key, const dead_activity& d) {
  put(b, table::activity_dead, std::string{activity_key}, encode(d));
}
void erase_dead_activity(write_batch& b, std::string_view activity_key) {
  erase(b, table::activity_dead, std::string{activity_key});
}

} // namespace writes
} // namespace dynchat::store
