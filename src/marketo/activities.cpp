#include "dynchat/marketo/activities.hpp"

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

nlohmann::json external_activity(const store::activity_record& a, std::int64_t lead_id, int activity_type_id) {
  using nlohmann::json;
  json attributes = json::array();
  auto add = [&](const char* name, const std::string& value) {
    if (!value.empty()) attributes.push_back({{"apiName", name}, {"value", value}});
  };
  add("dynchatId", delivery_id(a));
  add("conversationId", a.conversation_id);
  add("dialogueName", a.dialogue_name);
  add("status", a.status);
  if (a.score > 0) add("score", std::to_string(a.score));
  add("pageUrl", a.page_url);
  add("agentEmail", a.agent_email);
  const auto when = std::chrono::system_clock::time_point{std::chrono::milliseconds{a.ts_ms}};
  return {{"leadId", lead_id},
          {"activityDate", iso8601(when)},
          {"activityTypeId", activity_type_id},
          {"primaryAttributeValue", primary_value(a).empty() ? a.kind : primary_value(a)},
          {"attributes", attributes}};
}

} // namespace dynchat::marketo
