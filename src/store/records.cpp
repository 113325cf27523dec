#include "dynchat/store/records.hpp"

#include <algorithm>

#include "pack.hpp"

namespace dynchat::store {

using detail::pack;
using detail::unpack;

std::string_view to_string(conversation_phase p) noexcept {
  switch (p) {
    case conversation_phase::bot: return "bot";
    case conversation_phase::waiting: return "waiting";
    case conversation_phase::live: return "live";
    case conversation_phase::ended: return "ended";
  }
  return "ended";
}

std::optional<conversation_phase> phase_from_string(std::string_view s) noexcept {
  for (auto p : {conversation_phase::bot, conversation_phase::waiting, conversation_phase::live, conversation_phase::ended})
    if (to_string(p) == s) return p;
  return std::nullopt;
}

void assign_agent(conversation_record& c, std::string_view agent_id) {
  // A record from before held_by names only its latest agent: that one is kept, first.
  if (c.held_by.empty() && !c.agent_id.empty()) c.held_by.push_back(c.agent_id);
  if (std::find(c.held_by.begin(), c.held_by.end(), agent_id) == c.held_by.end()) c.held_by.emplace_back(agent_id);
  c.agent_id = agent_id;
}

bool was_held_by(const conversation_record& c, std::string_view agent_id) {
  if (agent_id.empty()) return false;
  return c.agent_id == agent_id || std::find(c.held_by.begin(), c.held_by.end(), agent_id) != c.held_by.end();
}

std::string encode(const conversation_record& r) {
  return pack(r.id, r.visitor_id, static_cast<std::uint8_t>(r.phase), r.agent_id, r.created_ms, r.updated_ms,
              r.requested_ms, r.ended_ms, r.end_reason, r.page_url, r.referrer, r.email, r.visitor_left_ms,
              r.queue_notice, r.flow_cursor, r.held_by, r.score);
}
std::string encode(const message_record& r) {
  // Chat lines, nearly every message, carry no prompt and store none of its fields.
  if (r.prompt.empty()) return pack(r.from, r.text, r.ts_ms, r.client_msg_id, r.agent_id, r.agent_name);
  std::vector<std::pair<std::string, std::string>> options;
  for (const auto& o : r.prompt.options) options.emplace_back(o.label, o.value);
  std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> slots;
  for (const auto& s : r.prompt.slots) slots.emplace_back(s.id, s.start_ms, s.end_ms);
  return pack(r.from, r.text, r.ts_ms, r.client_msg_id, r.agent_id, r.agent_name, options, r.prompt.input,
              r.prompt.placeholder, r.prompt.link, slots, r.prompt.slots_agent);
}
std::string encode(const agent_record& r) {
  return pack(r.id, r.name, r.email, r.token_hash, r.max_chats, r.created_ms);
}
std::string encode(const visitor_record& r) {
  return pack(r.id, r.created_ms, r.email, r.last_conversation_id);
}

std::optional<conversation_record> decode_conversation(std::string_view bytes) {
  conversation_record r;
  std::uint8_t phase = 0;
  if (!unpack(bytes, 12, r.id, r.visitor_id, phase, r.agent_id, r.created_ms, r.updated_ms, r.requested_ms,
              r.ended_ms, r.end_reason, r.page_url, r.referrer, r.email, r.visitor_left_ms, r.queue_notice,
              r.flow_cursor, r.held_by, r.score) ||
      phase > static_cast<std::uint8_t>(conversation_phase::ended))
    return std::nullopt;
  r.phase = static_cast<conversation_phase>(phase);
  return r;
}
std::optional<message_record> decode_message(std::string_view bytes) {
  message_record r;
  std::vector<std::pair<std::string, std::string>> options;
  std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> slots;
  if (!unpack(bytes, 6, r.from, r.text, r.ts_ms, r.client_msg_id, r.agent_id, r.agent_name, options, r.prompt.input,
              r.prompt.placeholder, r.prompt.link, slots, r.prompt.slots_agent))
    return std::nullopt;
  for (auto& [label, value] : options) r.prompt.options.push_back({std::move(label), std::move(value)});
  for (auto& [id, start, end] : slots) r.prompt.slots.push_back({std::move(id), start, end});
  return r;
}
std::optional<agent_record> decode_agent(std::string_view bytes) {
  agent_record r;
  if (!unpack(bytes, 6, r.id, r.name, r.email, r.token_hash, r.max_chats, r.created_ms)) return std::nullopt;
  return r;
}
std::string encode(const api_token_record& r) {
  return pack(r.id, r.name, r.role, r.agent_id, r.token_hash, r.created_ms);
}

std::optional<api_token_record> decode_api_token(std::string_view bytes) {
  api_token_record r;
  if (!unpack(bytes, 6, r.id, r.name, r.role, r.agent_id, r.token_hash, r.created_ms)) return std::nullopt;
  return r;
}

std::string_view to_string(dialogue_status s) noexcept {
  switch (s) {
    case dialogue_status::draft: return "draft";
    case dialogue_status::published: return "published";
    case dialogue_status::unpublished: return "unpublished";
  }
  return "draft";
}

std::string encode(const dialogue_visit& r) {
  return pack(r.dialogue_id, r.version, r.conversation_id, r.visitor_id, r.triggered_ms, r.engaged_ms, r.completed_ms,
              r.known, r.acquired, r.goals, r.meetings, r.flow);
}

std::optional<dialogue_visit> decode_dialogue_visit(std::string_view bytes) {
  dialogue_visit r;
  if (!unpack(bytes, 12, r.dialogue_id, r.version, r.conversation_id, r.visitor_id, r.triggered_ms, r.engaged_ms,
              r.completed_ms, r.known, r.acquired, r.goals, r.meetings, r.flow))
    return std::nullopt;
  return r;
}

std::string encode(const live_chat_visit& r) {
  return pack(r.conversation_id, r.requested_ms, r.connected_ms, r.first_response_ms, r.ended_ms, r.agent_id,
              r.dialogue_id, r.known);
}

std::optional<live_chat_visit> decode_live_chat(std::string_view bytes) {
  live_chat_visit r;
  if (!unpack(bytes, 8, r.conversation_id, r.requested_ms, r.connected_ms, r.first_response_ms, r.ended_ms, r.agent_id,
              r.dialogue_id, r.known))
    return std::nullopt;
  return r;
}

std::string encode(const activity_record& r) {
  return pack(r.kind, r.name, r.ts_ms, r.conversation_id, r.visitor_id, r.email, r.page_url, r.dialogue_id,
              r.dialogue_name, r.status, r.score, r.agent_id, r.agent_name, r.agent_email, r.updated_ms);
}

std::optional<activity_record> decode_activity(std::string_view bytes) {
  activity_record r;
  if (!unpack(bytes, 15, r.kind, r.name, r.ts_ms, r.conversation_id, r.visitor_id, r.email, r.page_url, r.dialogue_id,
              r.dialogue_name, r.status, r.score, r.agent_id, r.agent_name, r.agent_email, r.updated_ms))
    return std::nullopt;
  return r;
}

std::string encode(const dialogue_record& r) {
  return pack(r.id, r.name, r.priority, static_cast<std::uint8_t>(r.status), r.draft, r.published_version, r.created_ms,
              r.updated_ms, r.published_priority, r.flow);
}

std::optional<dialogue_record> decode_dialogue(std::string_view bytes) {
  dialogue_record r;
  std::uint8_t status = 0;
  if (!unpack(bytes, 8, r.id, r.name, r.priority, status, r.draft, r.published_version, r.created_ms, r.updated_ms,
              r.published_priority, r.flow))
    return std::nullopt;
  if (status > static_cast<std::uint8_t>(dialogue_status::unpublished)) return std::nullopt;
  r.status = static_cast<dialogue_status>(status);
  // Stored before the field: its published version had the record's priority then.
  if (r.published_version > 0 && r.published_priority == 0) r.published_priority = r.priority;
  return r;
}

std::optional<visitor_record> decode_visitor(std::string_view bytes) {
  visitor_record r;
  if (!unpack(bytes, 4, r.id, r.created_ms, r.email, r.last_conversation_id)) return std::nullopt;
  return r;
}

} // namespace dynchat::store
