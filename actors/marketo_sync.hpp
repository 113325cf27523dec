#pragma once
// The Marketo sync actor (docs/marketo.md): one per process.
#include <caf/fwd.hpp>

#include "actors/context.hpp"

namespace dynchat {

marketo_sync_actor spawn_marketo_sync(caf::actor_system& sys, const actor_context& ctx);

} // namespace dynchat
