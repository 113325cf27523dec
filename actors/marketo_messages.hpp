#pragma once
// What the Marketo sync actor (actors/marketo_sync.cpp) is asked and answers
// (docs/marketo.md). REST asks with the request's JSON body and gets the status and JSON
// to answer with; sessions ask it to look a visitor up.
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

namespace dynchat::msg {

using mconn_atom = caf::atom_constant<caf::atom("mconn")>;       // the connection: "" reads it, a JSON body replaces it
using mtest_atom = caf::atom_constant<caf::atom("mtest")>;       // test the stored connection
using mfields_atom = caf::atom_constant<caf::atom("mfields")>;   // the fields: "" lists them, a JSON body selects them
using msync_atom = caf::atom_constant<caf::atom("msync")>;       // "status" | "start" | "cancel"
using mlead_atom = caf::atom_constant<caf::atom("mlead")>;       // a visitor's lead: email, tracking cookie
using mleadact_atom = caf::atom_constant<caf::atom("mleadact")>; // a lead's recent Marketo activities
using moutbox_atom = caf::atom_constant<caf::atom("moutbox")>;   // the outbox's state, or "retry" the dead letters
using mstep_atom = caf::atom_constant<caf::atom("mstep")>;       // its own: what a Marketo call's answer continues with

/// A REST answer: status and JSON body.
struct json_reply {
  unsigned status = 200;
  std::string body;
};

/// A visitor's lead as Marketo has it: found or not, and its attributes by field name.
struct lead_found {
  bool found = false;
  std::string lead_id;
  std::map<std::string, std::string> attributes;
};

/// A continuation, run inside the actor: how the Marketo client's callbacks (on its io
/// thread) come back to the actor's state.
struct marketo_step {
  std::function<void()> fn;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, json_reply& x) {
  return f(caf::meta::type_name("json_reply"), x.status, x.body);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lead_found& x) {
  return f(caf::meta::type_name("lead_found"), x.found, x.lead_id, x.attributes);
}

} // namespace dynchat::msg

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dynchat::msg::marketo_step)
