#pragma once
// Key layouts and typed reads over the tables. Keys are fixed-width ids followed by
// big-endian integers, so a prefix scan walks one conversation in seq order.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dynchat/store/lmdb.hpp"
#include "dynchat/store/records.hpp"

namespace dynchat::store {

/// A write to apply inside the writer's transaction.
struct write_op {
  table target = table::meta;
  std::string key;
  std::string value;
  bool erase = false;
  bool merge_lead = false; // value is a lead: merged over the stored copy inside the commit (writes::merge_lead)
};
using write_batch = std::vector<write_op>;

std::string be64(std::uint64_t v);
std::uint64_t from_be64(std::string_view bytes);

std::string message_key(std::string_view conversation_id, std::uint64_t seq);
std::string client_id_key(std::string_view conversation_id, std::string_view sender, std::string_view client_msg_id);
std::string agent_chat_key(std::string_view agent_id, std::string_view conversation_id);
/// The line sorts by request time, then by id (ids sort by creation).
std::string waiting_key(std::int64_t requested_ms, std::string_view conversation_id);

std::string dialogue_version_key(std::string_view dialogue_id, std::uint32_t version);
std::string visitor_dialogue_key(std::string_view visitor_id, std::string_view dialogue_id);
std::string dialogue_visit_key(std::string_view dialogue_id, std::int64_t triggered_ms, std::string_view conversation_id);
/// The dialogues this visitor has met, each once.
std::vector<dialogue_visit> load_visitor_dialogues(const read_txn& txn, std::string_view visitor_id);
/// A dialogue's visits triggered in [from_ms, to_ms), in trigger order; `fn` false stops.
void scan_dialogue_visits(const read_txn& txn, std::string_view dialogue_id, std::int64_t from_ms, std::int64_t to_ms,
                          const std::function<bool(const dialogue_visit&)>& fn);
std::string live_chat_key(std::int64_t requested_ms, std::string_view conversation_id);
std::optional<live_chat_visit> load_live_chat(const read_txn& txn, std::int64_t requested_ms, std::string_view conversation_id);
/// Requests for an agent made in [from_ms, to_ms), in request order; `fn` false stops.
void scan_live_chats(const read_txn& txn, std::int64_t from_ms, std::int64_t to_ms,
                     const std::function<bool(const live_chat_visit&)>& fn);
std::string activity_key(std::string_view conversation_id, std::string_view kind, std::string_view name);
/// A conversation's activities, in key order.
std::vector<activity_record> load_activities(const read_txn& txn, std::string_view conversation_id);
std::optional<dialogue_record> load_dialogue(const read_txn& txn, std::string_view id);
std::vector<dialogue_record> load_dialogues(const read_txn& txn);
/// A published version's definition JSON; nullopt when there is no such version.
std::optional<std::string> load_dialogue_version(const read_txn& txn, std::string_view id, std::uint32_t version);

std::optional<conversation_record> load_conversation(const read_txn& txn, std::string_view id);
std::optional<agent_record> load_agent(const read_txn& txn, std::string_view id);
std::optional<std::string> find_agent_by_token_hash(const read_txn& txn, std::string_view token_hash);
std::optional<std::string> find_conversation_by_resume_hash(const read_txn& txn, std::string_view token_hash);
std::optional<std::uint64_t> find_client_msg(const read_txn& txn, std::string_view conversation_id,
                                             std::string_view sender, std::string_view client_msg_id);
/// Every (sender, client_msg_id) stored for a conversation: what its dedup filter starts from.
std::vector<std::pair<std::string, std::string>> load_client_msg_ids(const read_txn& txn, std::string_view conversation_id);
/// Highest stored seq of a conversation, 0 when it has no messages.
std::uint64_t last_seq(const read_txn& txn, std::string_view conversation_id);
/// Messages with seq > after, in order, at most limit.
std::vector<std::pair<std::uint64_t, message_record>>
load_messages(const read_txn& txn, std::string_view conversation_id, std::uint64_t after, std::size_t limit);

/// A page of a conversation's messages, in seq order, cut at a message count and a size
/// (at least one message when any is there, so paging always moves on). A message's size
/// is what `cost` says (the bytes it will take on the wire), else its stored size.
struct message_page {
  std::vector<std::pair<std::uint64_t, message_record>> messages;
  bool more = false; // more messages lie beyond the page, in the direction it was read
};
using message_cost = std::function<std::size_t(const message_record&)>;
/// The messages after `after`.
message_page load_page_after(const read_txn& txn, std::string_view conversation_id, std::uint64_t after,
                             std::size_t max_messages, std::size_t max_bytes, const message_cost& cost = {});
/// The messages before `before` (0: the newest), in seq order; `more`: older ones exist.
message_page load_page_before(const read_txn& txn, std::string_view conversation_id, std::uint64_t before,
                              std::size_t max_messages, std::size_t max_bytes, const message_cost& cost = {});
std::vector<agent_record> load_agents(const read_txn& txn);
std::vector<std::string> load_agent_chats(const read_txn& txn, std::string_view agent_id);
std::optional<std::string> load_meta(const read_txn& txn, std::string_view key);
std::optional<api_token_record> find_api_token_by_hash(const read_txn& txn, std::string_view token_hash);
std::optional<api_token_record> load_api_token(const read_txn& txn, std::string_view id);
std::vector<api_token_record> load_api_tokens(const read_txn& txn);

struct waiting_entry {
  std::int64_t requested_ms;
  std::string conversation_id;
};
/// The conversations waiting for an agent, oldest request first.
std::vector<waiting_entry> load_waiting(const read_txn& txn);
/// Ids of the conversations that were waiting or live.
std::vector<std::string> load_open_conversations(const read_txn& txn);

} // namespace dynchat::store
