#include "dynchat/routing/round_robin.hpp"

#include <algorithm>

namespace dynchat::routing {

std::optional<std::size_t> next_agent(const std::vector<agent_slot>& order, std::optional<std::size_t> last,
                                      const std::vector<std::string>& exclude) {
  const std::size_t n = order.size();
  if (n == 0) return std::nullopt;
  const std::size_t start = last ? (*last + 1) % n : 0;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (start + k) % n;
    const auto& a = order[i];
    if (eligible(a) && std::find(exclude.begin(), exclude.end(), a.id) == exclude.end()) return i;
  }
  return std::nullopt;
}

} // namespace dynchat::routing
