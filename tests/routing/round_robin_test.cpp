#include <catch2/catch.hpp>

#include "dynchat/routing/round_robin.hpp"

using namespace dynchat::routing;

namespace {
std::vector<agent_slot> five() {
  std::vector<agent_slot> v;
  for (int i = 1; i <= 5; ++i) v.push_back({"a" + std::to_string(i), true, 0, 5});
  return v;
}
} // namespace

TEST_CASE("strict order: after the agent who took the last comes the next, wrapping", "[routing]") {
  auto agents = five();
  CHECK(next_agent(agents, std::nullopt, {}) == 0u);
  CHECK(next_agent(agents, 2u, {}) == 3u); // agent 3 took the last -> agent 4
  CHECK(next_agent(agents, 4u, {}) == 0u); // agent 5 -> back to agent 1
}

TEST_CASE("ineligible agents are skipped: unavailable or at capacity", "[routing]") {
  auto agents = five();
  agents[3].available = false;
  agents[4].load = 5;
  CHECK(next_agent(agents, 2u, {}) == 0u);
  agents[4].capacity = 6;
  CHECK(next_agent(agents, 2u, {}) == 4u);
}

TEST_CASE("agents already tried for this conversation are excluded", "[routing]") {
  auto agents = five();
  CHECK(next_agent(agents, 0u, {"a2", "a3"}) == 3u);
  CHECK_FALSE(next_agent(agents, 0u, {"a1", "a2", "a3", "a4", "a5"}));
}

TEST_CASE("nobody eligible, or nobody at all", "[routing]") {
  CHECK_FALSE(next_agent({}, std::nullopt, {}));
  auto agents = five();
  for (auto& a : agents) a.available = false;
  CHECK_FALSE(next_agent(agents, 1u, {}));
}

TEST_CASE("a full round hands one conversation to each agent in turn", "[routing]") {
  auto agents = five();
  std::optional<std::size_t> last;
  std::vector<std::size_t> picks;
  for (int i = 0; i < 10; ++i) {
    last = next_agent(agents, last, {});
    REQUIRE(last);
    agents[*last].load++;
    picks.push_back(*last);
  }
  CHECK(picks == std::vector<std::size_t>{0, 1, 2, 3, 4, 0, 1, 2, 3, 4});
}
