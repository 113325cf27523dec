#include "flows.hpp"

namespace dynchat::engine {

step_result step(const cursor& at, const input& what, const context& ctx) {
  if (auto shared = shared_slots_step(at, what, ctx)) return std::move(*shared);
  switch (at.flow) {
    case flow_kind::live_chat: return live_chat_step(at, what, ctx);
    // A dialogue whose pinned version is not at hand carries on as a live chat: the
    // visitor still reaches a person.
    // A flow the page started runs its cards the same way.
    case flow_kind::dialogue:
    case flow_kind::conversational_flow: return ctx.dialogue ? dialogue_step(at, what, ctx) : live_chat_step(at, what, ctx);
  }
  return live_chat_step(at, what, ctx);
}

} // namespace dynchat::engine
