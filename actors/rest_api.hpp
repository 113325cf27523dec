#pragma once
// The REST API under /v1/, served by one actor so io threads never touch the disk.
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/context.hpp"
#include "dynchat/net/frame_sink.hpp"
#include "dynchat/rest/route_table.hpp"

namespace dynchat {

/// admin_token_hash: hex sha256 of the admin bearer token.
/// Every route the REST API serves, with the roles it admits.
const rest::route_table& rest_routes();

std::unique_ptr<net::http_handler> make_rest_api(caf::actor_system& sys, const actor_context& ctx,
                                                 std::string admin_token_hash);

} // namespace dynchat
