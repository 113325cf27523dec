#pragma once
// Every actor's typed interface: what it accepts and what it answers. A message an actor
// does not take, or a wrong payload, fails to compile instead of failing at run time.
//
// They live in one header because they refer to each other (a conversation is told its
// agent; an agent is offered a conversation; the directory hands out both), in the order
// their references need. Payloads are plain serializable structs (actors/messages.hpp):
// the multi-node work sends them between processes.
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/marketo_messages.hpp"
#include "actors/meeting_messages.hpp"
#include "actors/messages.hpp"

namespace dynchat {

/// The only LMDB writer: answers each batch with its commit number once durable.
using store_writer_actor = caf::typed_actor<
  caf::replies_to<msg::write_atom, store::write_batch>::with<std::uint64_t>,
  caf::replies_to<msg::bulk_write_atom, store::write_batch>::with<std::uint64_t>,
  caf::reacts_to<msg::flush_atom>,    // its own: commit what has gathered
  caf::reacts_to<msg::shutdown_atom>>; // commits what it holds, then stops

/// One per agent: its sockets, status, chats and offers.
using agent_actor = caf::typed_actor<
  // from its sockets (through the socket bridge)
  caf::reacts_to<msg::attach_atom, net::sink_ptr, msg::bind_now, protocol::agent_hello>,
  caf::reacts_to<msg::detach_atom, std::uint64_t, bool>,
  caf::reacts_to<msg::drained_atom, std::uint64_t>,
  caf::reacts_to<msg::status_atom, std::string>,
  caf::reacts_to<msg::accept_atom, std::uint64_t, std::string>,
  caf::reacts_to<msg::decline_atom, std::uint64_t, std::string>,
  caf::reacts_to<msg::say_atom, std::uint64_t, protocol::agent_say>,
  caf::reacts_to<msg::typing_atom, std::uint64_t, std::string>,
  caf::reacts_to<msg::end_atom, std::uint64_t, std::string>,
  caf::reacts_to<msg::history_atom, std::uint64_t, std::string, protocol::history_request>,
  caf::reacts_to<msg::share_atom, std::uint64_t, std::string, std::string>, // conversation, whose calendar
  // from the router
  caf::reacts_to<msg::offer_atom, msg::chat_request, std::int64_t>,
  caf::reacts_to<msg::withdraw_atom, std::string, std::string>,
  // from its conversations
  caf::reacts_to<msg::joined_atom, std::string, msg::visitor_summary>,
  caf::reacts_to<msg::rejoin_atom, std::string, msg::visitor_summary>,
  caf::reacts_to<msg::deliver_atom, msg::chat_message, std::uint64_t>,
  caf::reacts_to<msg::visitor_typing_atom, std::string>,
  caf::reacts_to<msg::ended_atom, std::string, std::string>,
  // from the directory (REST changed or removed the agent, or its calendar settings)
  caf::reacts_to<msg::aadded_atom, store::agent_record>,
  caf::reacts_to<msg::aremoved_atom>,
  caf::reacts_to<msg::chat_hours_atom>,                // read its live-chat hours again
  caf::reacts_to<msg::chat_hours_atom, std::uint64_t>, // its own: the status by schedule may change now
  caf::reacts_to<msg::shutdown_atom>>;

/// One per conversation: its durable log, sockets and live-chat lifecycle.
using session_actor = caf::typed_actor<
  // from the visitor's sockets
  caf::reacts_to<msg::attach_atom, protocol::visitor_hello, net::sink_ptr, msg::bind_now>,
  caf::reacts_to<msg::detach_atom, std::uint64_t, bool>,
  caf::reacts_to<msg::drained_atom, std::uint64_t>,
  caf::reacts_to<msg::say_atom, std::uint64_t, protocol::visitor_say>,
  caf::reacts_to<msg::history_atom, std::uint64_t, protocol::history_request>,
  caf::reacts_to<msg::choose_atom, std::uint64_t, protocol::client_msg_id, std::string>,
  caf::reacts_to<msg::book_atom, std::uint64_t, protocol::client_msg_id, std::string, std::string>, // slot, time zone
  caf::reacts_to<msg::opened_atom, std::uint64_t, std::string>,
  caf::reacts_to<msg::event_atom, std::uint64_t, std::string, std::int64_t>,
  caf::reacts_to<msg::trigger_atom, std::uint64_t, std::string>,
  // from the REST API: the conversation score (0..3), answered once stored
  caf::replies_to<msg::score_atom, std::uint8_t>::with<bool>,
  caf::reacts_to<msg::typing_atom, std::uint64_t>,
  // from the router
  caf::reacts_to<msg::queued_atom, std::uint32_t>,
  caf::replies_to<msg::assign_atom, agent_actor, std::string, std::string>::with<bool>,
  // from its agent
  caf::replies_to<msg::agent_say_atom, std::string, std::uint64_t, protocol::agent_say>::with<std::uint64_t>,
  caf::reacts_to<msg::agent_typing_atom, std::string>,
  caf::reacts_to<msg::share_atom, std::string, std::string>, // the agent holding it, whose calendar
  caf::replies_to<msg::agent_end_atom, std::string, std::string>::with<bool>,
  // its own clocks
  caf::reacts_to<msg::grace_atom, std::uint64_t>,
  caf::reacts_to<msg::idle_atom, std::uint64_t>,
  caf::reacts_to<msg::flow_timer_atom, std::string, std::int64_t>,
  caf::reacts_to<msg::paced_atom, std::uint64_t>,
  caf::reacts_to<msg::write_retry_atom>,
  caf::reacts_to<msg::shutdown_atom>>;

namespace msg {

/// Where a connection's frames go once its hello is taken.
using visitor_bind = bind_to<session_actor>;
using agent_bind = bind_to<agent_actor>;

/// A conversation asking the router for an agent (and, as an offer, the agent for it).
/// The session is null for a conversation restored from the store whose actor has not
/// asked again yet.
struct chat_request {
  std::string conversation_id;
  session_actor session;
  visitor_summary visitor;
  std::int64_t requested_ms = 0;
  std::map<std::string, std::string> lead; // the lead's attributes: account routing and rules read them
};

/// An agent's routing-relevant state, reported to the router whenever it changes. The
/// router counts the agent's chats and offers itself: it is the authority on capacity.
struct agent_state_report {
  std::string agent_id;
  std::string name;
  agent_actor handle;
  std::string status;     // available | away | offline, as the agent chose
  bool connected = false; // at least one socket open
  std::uint32_t max_chats = 5;
  bool available() const { return status == "available" && connected; }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chat_request& x) {
  return f(caf::meta::type_name("chat_request"), x.conversation_id, x.session, x.visitor, x.requested_ms, x.lead);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_state_report& x) {
  return f(caf::meta::type_name("agent_state_report"), x.agent_id, x.name, x.handle, x.status, x.connected,
           x.max_chats);
}

} // namespace msg

/// Finds (spawning from the store on demand) the actor of a conversation or an agent;
/// where hellos are authenticated.
using directory_actor = caf::typed_actor<
  caf::reacts_to<msg::vhello_atom, protocol::visitor_hello, net::sink_ptr, msg::visitor_bind>,
  caf::reacts_to<msg::ahello_atom, protocol::agent_hello, net::sink_ptr, msg::agent_bind>,
  caf::replies_to<msg::recover_atom>::with<std::uint64_t>, // start-up: every open conversation runs again
  caf::replies_to<msg::session_atom, std::string>::with<session_actor>,
  caf::replies_to<msg::agent_atom, std::string>::with<agent_actor>,
  caf::reacts_to<msg::end_atom, std::string, std::string, std::string>, // conversation, agent, reason
  caf::reacts_to<msg::aadded_atom, store::agent_record>,
  caf::reacts_to<msg::aremoved_atom, std::string>,
  caf::reacts_to<msg::chat_hours_atom, std::string>, // an agent's calendar settings changed: to its actor
  caf::reacts_to<msg::shutdown_atom>>;

/// The one router: offers, capacity, the line, the round-robin cursor.
using router_actor = caf::typed_actor<
  caf::reacts_to<msg::directory_atom, directory_actor>,
  caf::reacts_to<msg::request_atom, msg::chat_request>,
  caf::reacts_to<msg::cancel_atom, std::string>,
  caf::reacts_to<msg::decline_atom, std::string, std::string>,                           // conversation, agent
  caf::replies_to<msg::accept_atom, std::string, std::string>::with<session_actor>,      // conversation, agent
  caf::reacts_to<msg::release_atom, std::string, std::string>,                           // agent, conversation
  caf::reacts_to<msg::aupdate_atom, msg::agent_state_report>,
  caf::reacts_to<msg::aadded_atom, store::agent_record>,
  caf::reacts_to<msg::aremoved_atom, std::string>,
  caf::reacts_to<msg::rules_atom, std::string>, // rules | teams | accounts: read that part of the rule book again
  caf::replies_to<msg::snapshot_atom>::with<std::string>,                                // JSON for GET /v1/routing
  caf::reacts_to<msg::timeout_atom, std::string, std::uint64_t>,                         // its own: an offer ran out
  caf::reacts_to<msg::wake_atom>,                                                        // its own: a cool-down ended
  caf::reacts_to<msg::shutdown_atom>>;

/// The one scheduler: agents' calendars and meetings. Bookings are atomic because they
/// all pass through it: a slot is taken in its memory before the write, so a second
/// booking of it, even while the first commits, finds it gone.
using scheduler_actor = caf::typed_actor<
  caf::replies_to<msg::slots_atom, msg::slot_request>::with<msg::slot_offer>,
  caf::replies_to<msg::book_atom, msg::booking_request>::with<msg::booking_reply>,
  caf::replies_to<msg::cancel_atom, std::string>::with<msg::booking_reply>,                    // meeting id
  caf::replies_to<msg::reschedule_atom, std::string, std::string>::with<msg::booking_reply>,   // meeting id, slot id
  caf::replies_to<msg::calendar_atom, std::string, std::string>::with<bool>,   // agent, settings JSON: stored, then applied
  caf::replies_to<msg::calendar_atom, store::calendar_record>::with<bool>,     // a refresh of the connected calendar
  caf::replies_to<msg::meetings_atom>::with<std::string>,                      // JSON: the turn order and totals
  caf::replies_to<msg::meetings_atom, std::string, std::string>::with<msg::booking_reply>, // meeting id, completed|no_show
  caf::reacts_to<msg::rules_atom, std::string>, // rules | teams | accounts: read that part of the rule book again
  caf::reacts_to<msg::aadded_atom, store::agent_record>,
  caf::reacts_to<msg::aremoved_atom, std::string>,
  caf::reacts_to<msg::shutdown_atom>>;

/// Reads the agents' iCal feeds: once when connected, then every meetings.feed_refresh.
/// Each read goes to the scheduler as a refresh of the agent's calendar.
using calendar_feeds_actor = caf::typed_actor<
  caf::replies_to<msg::feed_atom, std::string, std::string>::with<store::calendar_record>, // agent, URL: read, stored
  caf::reacts_to<msg::fetched_atom, msg::feed_fetched>,                                     // its own
  caf::reacts_to<msg::refresh_atom>,                                                        // its own
  caf::reacts_to<msg::shutdown_atom>>;

/// Delivers the invites' outbox by SMTP, on a thread of its own (detached): every pending
/// invite at start, then what the scheduler commits, retried with back-off.
using invite_mailer_actor = caf::typed_actor<
  caf::reacts_to<msg::mail_atom, std::vector<store::invite_delivery>>,
  caf::reacts_to<msg::wake_atom>, // its own: deliver what is due
  caf::reacts_to<msg::shutdown_atom>>;

/// The one Marketo sync (docs/marketo.md): the connection, the selected fields, sync
/// jobs and their progress, point look-ups, the lead write-back and the activity outbox.
/// All its network I/O is asynchronous, on the Marketo client's own thread.
using marketo_sync_actor = caf::typed_actor<
  caf::replies_to<msg::mconn_atom, std::string>::with<msg::json_reply>,
  caf::replies_to<msg::mtest_atom>::with<msg::json_reply>,
  caf::replies_to<msg::mfields_atom, std::string>::with<msg::json_reply>,
  caf::replies_to<msg::msync_atom, std::string>::with<msg::json_reply>,
  caf::replies_to<msg::mlead_atom, std::string, std::string>::with<msg::lead_found>, // email, cookie
  caf::replies_to<msg::mleadact_atom, std::string>::with<msg::json_reply>,          // lead id
  caf::replies_to<msg::moutbox_atom, std::string>::with<msg::json_reply>,           // "status" | "retry"
  caf::reacts_to<msg::mstep_atom, msg::marketo_step>,
  caf::reacts_to<msg::wake_atom>, // its own: look at the outbox and the lead updates
  caf::reacts_to<msg::shutdown_atom>>;

/// The REST API's one actor.
using rest_actor_handle = caf::typed_actor<
  caf::reacts_to<msg::rest_atom, net::http_request, std::function<void(net::http_response)>>,
  caf::reacts_to<msg::shutdown_atom>>;

} // namespace dynchat

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dynchat::msg::visitor_bind)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dynchat::msg::agent_bind)
