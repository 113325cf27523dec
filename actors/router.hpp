#pragma once
// The one router: hands conversations to agents in strict round-robin order over the
// eligible ones, times out offers, and keeps a FIFO queue when nobody can take one.
#include <caf/fwd.hpp>

#include "actors/context.hpp"

namespace dynchat {

router_actor spawn_router(caf::actor_system& sys, const actor_context& ctx);

} // namespace dynchat
