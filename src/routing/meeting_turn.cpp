#include "dynchat/routing/meeting_turn.hpp"

#include <algorithm>

namespace dynchat::routing {

std::vector<std::string> meeting_turns(const std::vector<std::string>& agents, const std::string& last) {
  if (agents.empty()) return {};
  // The first agent after `last` in the fixed order: removed agents leave no hole.
  const auto next = std::upper_bound(agents.begin(), agents.end(), last) - agents.begin();
  const auto start = last.empty() ? 0 : static_cast<std::size_t>(next) % agents.size();
  std::vector<std::string> out;
  out.reserve(agents.size());
  for (std::size_t i = 0; i < agents.size(); ++i) out.push_back(agents[(start + i) % agents.size()]);
  return out;
}

} // namespace dynchat::routing
