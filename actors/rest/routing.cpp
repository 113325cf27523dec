// /v1/routing: the round-robin order and each agent's load, as the router sees it now.
#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "actors/rest/handlers.hpp"

namespace dynchat::rest_api {

void get_routing(call c) {
  if (!query_ok(c)) return;
  c.self->request(c.ctx().router, std::chrono::seconds{5}, msg::snapshot_atom::value)
    .then([reply = c.reply](const std::string& s) { reply(net::http_response{200, "application/json", s, {}}); },
          [reply = c.reply](caf::error&) {
            reply(error_response(503, protocol::error_code::unavailable, "the router did not answer"));
          });
}

} // namespace dynchat::rest_api
