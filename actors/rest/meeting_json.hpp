#pragma once
// Meetings and slots as the REST API shows them (docs/api.md): instants in ms and as
// local time in the viewer's time zone.
#include <string>

#include <nlohmann/json.hpp>

#include "actors/meeting_messages.hpp"

namespace dynchat::rest_api {

/// The agent whose slots these are, and each slot with its id for booking. Local times
/// are in `zone`, the agent's when empty.
nlohmann::json slot_offer_json(const msg::slot_offer& offer, const std::string& zone);
nlohmann::json meeting_json(const store::meeting_record& m, const std::string& agent_name);

} // namespace dynchat::rest_api
