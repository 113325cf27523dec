#pragma once
// What the scheduler (actors/scheduler.cpp) is asked and answers: free slots, bookings,
// calendar changes (docs/meetings.md). Plain serializable structs, like messages.hpp.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "dynchat/store/meetings.hpp"

namespace dynchat::msg {

using slots_atom = caf::atom_constant<caf::atom("slots")>;
using calendar_atom = caf::atom_constant<caf::atom("calendar")>;
using reschedule_atom = caf::atom_constant<caf::atom("resched")>;
using meetings_atom = caf::atom_constant<caf::atom("meetings")>;
using feed_atom = caf::atom_constant<caf::atom("feed")>;        // connect an iCal feed
using fetched_atom = caf::atom_constant<caf::atom("fetched")>;  // the feeds actor's own: a read ended
using refresh_atom = caf::atom_constant<caf::atom("refresh")>;  // the feeds actor's own: read every feed
using mail_atom = caf::atom_constant<caf::atom("mail")>;        // invites to deliver, committed
using share_atom = caf::atom_constant<caf::atom("share")>;      // an agent shares a calendar into a chat
using rules_atom = caf::atom_constant<caf::atom("rules")>;      // the rule book changed: rules, teams or accounts

/// One read of an agent's feed, as the HTTP client's callback reports it.
struct feed_fetched {
  std::string agent_id, url;
  bool answered = false;
  std::uint32_t status = 0;
  std::string body, error;
};

/// Who may get a meeting: rule (account owners, then the first matching rule, then
/// round robin), round_robin (every eligible agent in strict turn), agent (the one
/// named). Slots come from one agent: the first eligible in that order.
struct slot_request {
  std::string routing = "round_robin";
  std::string agent_id;
  std::int64_t from_ms = 0, to_ms = 0; // 0: the agent's notice and horizon
  std::uint32_t max_slots = 0;         // 0: all of them
  std::map<std::string, std::string> lead; // the lead's attributes, for routing rule
};

struct offered_slot {
  std::string id; // "<agent id>:<start ms>": what `book` sends back
  std::int64_t start_ms = 0, end_ms = 0;
};

struct slot_offer {
  std::string agent_id, agent_name; // empty: nobody eligible
  std::string agent_time_zone;
  std::vector<offered_slot> slots;
  std::string turn; // the turn a booking of these moves on: none, round_robin, rule:<id>
};

struct booking_request {
  std::string slot_id;
  std::string routing = "round_robin"; // which turn a booking moves on: the rule's, round robin's, or none
  std::map<std::string, std::string> lead;
  std::string turn; // the offer's (slot_offer::turn); empty: worked out from routing and lead now
  std::string booker_email, booker_name, time_zone;
  std::string conversation_id, dialogue_id, page_url;
};

struct booking_reply {
  bool booked = false;
  std::string problem;      // why not, for the visitor or the client
  store::meeting_record meeting;
  std::string manage_token; // the booker's secret link: cancel or reschedule without an account
  std::string agent_name, agent_email;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, feed_fetched& x) {
  return f(caf::meta::type_name("feed_fetched"), x.agent_id, x.url, x.answered, x.status, x.body, x.error);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slot_request& x) {
  return f(caf::meta::type_name("slot_request"), x.routing, x.agent_id, x.from_ms, x.to_ms, x.max_slots, x.lead);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, offered_slot& x) {
  return f(caf::meta::type_name("offered_slot"), x.id, x.start_ms, x.end_ms);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slot_offer& x) {
  return f(caf::meta::type_name("slot_offer"), x.agent_id, x.agent_name, x.agent_time_zone, x.slots, x.turn);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, booking_request& x) {
  return f(caf::meta::type_name("booking_request"), x.slot_id, x.routing, x.lead, x.turn, x.booker_email, x.booker_name, x.time_zone,
           x.conversation_id, x.dialogue_id, x.page_url);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, booking_reply& x) {
  return f(caf::meta::type_name("booking_reply"), x.booked, x.problem, x.meeting, x.manage_token, x.agent_name,
           x.agent_email);
}

} // namespace dynchat::msg

namespace dynchat::store {
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, meeting_record& x) {
  return f(caf::meta::type_name("meeting_record"), x.id, x.agent_id, x.start_ms, x.end_ms, x.status, x.time_zone,
           x.booker_email, x.booker_name, x.conversation_id, x.dialogue_id, x.page_url, x.sequence, x.created_ms,
           x.updated_ms, x.manage_token_hash);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, invite_delivery& x) {
  return f(caf::meta::type_name("invite_delivery"), x.meeting_id, x.sequence, x.recipient, x.subject, x.ics, x.status,
           x.attempts, x.next_attempt_ms, x.last_error, x.sent_ms);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, calendar_record& x) {
  return f(caf::meta::type_name("calendar_record"), x.agent_id, x.settings_json, x.source, x.feed_url, x.status,
           x.error, x.refreshed_ms, x.checked_ms, x.busy, x.events);
}
} // namespace dynchat::store
