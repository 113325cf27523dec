#pragma once
// Every row dynchat writes, as one operation per table: actors build batches from these
// and never name a table or a key themselves. A row that has an index gets it in the
// same call, so the two never drift apart.
#include <cstdint>
#include <string>
#include <string_view>

#include "dynchat/store/records.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat::store::writes {

/// A message at its seq, with the (sender, client_msg_id) → seq row that dedups it
/// when the sender gave an id.
void put_message(write_batch& b, std::string_view conversation_id, std::uint64_t seq, const message_record& m,
                 std::string_view sender);
void put_conversation(write_batch& b, const conversation_record& c);
/// What finds a new conversation again: its resume token's hash and its visitor. The
/// record itself is the session's first put_conversation, in the same batch.
void put_conversation_keys(write_batch& b, std::string_view conversation_id, std::string_view resume_token_hash,
                           const visitor_record& v);
/// Whether a restart must look at the conversation (waiting or live).
void set_open(write_batch& b, std::string_view conversation_id, bool open);
/// Its place in the line of conversations waiting for an agent.
void set_waiting(write_batch& b, std::int64_t requested_ms, std::string_view conversation_id, bool waiting);
/// An agent holds the conversation.
void set_agent_chat(write_batch& b, std::string_view agent_id, std::string_view conversation_id, bool held);
/// An agent with its login-token index.
void put_agent(write_batch& b, const agent_record& a);
/// An agent whose token is unchanged: the record only.
void update_agent(write_batch& b, const agent_record& a);
void erase_agent(write_batch& b, const agent_record& a);
/// A visitor's meeting with a dialogue: its row in both the visitor's and the report's index.
void put_dialogue_visit(write_batch& b, const dialogue_visit& v);
/// A conversational flow's run: for the reports only (a flow may run any number of times,
/// so it is no part of what the visitor met).
void put_flow_run(write_batch& b, const dialogue_visit& v);
/// A request for an agent, as it stands.
void put_live_chat(write_batch& b, const live_chat_visit& v);
/// An activity for the Marketo outbox (its row is rewritten by kind and name).
void put_activity(write_batch& b, const activity_record& a);
/// A dialogue's record (its draft and status).
void put_dialogue(write_batch& b, const dialogue_record& d);
/// A published version: written once, never changed (conversations stay pinned to it).
void put_dialogue_version(write_batch& b, std::string_view dialogue_id, std::uint32_t version, std::string definition_json);
/// The record only: its published versions stay for the conversations pinned to them.
void erase_dialogue(write_batch& b, std::string_view dialogue_id);
/// An API token with its id index; erase takes both away.
void put_api_token(write_batch& b, const api_token_record& t);
void erase_api_token(write_batch& b, const api_token_record& t);
void put_meta(write_batch& b, std::string_view key, std::string_view value);

/// Carries out a batch inside a write transaction (the store writer's, or start-up's).
void apply(write_txn& txn, const write_batch& b);

} // namespace dynchat::store::writes
