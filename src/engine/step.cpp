#include "flows.hpp"

namespace dynchat::engine {

step_result step(const cursor& at, const input& what, const context& ctx) {
  switch (at.flow) {
    case flow_kind::live_chat: return live_chat_step(at, what, ctx);
    // A dialogue whose pinned version is not at hand carries on as a live chat: the
    // visitor still reaches a person.
    case flow_kind::dialogue: return ctx.dialogue ? dialogue_step(at, what, ctx) : live_chat_step(at, what, ctx);
    // Conversational flows come later in the dialogue issue; until then nothing makes
    // such a cursor, and one read back from a newer build is led as a live chat.
    case flow_kind::conversational_flow: return live_chat_step(at, what, ctx);
  }
  return live_chat_step(at, what, ctx);
}

} // namespace dynchat::engine
