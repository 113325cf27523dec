// /v1/routing: who gets the next chat and the next meeting. The chat order and each
// agent's load as the router sees it now; under "meetings", the round-robin order of
// meetings and each agent's total, as the scheduler keeps them.
#include <caf/all.hpp>

#include "actors/meeting_messages.hpp"
#include "actors/messages.hpp"
#include "actors/rest/handlers.hpp"

namespace dynchat::rest_api {

void get_routing(call c) {
  if (!query_ok(c)) return;
  auto self = c.self;
  auto reply = c.reply;
  auto unavailable = [reply](const char* who) {
    return [reply, who](caf::error&) {
      reply(error_response(503, protocol::error_code::unavailable, std::string{"the "} + who + " did not answer"));
    };
  };
  self->request(c.ctx().router, std::chrono::seconds{5}, msg::snapshot_atom::value)
    .then(
      [self, reply, unavailable](const std::string& chats) {
        auto out = json::parse(chats);
        if (!self->state.ctx.scheduler) return reply(json_response(200, out));
        self->request(self->state.ctx.scheduler, std::chrono::seconds{5}, msg::meetings_atom::value)
          .then(
            [reply, out](const std::string& meetings) mutable {
              out["meetings"] = json::parse(meetings);
              reply(json_response(200, out));
            },
            unavailable("scheduler"));
      },
      unavailable("router"));
}

} // namespace dynchat::rest_api
