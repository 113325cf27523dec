#pragma once
// The one scheduler: every agent's calendar and meetings, in memory, loaded from the
// store at start. Slots, bookings, cancellations and calendar changes all pass through
// it, in order, so no slot is ever booked twice (docs/meetings.md).
#include <caf/fwd.hpp>

#include "actors/context.hpp"

namespace dynchat {

scheduler_actor spawn_scheduler(caf::actor_system& sys, const actor_context& ctx);

/// "<agent id>:<start ms>"; false when `id` is not one.
bool parse_slot_id(const std::string& id, std::string& agent_id, std::int64_t& start_ms);

} // namespace dynchat
