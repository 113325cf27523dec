#pragma once
// One actor per agent: its sockets (several tabs may be open), chosen status, open
// chats and pending offers. Reports routing-relevant changes to the router.
#include <caf/fwd.hpp>

#include "actors/context.hpp"
#include "dynchat/store/records.hpp"

namespace dynchat {

agent_actor spawn_agent(caf::actor_system& sys, const actor_context& ctx, store::agent_record record);

} // namespace dynchat
