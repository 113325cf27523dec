#pragma once
// The only LMDB writer (store_writer_actor in actors/interfaces.hpp): answers each write
// batch with the commit number once the transaction holding it is durable.
#include <caf/fwd.hpp>

#include "actors/context.hpp"

namespace dynchat {

/// detached: true in production (commits block a thread of its own), false in
/// deterministic tests where every actor runs on the test coordinator.
store_writer_actor spawn_store_writer(caf::actor_system& sys, const actor_context& ctx, bool detached);

} // namespace dynchat
