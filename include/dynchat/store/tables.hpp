#pragma once
// Key layouts and typed reads over the tables. Keys are fixed-width ids followed by
// big-endian integers, so a prefix scan walks one conversation in seq order.
#include <cstdint>
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
};
using write_batch = std::vector<write_op>;

std::string be64(std::uint64_t v);
std::uint64_t from_be64(std::string_view bytes);

std::string message_key(std::string_view conversation_id, std::uint64_t seq);
std::string client_id_key(std::string_view conversation_id, std::string_view sender, std::string_view client_msg_id);
std::string agent_chat_key(std::string_view agent_id, std::string_view conversation_id);

std::optional<conversation_record> load_conversation(const read_txn& txn, std::string_view id);
std::optional<agent_record> load_agent(const read_txn& txn, std::string_view id);
std::optional<std::string> find_agent_by_token_hash(const read_txn& txn, std::string_view token_hash);
std::optional<std::string> find_conversation_by_resume_hash(const read_txn& txn, std::string_view token_hash);
std::optional<std::uint64_t> find_client_msg(const read_txn& txn, std::string_view conversation_id,
                                             std::string_view sender, std::string_view client_msg_id);
/// Highest stored seq of a conversation, 0 when it has no messages.
std::uint64_t last_seq(const read_txn& txn, std::string_view conversation_id);
/// Messages with seq > after, in order, at most limit.
std::vector<std::pair<std::uint64_t, message_record>>
load_messages(const read_txn& txn, std::string_view conversation_id, std::uint64_t after, std::size_t limit);
std::vector<agent_record> load_agents(const read_txn& txn);
std::vector<std::string> load_agent_chats(const read_txn& txn, std::string_view agent_id);
std::optional<std::string> load_meta(const read_txn& txn, std::string_view key);

} // namespace dynchat::store
