#include "flows.hpp"

namespace dynchat::engine {

step_result step(const cursor& at, const input& what, const context& ctx) {
  switch (at.flow) {
    case flow_kind::live_chat: return live_chat_step(at, what, ctx);
    // Dialogues and conversational flows arrive with the dialogue issue; until then
    // nothing creates such a cursor, and one read back from a newer build is led the
    // way every conversation is today.
    case flow_kind::dialogue:
    case flow_kind::conversational_flow: return live_chat_step(at, what, ctx);
  }
  return live_chat_step(at, what, ctx);
}

} // namespace dynchat::engine
