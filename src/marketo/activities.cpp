#include "dynchat/marketo/activities.hpp"

#include <map>

#include "dynchat/marketo/api.hpp"

namespace dynchat::marketo {

std::string activity_api_name(std::string_view kind) { return "dynchat_" + std::string{kind}; }

std::string delivery_id(const store::activity_record& a) {
  return a.conversation_id + ":" + a.kind + ":" + a.name + ":" + std::to_string(a.updated_ms ? a.updated_ms : a.ts_ms);
}

std::string primary_value(const store::activity_record& a) {
  if (a.kind == "dialogue_engaged") return a.dialogue_name.empty() ? a.dialogue_id : a.dialogue_name;
  if (a.kind == "goal_reached" || a.kind == "document_opened") return a.name;
  if (a.kind == "agent_engaged" || a.kind == "meeting_scheduled") return a.agent_name.empty() ? a.agent_id : a.agent_name;
  return a.name;
}

std::vector<activity_attribute> activity_attributes(std::string_view kind) {
  // Every type has these three; then the kind's own.
  std::vector<activity_attribute> out{{"dynchatId", "Dynchat ID"}, {"status", "Status"}, {"score", "Score"}};
  auto add = [&](std::initializer_list<activity_attribute> more) { out.insert(out.end(), more); };
  if (kind == "dialogue_engaged" || kind == "flow_engaged")
    add({{"conversationId", "Conversation ID"}, {"pageUrl", "Page URL"}, {"channel", "Channel"}});
  else if (kind == "goal_reached")
    add({{"dialogueName", "Dialogue Name"}, {"conversationId", "Conversation ID"}, {"pageUrl", "Page URL"}});
  else if (kind == "document_opened")
    add({{"documentUrl", "Document URL"}, {"conversationId", "Conversation ID"}, {"dialogueName", "Dialogue Name"}});
  else if (kind == "agent_engaged")
    add({{"agentEmail", "Agent Email"}, {"conversationId", "Conversation ID"}, {"pageUrl", "Page URL"}});
  else if (kind == "meeting_scheduled")
    add({{"agentEmail", "Agent Email"}, {"meetingStart", "Meeting Start"}, {"conversationId", "Conversation ID"},
         {"timeZone", "Time Zone"}});
  return out;
}

nlohmann::json external_activity(const store::activity_record& a, std::int64_t lead_id, int activity_type_id) {
  using nlohmann::json;
  const std::map<std::string, std::string> values{
    {"dynchatId", delivery_id(a)},   {"status", a.status},
    {"score", a.score > 0 ? std::to_string(a.score) : std::string{}},
    {"conversationId", a.conversation_id}, {"pageUrl", a.page_url},
    {"channel", "chat"},             {"dialogueName", a.dialogue_name},
    {"documentUrl", a.name},         {"agentEmail", a.agent_email}};
  json attributes = json::array();
  for (const auto& attr : activity_attributes(a.kind)) {
    auto it = values.find(attr.api_name);
    if (it != values.end() && !it->second.empty()) attributes.push_back({{"apiName", attr.api_name}, {"value", it->second}});
  }
  const auto when = std::chrono::system_clock::time_point{std::chrono::milliseconds{a.ts_ms}};
  const auto primary = primary_value(a);
  return {{"leadId", lead_id},
          {"activityDate", iso8601(when)},
          {"activityTypeId", activity_type_id},
          {"primaryAttributeValue", primary.empty() ? a.kind : primary},
          {"attributes", attributes}};
}

} // namespace dynchat::marketo
