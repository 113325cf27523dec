#pragma once
// Implements net::gateway: every websocket gets a connection handler that decodes its
// frames on the io thread and sends plain structs to the actor that owns it.
#include <memory>

#include "actors/interfaces.hpp"

#include "dynchat/core/metrics.hpp"
#include "dynchat/core/settings.hpp"
#include "dynchat/net/frame_sink.hpp"

namespace dynchat {

std::unique_ptr<net::gateway> make_actor_gateway(directory_actor directory, const settings& cfg, metrics& stats);

} // namespace dynchat
