#pragma once
// id -> actor handle for conversations and agents: spawns on demand (loading state
// from the store), monitors, forgets on down. Also where hellos are authenticated.
#include <caf/fwd.hpp>

#include "actors/context.hpp"

namespace dynchat {

directory_actor spawn_directory(caf::actor_system& sys, const actor_context& ctx);

} // namespace dynchat
