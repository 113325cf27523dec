#include <catch2/catch.hpp>

#include "delivery_checker.hpp"

using dynchat::load::delivery_checker;

TEST_CASE("every acked message delivered once, in order: all clean", "[load]") {
  delivery_checker c;
  for (std::uint64_t s = 1; s <= 5; ++s) {
    c.acked("c1", s);
    c.delivered("c1", s % 2 ? "agent" : "visitor", s);
  }
  CHECK(c.acked_count() == 5);
  CHECK(c.lost() == 0);
  CHECK(c.duplicated() == 0);
  CHECK(c.reordered() == 0);
}

TEST_CASE("lost, duplicated and reordered deliveries are each counted", "[load]") {
  delivery_checker c;
  for (std::uint64_t s = 1; s <= 4; ++s) c.acked("c1", s);
  c.acked("c1", 4); // a repeat ack is still one message
  c.delivered("c1", "agent", 1);
  c.delivered("c1", "agent", 3);
  c.delivered("c1", "agent", 3); // duplicate
  c.delivered("c1", "agent", 2); // after 3: reordered
  CHECK(c.acked_count() == 4);
  CHECK(c.lost() == 1); // seq 4
  CHECK(c.duplicated() == 1);
  CHECK(c.reordered() == 1);
}

TEST_CASE("conversations and receivers are tracked apart", "[load]") {
  delivery_checker c;
  c.acked("a", 1);
  c.acked("b", 1);
  c.delivered("a", "agent", 1);
  c.delivered("b", "visitor", 1);
  c.delivered("a", "visitor", 2); // other receiver, its own order
  CHECK(c.lost() == 0);
  CHECK(c.reordered() == 0);
}

TEST_CASE("checkers merged across processes: acked in one, delivered in another", "[load]") {
  delivery_checker visitors_side, agents_side;
  for (std::uint64_t s = 1; s <= 3; ++s) visitors_side.acked("c1", s);
  agents_side.delivered("c1", "agent", 1);
  agents_side.delivered("c1", "agent", 2);
  auto merged = delivery_checker::from_json(visitors_side.to_json()); // through the wire format
  merged.merge(delivery_checker::from_json(agents_side.to_json()));
  CHECK(merged.acked_count() == 3);
  CHECK(merged.lost() == 1); // seq 3 never reached the agent
  CHECK(visitors_side.lost() == 3); // alone, one process cannot tell
}

TEST_CASE("a seq delivered in two processes is a duplicate, and counts survive the dump", "[load]") {
  delivery_checker a, b;
  a.acked("c1", 1);
  a.delivered("c1", "agent", 1);
  a.delivered("c1", "agent", 1); // a duplicate seen inside a
  b.delivered("c1", "agent", 1); // and again in b
  a.merge(delivery_checker::from_json(b.to_json()));
  CHECK(a.duplicated() == 2);
  CHECK(a.lost() == 0);
  CHECK_THROWS_AS(delivery_checker::from_json(nlohmann::json{{"streams", 3}}), std::invalid_argument);
  auto dump = a.to_json();
  dump["streams"]["c1"]["acked"] = {{5, 2}}; // a run that ends before it starts
  CHECK_THROWS_AS(delivery_checker::from_json(dump), std::invalid_argument);
  dump["streams"]["c1"]["acked"] = {{5}};
  CHECK_THROWS_AS(delivery_checker::from_json(dump), std::invalid_argument);
}

TEST_CASE("visitor and agent seqs interleave across processes and merge back whole", "[load]") {
  delivery_checker visitor_proc, agent_proc;
  for (std::uint64_t s = 1; s <= 100; ++s) {
    // Odd seqs are the visitor's messages, even ones the agent's: each side acks its own
    // and is delivered the other's.
    (s % 2 ? visitor_proc : agent_proc).acked("c1", s);
    if (s != 40) (s % 2 ? agent_proc : visitor_proc).delivered("c1", s % 2 ? "agent" : "visitor", s);
  }
  auto merged = delivery_checker::from_json(visitor_proc.to_json());
  merged.merge(delivery_checker::from_json(agent_proc.to_json()));
  CHECK(merged.acked_count() == 100);
  CHECK(merged.lost() == 1); // seq 40
  CHECK(merged.duplicated() == 0);
  CHECK(merged.reordered() == 0);
}
