#pragma once
// The outbox's rows as Marketo custom activities (POST /rest/v1/activities/external.json):
// one custom activity type per kind, named dynchat_<kind>, whose `dynchatId` attribute
// names the row's version, so a delivery whose answer was lost can be found in Marketo
// instead of being sent twice.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dynchat/store/records.hpp"

namespace dynchat::marketo {

inline constexpr std::size_t max_activities_per_call = 300; // Marketo's limit

/// dynchat_dialogue_engaged, dynchat_goal_reached, dynchat_document_opened,
/// dynchat_agent_engaged, dynchat_meeting_scheduled.
std::string activity_api_name(std::string_view kind);
/// Unique per row version: conversation, kind, name, and when it last changed.
std::string delivery_id(const store::activity_record& a);
/// The primary attribute's value: the dialogue's name, the goal's, the document's
/// address, the agent's name.
std::string primary_value(const store::activity_record& a);
/// A custom activity type's secondary attribute.
struct activity_attribute {
  std::string api_name;
  std::string name;
};
/// The secondary attributes of the kind's custom activity type (docs/marketo.md lists
/// them): dynchatId, status and score on every type, then the kind's own.
std::vector<activity_attribute> activity_attributes(std::string_view kind);
/// One `input` element.
nlohmann::json external_activity(const store::activity_record& a, std::int64_t lead_id, int activity_type_id);

} // namespace dynchat::marketo
