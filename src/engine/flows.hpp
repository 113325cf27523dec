#pragma once
// The flows the engine dispatches to, by the cursor's flow kind. Internal to src/engine.
#include "dynchat/engine/step.hpp"

namespace dynchat::engine {

step_result live_chat_step(const cursor& at, const input& what, const context& ctx);
step_result dialogue_step(const cursor& at, const input& what, const context& ctx);
/// Times an agent shared, and their booking: nullopt when `what` is not about them.
std::optional<step_result> shared_slots_step(const cursor& at, const input& what, const context& ctx);
std::optional<std::string> shared_slot_label(const cursor& at, const std::string& slot_id, const context& ctx);

// The system lines of the live-chat lifecycle, shared by every flow that hands over.
std::string joined_text(const std::string& agent_name);
std::string ended_text(const std::string& reason, const std::string& agent_name);
std::string in_line_text(std::uint32_t place);

// Inputs every flow that hands over takes alike.
void drop_timer(cursor& c, const std::string& name);
void agent_joined(cursor& c, std::vector<output>& outputs, const in::agent_joined& j);

} // namespace dynchat::engine
