#include "actors/system_config.hpp"

#include <caf/all.hpp>

#include "actors/context.hpp"
#include "actors/messages.hpp"

namespace dynchat {
namespace {

void announce_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<msg::visitor_summary>("dynchat::visitor_summary");
  cfg.add_message_type<msg::chat_message>("dynchat::chat_message");
  cfg.add_message_type<std::vector<msg::chat_message>>("std::vector<dynchat::chat_message>");
  cfg.add_message_type<msg::chat_request>("dynchat::chat_request");
  cfg.add_message_type<msg::agent_state_report>("dynchat::agent_state_report");
  cfg.add_message_type<store::write_op>("dynchat::write_op");
  cfg.add_message_type<store::write_batch>("dynchat::write_batch");
  cfg.add_message_type<store::agent_record>("dynchat::agent_record");
  cfg.add_message_type<protocol::visitor_hello>("dynchat::visitor_hello");
  cfg.add_message_type<protocol::visitor_say>("dynchat::visitor_say");
  cfg.add_message_type<protocol::agent_say>("dynchat::agent_say");
  cfg.add_message_type<protocol::agent_hello>("dynchat::agent_hello");
  cfg.add_message_type<protocol::client_msg_id>("dynchat::client_msg_id");
  cfg.add_message_type<protocol::history_request>("dynchat::history_request");
  cfg.add_message_type<msg::slot_request>("dynchat::slot_request");
  cfg.add_message_type<msg::slot_offer>("dynchat::slot_offer");
  cfg.add_message_type<msg::booking_request>("dynchat::booking_request");
  cfg.add_message_type<msg::booking_reply>("dynchat::booking_reply");
  cfg.add_message_type<store::meeting_record>("dynchat::meeting_record");
  cfg.add_message_type<store::calendar_record>("dynchat::calendar_record");
  cfg.add_message_type<msg::feed_fetched>("dynchat::feed_fetched");
  cfg.add_message_type<store::invite_delivery>("dynchat::invite_delivery");
  cfg.add_message_type<std::vector<store::invite_delivery>>("std::vector<dynchat::invite_delivery>");
}

} // namespace

void configure_actor_system(caf::actor_system_config& cfg, unsigned threads) {
  cfg.set("scheduler.max-threads", static_cast<std::size_t>(threads));
  cfg.set("work-stealing.moderate-poll-attempts", static_cast<std::size_t>(0));
  cfg.set("work-stealing.moderate-sleep-duration", caf::timespan{0});
  cfg.set("logger.console", caf::atom("none"));
  announce_types(cfg);
}

void configure_deterministic(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.console", caf::atom("none"));
  announce_types(cfg);
}

caf::error to_caf_error(protocol::error_code code) {
  return caf::error{static_cast<std::uint8_t>(code), caf::atom("dynchat")};
}

protocol::error_code from_caf_error(const caf::error& err) {
  if (err.category() == caf::atom("dynchat")) return static_cast<protocol::error_code>(err.code());
  return protocol::error_code::internal;
}

msg::chat_message msg::to_chat_message(std::string_view conversation_id, std::uint64_t seq,
                                       const store::message_record& m) {
  return {std::string{conversation_id}, seq, m.from, m.text, m.ts_ms, m.agent_name};
}

} // namespace dynchat
