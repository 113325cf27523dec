#pragma once
// Strict round robin over agents in their fixed order: after the agent who took the
// last conversation comes the next one, wrapping; ineligible agents are skipped.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dynchat::routing {

struct agent_slot {
  std::string id;
  bool available = false;    // status == available and connected
  std::uint32_t load = 0;    // open chats plus pending offers
  std::uint32_t capacity = 5;
};

inline bool eligible(const agent_slot& a) { return a.available && a.load < a.capacity; }

/// Index of the next eligible agent after `last` (an index into order, or none to
/// start at the front), skipping ids in `exclude`. None when nobody can take it.
std::optional<std::size_t> next_agent(const std::vector<agent_slot>& order, std::optional<std::size_t> last,
                                      const std::vector<std::string>& exclude);

} // namespace dynchat::routing
