#include "dynchat/store/tables.hpp"

#include <algorithm>

namespace dynchat::store {

std::string be64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
  return out;
}

std::uint64_t from_be64(std::string_view bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < bytes.size(); ++i) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

std::string message_key(std::string_view conversation_id, std::uint64_t seq) {
  std::string key{conversation_id};
  key += be64(seq);
  return key;
}

std::string client_id_key(std::string_view conversation_id, std::string_view sender, std::string_view client_msg_id) {
  std::string key{conversation_id};
  key += sender;
  key += '\0';
  key += client_msg_id;
  return key;
}

std::string agent_chat_key(std::string_view agent_id, std::string_view conversation_id) {
  std::string key{agent_id};
  key += conversation_id;
  return key;
}

std::string waiting_key(std::int64_t requested_ms, std::string_view conversation_id) {
  // Request times are never negative; the sign bit is cleared so keys sort as numbers.
  std::string key = be64(static_cast<std::uint64_t>(requested_ms < 0 ? 0 : requested_ms));
  key += conversation_id;
  return key;
}

std::optional<conversation_record> load_conversation(const read_txn& txn, std::string_view id) {
  auto v = txn.get(table::conversations, id);
  return v ? decode_conversation(*v) : std::nullopt;
}

std::optional<agent_record> load_agent(const read_txn& txn, std::string_view id) {
  auto v = txn.get(table::agents, id);
  return v ? decode_agent(*v) : std::nullopt;
}

std::optional<std::string> find_agent_by_token_hash(const read_txn& txn, std::string_view token_hash) {
  auto v = txn.get(table::agent_tokens, token_hash);
  return v ? std::optional<std::string>{std::string{*v}} : std::nullopt;
}

std::string dialogue_version_key(std::string_view dialogue_id, std::uint32_t version) {
  return std::string{dialogue_id} + be64(version);
}

std::optional<dialogue_record> load_dialogue(const read_txn& txn, std::string_view id) {
  auto v = txn.get(table::dialogues, id);
  return v ? decode_dialogue(*v) : std::nullopt;
}

std::vector<dialogue_record> load_dialogues(const read_txn& txn) {
  std::vector<dialogue_record> out;
  txn.scan_prefix(table::dialogues, "", "", [&](std::string_view, std::string_view value) {
    if (auto d = decode_dialogue(value)) out.push_back(std::move(*d));
    return true;
  });
  return out;
}

std::string visitor_dialogue_key(std::string_view visitor_id, std::string_view dialogue_id) {
  return std::string{visitor_id} + std::string{dialogue_id};
}

std::string dialogue_visit_key(std::string_view dialogue_id, std::int64_t triggered_ms, std::string_view conversation_id) {
  return std::string{dialogue_id} + be64(static_cast<std::uint64_t>(std::max<std::int64_t>(0, triggered_ms))) +
         std::string{conversation_id};
}

std::string live_chat_key(std::int64_t requested_ms, std::string_view conversation_id) {
  return be64(static_cast<std::uint64_t>(std::max<std::int64_t>(0, requested_ms))) + std::string{conversation_id};
}

std::optional<live_chat_visit> load_live_chat(const read_txn& txn, std::int64_t requested_ms, std::string_view conversation_id) {
  auto v = txn.get(table::live_chats, live_chat_key(requested_ms, conversation_id));
  return v ? decode_live_chat(*v) : std::nullopt;
}

void scan_live_chats(const read_txn& txn, std::int64_t from_ms, std::int64_t to_ms,
                     const std::function<bool(const live_chat_visit&)>& fn) {
  txn.scan_prefix(table::live_chats, "", be64(static_cast<std::uint64_t>(std::max<std::int64_t>(0, from_ms))),
                  [&](std::string_view, std::string_view value) {
                    auto v = decode_live_chat(value);
                    if (!v) return true;
                    if (v->requested_ms >= to_ms) return false;
                    return fn(*v);
                  });
}

std::string activity_key(std::string_view conversation_id, std::string_view kind, std::string_view name) {
  std::string key{conversation_id};
  key += kind;
  key += '\0';
  key += name;
  return key;
}

std::vector<activity_record> load_activities(const read_txn& txn, std::string_view conversation_id) {
  std::vector<activity_record> out;
  txn.scan_prefix(table::activities, conversation_id, conversation_id, [&](std::string_view, std::string_view value) {
    if (auto a = decode_activity(value)) out.push_back(std::move(*a));
    return true;
  });
  return out;
}

std::vector<dialogue_visit> load_visitor_dialogues(const read_txn& txn, std::string_view visitor_id) {
  std::vector<dialogue_visit> out;
  if (visitor_id.empty()) return out;
  txn.scan_prefix(table::visitor_dialogues, visitor_id, visitor_id, [&](std::string_view, std::string_view value) {
    if (auto v = decode_dialogue_visit(value)) out.push_back(std::move(*v));
    return true;
  });
  return out;
}

void scan_dialogue_visits(const read_txn& txn, std::string_view dialogue_id, std::int64_t from_ms, std::int64_t to_ms,
                          const std::function<bool(const dialogue_visit&)>& fn) {
  const auto from = std::string{dialogue_id} + be64(static_cast<std::uint64_t>(std::max<std::int64_t>(0, from_ms)));
  txn.scan_prefix(table::dialogue_visits, dialogue_id, from, [&](std::string_view, std::string_view value) {
    auto v = decode_dialogue_visit(value);
    if (!v) return true;
    if (v->triggered_ms >= to_ms) return false;
    return fn(*v);
  });
}

std::optional<std::string> load_dialogue_version(const read_txn& txn, std::string_view id, std::uint32_t version) {
  auto v = txn.get(table::dialogue_versions, dialogue_version_key(id, version));
  return v ? std::optional<std::string>{std::string{*v}} : std::nullopt;
}

std::optional<api_token_record> find_api_token_by_hash(const read_txn& txn, std::string_view token_hash) {
  auto v = txn.get(table::api_tokens, token_hash);
  return v ? decode_api_token(*v) : std::nullopt;
}

std::optional<api_token_record> load_api_token(const read_txn& txn, std::string_view id) {
  auto hash = txn.get(table::api_token_ids, id);
  return hash ? find_api_token_by_hash(txn, *hash) : std::nullopt;
}

std::vector<api_token_record> load_api_tokens(const read_txn& txn) {
  std::vector<api_token_record> out;
  txn.scan_prefix(table::api_token_ids, "", "", [&](std::string_view, std::string_view hash) {
    if (auto t = find_api_token_by_hash(txn, hash)) out.push_back(std::move(*t));
    return true;
  });
  return out;
}

std::optional<std::string> find_conversation_by_resume_hash(const read_txn& txn, std::string_view token_hash) {
  auto v = txn.get(table::resume_tokens, token_hash);
  return v ? std::optional<std::string>{std::string{*v}} : std::nullopt;
}

std::optional<std::uint64_t> find_client_msg(const read_txn& txn, std::string_view conversation_id,
                                             std::string_view sender, std::string_view client_msg_id) {
  auto v = txn.get(table::client_ids, client_id_key(conversation_id, sender, client_msg_id));
  return v ? std::optional<std::uint64_t>{from_be64(*v)} : std::nullopt;
}

std::vector<std::pair<std::string, std::string>> load_client_msg_ids(const read_txn& txn, std::string_view conversation_id) {
  std::vector<std::pair<std::string, std::string>> out;
  txn.scan_prefix(table::client_ids, conversation_id, conversation_id, [&](std::string_view key, std::string_view) {
    auto rest = key.substr(conversation_id.size()); // sender '\0' client_msg_id
    auto nul = rest.find('\0');
    if (nul != std::string_view::npos) out.emplace_back(std::string{rest.substr(0, nul)}, std::string{rest.substr(nul + 1)});
    return true;
  });
  return out;
}

std::uint64_t last_seq(const read_txn& txn, std::string_view conversation_id) {
  std::uint64_t seq = 0;
  txn.scan_prefix_reverse(table::messages, conversation_id, message_key(conversation_id, ~0ull),
                          [&](std::string_view key, std::string_view) {
                            seq = from_be64(key.substr(conversation_id.size()));
                            return false;
                          });
  return seq;
}

std::vector<std::pair<std::uint64_t, message_record>>
load_messages(const read_txn& txn, std::string_view conversation_id, std::uint64_t after, std::size_t limit) {
  std::vector<std::pair<std::uint64_t, message_record>> out;
  if (limit == 0) return out;
  txn.scan_prefix(table::messages, conversation_id, message_key(conversation_id, after + 1),
                  [&](std::string_view key, std::string_view value) {
                    if (auto m = decode_message(value))
                      out.emplace_back(from_be64(key.substr(conversation_id.size())), std::move(*m));
                    return out.size() < limit;
                  });
  return out;
}

namespace {

// Reads one page in the scan's direction; the caller puts it in seq order.
template <class Scan>
message_page read_page(std::string_view conversation_id, std::size_t max_messages, std::size_t max_bytes,
                       const message_cost& cost, Scan scan) {
  message_page page;
  std::size_t bytes = 0;
  scan([&](std::string_view key, std::string_view value) {
    auto m = decode_message(value);
    if (!m) return true;
    const auto size = cost ? cost(*m) : value.size();
    if (!page.messages.empty() && (page.messages.size() >= max_messages || bytes + size > max_bytes)) {
      page.more = true;
      return false;
    }
    bytes += size;
    page.messages.emplace_back(from_be64(key.substr(conversation_id.size())), std::move(*m));
    return true;
  });
  return page;
}

} // namespace

message_page load_page_after(const read_txn& txn, std::string_view conversation_id, std::uint64_t after,
                             std::size_t max_messages, std::size_t max_bytes, const message_cost& cost) {
  return read_page(conversation_id, max_messages, max_bytes, cost, [&](const scan_fn& fn) {
    txn.scan_prefix(table::messages, conversation_id, message_key(conversation_id, after + 1), fn);
  });
}

message_page load_page_before(const read_txn& txn, std::string_view conversation_id, std::uint64_t before,
                              std::size_t max_messages, std::size_t max_bytes, const message_cost& cost) {
  auto page = read_page(conversation_id, max_messages, max_bytes, cost, [&](const scan_fn& fn) {
    txn.scan_prefix_reverse(table::messages, conversation_id, message_key(conversation_id, before == 0 ? ~0ull : before),
                            fn);
  });
  std::reverse(page.messages.begin(), page.messages.end());
  return page;
}

std::vector<agent_record> load_agents(const read_txn& txn) {
  std::vector<agent_record> out;
  txn.scan_prefix(table::agents, "", "", [&](std::string_view, std::string_view value) {
    if (auto a = decode_agent(value)) out.push_back(std::move(*a));
    return true;
  });
  return out;
}

std::vector<std::string> load_agent_chats(const read_txn& txn, std::string_view agent_id) {
  std::vector<std::string> out;
  txn.scan_prefix(table::agent_chats, agent_id, "", [&](std::string_view key, std::string_view) {
    out.emplace_back(key.substr(agent_id.size()));
    return true;
  });
  return out;
}

std::optional<std::string> load_meta(const read_txn& txn, std::string_view key) {
  auto v = txn.get(table::meta, key);
  return v ? std::optional<std::string>{std::string{*v}} : std::nullopt;
}

std::vector<waiting_entry> load_waiting(const read_txn& txn) {
  std::vector<waiting_entry> out;
  txn.scan_prefix(table::waiting, "", "", [&](std::string_view key, std::string_view) {
    if (key.size() > 8)
      out.push_back({static_cast<std::int64_t>(from_be64(key.substr(0, 8))), std::string{key.substr(8)}});
    return true;
  });
  return out;
}

std::vector<std::string> load_open_conversations(const read_txn& txn) {
  std::vector<std::string> out;
  txn.scan_prefix(table::open_conversations, "", "", [&](std::string_view key, std::string_view) {
    out.emplace_back(key);
    return true;
  });
  return out;
}

} // namespace dynchat::store
