// Strict round robin for meetings: the agent after the one who took the last meeting is
// asked first, every agent once, and an agent removed since leaves no hole.
#include <catch2/catch.hpp>

#include <map>

#include "dynchat/routing/meeting_turn.hpp"

using dynchat::routing::meeting_turns;
using order = std::vector<std::string>;

TEST_CASE("meeting turns go round in the agents' fixed order", "[routing][meetings]") {
  const order agents{"a1", "a2", "a3", "a4", "a5"};
  CHECK(meeting_turns(agents, "") == order{"a1", "a2", "a3", "a4", "a5"});   // nobody yet
  CHECK(meeting_turns(agents, "a3") == order{"a4", "a5", "a1", "a2", "a3"}); // three took the last: four is next
  CHECK(meeting_turns(agents, "a5") == order{"a1", "a2", "a3", "a4", "a5"}); // then back to one
  CHECK(meeting_turns({}, "a1").empty());
}

TEST_CASE("an agent who took the last meeting and was removed leaves no hole", "[routing][meetings]") {
  CHECK(meeting_turns({"a1", "a2", "a4"}, "a3") == order{"a4", "a1", "a2"});
  CHECK(meeting_turns({"a1", "a2"}, "a9") == order{"a1", "a2"}); // after the last one: round to the first
  CHECK(meeting_turns({"a5"}, "a1") == order{"a5"});
}

TEST_CASE("taking turns one after another visits every agent equally", "[routing][meetings]") {
  const order agents{"a1", "a2", "a3"};
  std::string last;
  std::map<std::string, int> taken;
  for (int i = 0; i < 30; ++i) {
    last = meeting_turns(agents, last).front();
    ++taken[last];
  }
  CHECK(taken == std::map<std::string, int>{{"a1", 10}, {"a2", 10}, {"a3", 10}});
}
