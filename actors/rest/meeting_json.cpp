#include "actors/rest/meeting_json.hpp"

#include "dynchat/calendar/slots.hpp"

namespace dynchat::rest_api {

nlohmann::json slot_offer_json(const msg::slot_offer& offer, const std::string& zone) {
  const auto& shown_in = zone.empty() ? offer.agent_time_zone : zone;
  auto slots = nlohmann::json::array();
  for (const auto& s : offer.slots)
    slots.push_back({{"id", s.id},
                     {"start_ms", s.start_ms},
                     {"end_ms", s.end_ms},
                     {"start", calendar::local_iso(s.start_ms, shown_in)},
                     {"end", calendar::local_iso(s.end_ms, shown_in)}});
  return {{"agent_id", offer.agent_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(offer.agent_id)},
          {"agent_name", offer.agent_name},
          {"time_zone", shown_in},
          {"slots", std::move(slots)}};
}

nlohmann::json meeting_json(const store::meeting_record& m, const std::string& agent_name) {
  return {{"id", m.id},
          {"agent_id", m.agent_id},
          {"agent_name", agent_name},
          {"status", m.status},
          {"start_ms", m.start_ms},
          {"end_ms", m.end_ms},
          {"start", calendar::local_iso(m.start_ms, m.time_zone)},
          {"end", calendar::local_iso(m.end_ms, m.time_zone)},
          {"time_zone", m.time_zone},
          {"booker_email", m.booker_email},
          {"booker_name", m.booker_name},
          {"conversation_id", m.conversation_id},
          {"dialogue_id", m.dialogue_id},
          {"page_url", m.page_url},
          {"sequence", m.sequence},
          {"created_ms", m.created_ms},
          {"updated_ms", m.updated_ms}};
}

} // namespace dynchat::rest_api
