#include "dynchat/store/writes.hpp"

#include "dynchat/store/leads.hpp"

namespace dynchat::store::writes {
namespace {

void put(write_batch& b, table t, std::string key, std::string value) {
  b.push_back({t, std::move(key), std::move(value), false});
}
void erase(write_batch& b, table t, std::string key) { b.push_back({t, std::move(key), {}, true}); }
void put_or_erase(write_batch& b, table t, std::string key, bool present) {
  b.push_back({t, std::move(key), {}, !present});
}

} // namespace

void put_message(write_batch& b, std::string_view conversation_id, std::uint64_t seq, const message_record& m,
                 std::string_view sender) {
  put(b, table::messages, message_key(conversation_id, seq), encode(m));
  if (!sender.empty() && !m.client_msg_id.empty())
    put(b, table::client_ids, client_id_key(conversation_id, sender, m.client_msg_id), be64(seq));
}

void put_conversation(write_batch& b, const conversation_record& c) { put(b, table::conversations, c.id, encode(c)); }

void put_conversation_keys(write_batch& b, std::string_view conversation_id, std::string_view resume_token_hash,
                           const visitor_record& v) {
  put(b, table::resume_tokens, std::string{resume_token_hash}, std::string{conversation_id});
  put(b, table::visitors, v.id, encode(v));
}

void set_open(write_batch& b, std::string_view conversation_id, bool open) {
  put_or_erase(b, table::open_conversations, std::string{conversation_id}, open);
}

void set_waiting(write_batch& b, std::int64_t requested_ms, std::string_view conversation_id, bool waiting) {
  put_or_erase(b, table::waiting, waiting_key(requested_ms, conversation_id), waiting);
}

void set_agent_chat(write_batch& b, std::string_view agent_id, std::string_view conversation_id, bool held) {
  put_or_erase(b, table::agent_chats, agent_chat_key(agent_id, conversation_id), held);
}

void put_agent(write_batch& b, const agent_record& a) {
  put(b, table::agents, a.id, encode(a));
  put(b, table::agent_tokens, a.token_hash, a.id);
}

void update_agent(write_batch& b, const agent_record& a) { put(b, table::agents, a.id, encode(a)); }

void put_dialogue_visit(write_batch& b, const dialogue_visit& v) {
  auto bytes = encode(v);
  put(b, table::visitor_dialogues, visitor_dialogue_key(v.visitor_id, v.dialogue_id), bytes);
  put(b, table::dialogue_visits, dialogue_visit_key(v.dialogue_id, v.triggered_ms, v.conversation_id), std::move(bytes));
}

void put_flow_run(write_batch& b, const dialogue_visit& v) {
  put(b, table::dialogue_visits, dialogue_visit_key(v.dialogue_id, v.triggered_ms, v.conversation_id), encode(v));
}

void put_live_chat(write_batch& b, const live_chat_visit& v) {
  put(b, table::live_chats, live_chat_key(v.requested_ms, v.conversation_id), encode(v));
}

void put_activity(write_batch& b, const activity_record& a) {
  auto key = activity_key(a.conversation_id, a.kind, a.name);
  // Each version of the row waits in the outbox until Marketo has it (docs/marketo.md).
  put(b, table::activity_pending, activity_pending_key(a.updated_ms ? a.updated_ms : a.ts_ms, key), "");
  put(b, table::activities, std::move(key), encode(a));
}

void put_dialogue(write_batch& b, const dialogue_record& d) { put(b, table::dialogues, d.id, encode(d)); }

void put_dialogue_version(write_batch& b, std::string_view dialogue_id, std::uint32_t version, std::string definition_json) {
  put(b, table::dialogue_versions, dialogue_version_key(dialogue_id, version), std::move(definition_json));
}

void erase_dialogue(write_batch& b, std::string_view dialogue_id) { erase(b, table::dialogues, std::string{dialogue_id}); }

void erase_agent(write_batch& b, const agent_record& a) {
  erase(b, table::agents, a.id);
  erase(b, table::agent_tokens, a.token_hash);
}

void put_api_token(write_batch& b, const api_token_record& t) {
  put(b, table::api_tokens, t.token_hash, encode(t));
  put(b, table::api_token_ids, t.id, t.token_hash);
}

void erase_api_token(write_batch& b, const api_token_record& t) {
  erase(b, table::api_tokens, t.token_hash);
  erase(b, table::api_token_ids, t.id);
}

void put_meta(write_batch& b, std::string_view key, std::string_view value) {
  put(b, table::meta, std::string{key}, std::string{value});
}

void apply(write_txn& txn, const write_batch& b) {
  for (const auto& op : b) {
    if (op.merge_lead) apply_lead_merge(txn, op.value);
    else if (op.erase) txn.erase(op.target, op.key);
    else txn.put(op.target, op.key, op.value);
  }
}

} // namespace dynchat::store::writes
