#include <fmt/format.h>

#include "flows.hpp"

namespace dynchat::engine {

std::string joined_text(const std::string& agent_name) { return fmt::format("{} joined the chat.", agent_name); }

std::string ended_text(const std::string& reason, const std::string& agent_name) {
  if (reason == "agent_ended") return fmt::format("{} ended the chat.", agent_name.empty() ? "The agent" : agent_name);
  if (reason == "inactive") return "The chat ended because nobody wrote for a while.";
  if (reason == "visitor_left") return "The visitor left the chat.";
  if (reason == "agent_removed") return "The agent is no longer available; the chat has ended.";
  return "The chat has ended.";
}

std::string in_line_text(std::uint32_t place) {
  return fmt::format("All our agents are busy right now. You are number {} in line; "
                     "an agent will join as soon as one is free.",
                     place);
}

void drop_timer(cursor& c, const std::string& name) {
  std::erase_if(c.timers, [&](const pending_timer& p) { return p.name == name; });
}

void agent_joined(cursor& c, std::vector<output>& outputs, const in::agent_joined& j) {
  c.completed = true;
  outputs.push_back(out::notice{joined_text(j.agent_name), j.agent_name});
}

} // namespace dynchat::engine
