#pragma once
#include <map>
// One actor per conversation: owns its seq, writes its messages through the store
// writer, acks after commit, fans messages out to the visitor's sockets and the agent,
// and asks its flow what happens next.
#include <cstdint>
#include <string>

#include <caf/fwd.hpp>

#include "actors/context.hpp"
#include "dynchat/dialogue/library.hpp"
#include "dynchat/store/records.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat {

struct session_seed {
  store::conversation_record conv;
  std::uint64_t last_seq = 0; // highest committed seq
  bool is_new = false;
  std::string fresh_token; // the plaintext resume token, only for a new conversation
  std::vector<store::write_op> initial_ops; // written with the conversation's first batch
  dialogue::definition_ptr dialogue;        // the version a new dialogue conversation is pinned to
  std::optional<store::dialogue_visit> visit; // its row for the visitor's history and the reports
  std::map<std::string, std::string> lead;     // the synced lead's fields, when the hello found it
  bool lead_found = false;
  std::string tracking_cookie;                 // the hello's _mkto_trk, for a look-up in Marketo
};

session_actor spawn_visitor_session(caf::actor_system& sys, const actor_context& ctx, session_seed seed);

} // namespace dynchat
