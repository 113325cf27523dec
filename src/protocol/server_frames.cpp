#include "dynchat/protocol/server_frames.hpp"

namespace dynchat::protocol {

json make_visitor_welcome(const visitor_welcome& w) {
  json j{
    {"type", "welcome"},
    {"visitor_id", w.visitor_id},
    {"conversation_id", w.conversation_id},
    {"resume_token", w.resume_token},
    {"known", w.known},
    {"phase", w.phase},
    {"last_seq", w.last_seq},
    {"config",
     {{"max_text_bytes", w.limits.max_text_bytes},
      {"max_frame_bytes", w.limits.max_frame_bytes},
      {"rate_per_second", w.limits.rate_per_second}}},
  };
  if (!w.dialogue_id.empty())
    j["dialogue"] = {{"id", w.dialogue_id},
                     {"name", w.dialogue_name},
                     {"version", w.dialogue_version},
                     {"finished", w.dialogue_finished}};
  return j;
}

json visitor_card_json(const visitor_card& v) {
  return json{{"visitor_id", v.visitor_id}, {"page_url", v.page_url}, {"referrer", v.referrer}, {"email", v.email}};
}

json make_agent_welcome(const agent_welcome& w) {
  json conversations = json::array();
  for (const auto& c : w.conversations)
    conversations.push_back(
      json{{"conversation_id", c.conversation_id}, {"visitor", visitor_card_json(c.visitor)}, {"last_seq", c.last_seq}});
  return json{{"type", "welcome"}, {"agent_id", w.agent_id},   {"name", w.name},
              {"status", w.status}, {"max_chats", w.max_chats}, {"conversations", std::move(conversations)}};
}

json make_ended(std::string_view conversation_id, std::string_view reason) {
  return json{{"type", "ended"}, {"conversation_id", conversation_id}, {"reason", reason}};
}

json make_status(std::string_view status) { return json{{"type", "status"}, {"status", status}}; }

json make_offer_withdrawn(std::string_view conversation_id, std::string_view reason) {
  return json{{"type", "offer_withdrawn"}, {"conversation_id", conversation_id}, {"reason", reason}};
}

} // namespace dynchat::protocol
