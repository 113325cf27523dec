#pragma once
// The one reader of iCal feeds (docs/meetings.md): an agent's feed is read when it is
// connected, then every meetings.feed_refresh, through an HTTP client on its own thread.
// Each read becomes a refresh of the agent's calendar in the scheduler; a failing read
// shows in the connection status and keeps the last good busy times.
#include <caf/fwd.hpp>

#include "actors/context.hpp"

namespace dynchat {

calendar_feeds_actor spawn_calendar_feeds(caf::actor_system& sys, const actor_context& ctx);

} // namespace dynchat
