#pragma once
// The message vocabulary between dynchat's actors: atoms and payload structs, each with
// an inspect() so it can cross nodes later. Handles to sockets (sinks) and bind
// callbacks are node-local by nature and marked as such. Each atom means one thing;
// which actor takes which message is in actors/interfaces.hpp.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>

#include "dynchat/net/frame_sink.hpp"
#include "dynchat/protocol/frames.hpp"
#include "dynchat/store/records.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat::msg {

// store writer
using write_atom = caf::atom_constant<caf::atom("write")>;
// A bulk write (a Marketo sync batch, an import): committed after the chat writes waiting.
using bulk_write_atom = caf::atom_constant<caf::atom("bulkwrite")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
// sockets -> directory -> sessions and agents
using vhello_atom = caf::atom_constant<caf::atom("vhello")>;
using ahello_atom = caf::atom_constant<caf::atom("ahello")>;
using attach_atom = caf::atom_constant<caf::atom("attach")>;
using detach_atom = caf::atom_constant<caf::atom("detach")>;
using say_atom = caf::atom_constant<caf::atom("say")>;
using choose_atom = caf::atom_constant<caf::atom("choose")>;
using book_atom = caf::atom_constant<caf::atom("book")>;
using opened_atom = caf::atom_constant<caf::atom("opened")>; // the visitor opened a document card's link
using score_atom = caf::atom_constant<caf::atom("score")>;   // an agent scores the conversation
using event_atom = caf::atom_constant<caf::atom("pageevent")>; // the widget reports time on page, scroll
using trigger_atom = caf::atom_constant<caf::atom("trigger")>; // the page starts a conversational flow
using typing_atom = caf::atom_constant<caf::atom("typing")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using session_atom = caf::atom_constant<caf::atom("session")>;
using agent_atom = caf::atom_constant<caf::atom("agent")>;
// routing
using request_atom = caf::atom_constant<caf::atom("request")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using queued_atom = caf::atom_constant<caf::atom("queued")>;
using offer_atom = caf::atom_constant<caf::atom("offer")>;
using withdraw_atom = caf::atom_constant<caf::atom("withdraw")>;
using accept_atom = caf::atom_constant<caf::atom("accept")>;
using decline_atom = caf::atom_constant<caf::atom("decline")>;
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;
using assign_atom = caf::atom_constant<caf::atom("assign")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using aupdate_atom = caf::atom_constant<caf::atom("aupdate")>;
using aadded_atom = caf::atom_constant<caf::atom("aadded")>;
using aremoved_atom = caf::atom_constant<caf::atom("aremoved")>;
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
using wake_atom = caf::atom_constant<caf::atom("wake")>;
// start-up
using recover_atom = caf::atom_constant<caf::atom("recover")>;
using directory_atom = caf::atom_constant<caf::atom("directory")>; // the directory's handle, for the router
// conversation <-> agent
using joined_atom = caf::atom_constant<caf::atom("joined")>;
using rejoin_atom = caf::atom_constant<caf::atom("rejoin")>;
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using end_atom = caf::atom_constant<caf::atom("end")>; // end a chat (an agent's socket asks its agent; an agent's removal asks the directory)
using agent_say_atom = caf::atom_constant<caf::atom("agentsay")>;       // an agent's message, to the conversation
using agent_typing_atom = caf::atom_constant<caf::atom("agenttype")>;   // the agent types, to the conversation
using agent_end_atom = caf::atom_constant<caf::atom("agentend")>;       // the agent ends the chat, to the conversation
using visitor_typing_atom = caf::atom_constant<caf::atom("vistype")>;   // the visitor types, to the agent
using ended_atom = caf::atom_constant<caf::atom("ended")>;
using history_atom = caf::atom_constant<caf::atom("history")>;
using drained_atom = caf::atom_constant<caf::atom("drained")>; // a socket's queue drained: the next replay page
// timers
using grace_atom = caf::atom_constant<caf::atom("grace")>;
using chat_hours_atom = caf::atom_constant<caf::atom("chathours")>; // an agent's live-chat hours changed, or are due
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using flow_timer_atom = caf::atom_constant<caf::atom("flowtimer")>; // a timer the conversation's flow set
using paced_atom = caf::atom_constant<caf::atom("paced")>;          // outputs held back by a typing delay
using write_retry_atom = caf::atom_constant<caf::atom("wretry")>;   // a failed batch's rows go again, after a back-off
// REST
using rest_atom = caf::atom_constant<caf::atom("rest")>;

/// Who a visitor is, as shown to agents.
struct visitor_summary {
  std::string visitor_id;
  std::string conversation_id;
  std::string page_url;
  std::string referrer;
  std::string email;
};

/// One stored message, as delivered to an agent.
struct chat_message {
  std::string conversation_id;
  std::uint64_t seq = 0;
  std::string from;
  std::string text;
  std::int64_t ts_ms = 0;
  std::string agent_name;
};

// Carry actor handles; defined with the interfaces (actors/interfaces.hpp).
struct chat_request;
struct agent_state_report;

/// Lets the actor that takes a connection tell the connection where to send frames.
template <class Handle>
struct bind_to {
  std::function<void(Handle)> fn;
};
/// The same, already holding the handle: the actor that takes the connection calls it
/// once it has (the directory made it, knowing the handle).
struct bind_now {
  std::function<void()> fn;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, visitor_summary& x) {
  return f(caf::meta::type_name("visitor_summary"), x.visitor_id, x.conversation_id, x.page_url, x.referrer, x.email);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chat_message& x) {
  return f(caf::meta::type_name("chat_message"), x.conversation_id, x.seq, x.from, x.text, x.ts_ms, x.agent_name);
}
chat_message to_chat_message(std::string_view conversation_id, std::uint64_t seq, const store::message_record& m);

} // namespace dynchat::msg

namespace dynchat::protocol {
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_msg_id& x) {
  return f(caf::meta::type_name("client_msg_id"), x.text, x.numeric);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, history_request& x) {
  return f(caf::meta::type_name("history_request"), x.before_seq, x.limit);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_hello& x) {
  return f(caf::meta::type_name("agent_hello"), x.token, x.resume);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, visitor_hello& x) {
  return f(caf::meta::type_name("visitor_hello"), x.page_url, x.visitor_id, x.resume_token, x.last_seq, x.email,
           x.mkto_trk, x.referrer, x.page_load);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, visitor_say& x) {
  return f(caf::meta::type_name("visitor_say"), x.id, x.text);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_say& x) {
  return f(caf::meta::type_name("agent_say"), x.conversation_id, x.id, x.text);
}
} // namespace dynchat::protocol

namespace dynchat::store {
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_op& x) {
  return f(caf::meta::type_name("write_op"), x.target, x.key, x.value, x.erase, x.merge_lead);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_record& x) {
  return f(caf::meta::type_name("agent_record"), x.id, x.name, x.email, x.token_hash, x.max_chats, x.created_ms);
}
} // namespace dynchat::store

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dynchat::net::sink_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dynchat::msg::bind_now)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::function<void(dynchat::net::http_response)>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dynchat::net::http_request)
