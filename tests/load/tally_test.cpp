#include <catch2/catch.hpp>

#include "report_util.hpp"
#include "scenario.hpp"
#include "tally.hpp"

#include <set>

using namespace dynchat::load;

TEST_CASE("a tally survives its JSON dump and merges by adding", "[load]") {
  tally a, b;
  for (std::uint64_t v = 1; v <= 1000; ++v) a.visitor_ack.record(v * 10);
  b.visitor_ack.record(5'000'000);
  a.sent = 10, a.acked = 9, b.sent = 4, b.acked = 4;
  a.errors["rate_limited"] = 2;
  b.errors["rate_limited"] = 1, b.errors["busy"] = 1;
  a.acked_per_second = {5, 4};
  b.acked_per_second = {1, 1, 2};
  a.checker.acked("c", 1);
  b.checker.delivered("c", "agent", 1);
  a.agent_wait.record(2'000);
  b.agent_wait.record(3'000'000);

  const auto a2 = tally::from_json(a.to_json());
  CHECK(a2.visitor_ack.count() == 1000);
  CHECK(a2.visitor_ack.quantile(0.99) == a.visitor_ack.quantile(0.99));
  CHECK(a2.visitor_ack.max() == 10000);

  tally m = a2;
  m.merge(tally::from_json(b.to_json()));
  CHECK(m.sent == 14);
  CHECK(m.acked == 13);
  CHECK(m.errors.at("rate_limited") == 3);
  CHECK(m.errors.at("busy") == 1);
  CHECK(m.acked_per_second == std::vector<std::uint64_t>{6, 5, 2});
  CHECK(m.visitor_ack.max() == 5'000'000);
  CHECK(m.agent_wait.count() == 2);
  CHECK(m.agent_wait.max() == 3'000'000);
  CHECK(m.checker.lost() == 0);
  CHECK_THROWS_AS(tally::from_json(nlohmann::json::object()), std::invalid_argument);
}

TEST_CASE("the report flags loss and a missed SLO", "[load]") {
  scenario sc;
  tally t;
  t.checker.acked("c", 1);
  t.visitor_ack.record(20'000);
  auto r = make_report(t, sc, 2.0, {}, 1);
  CHECK(r["lost"] == 1);
  CHECK(r["ok"] == false);
  t.checker.delivered("c", "agent", 1);
  CHECK(make_report(t, sc, 2.0, {}, 1)["ok"] == true);
  auto slow = make_report(t, sc, 2.0, {.p99_ack_ms = 10}, 1); // p99 20 ms > 10 ms
  CHECK(slow["ok"] == false);
  REQUIRE(slow["slo_missed"].size() == 1);
  CHECK(slow["slo_missed"][0] == "p99 visitor ack above 10 ms");
  CHECK(make_report(t, sc, 2.0, {.p99_ack_ms = 25}, 1)["ok"] == true);
  t.timed_out = 1; // cut off by the time bound: never ok
  auto cut = make_report(t, sc, 2.0, {}, 1);
  CHECK(cut["ok"] == false);
  CHECK(cut["timed_out"] == true);
  CHECK(cut["not_ok_because"].size() == 1);
}

TEST_CASE("delivery and agent-wait bounds fail a run whose acks are fast", "[load]") {
  scenario sc;
  tally t;
  t.checker.acked("c", 1);
  t.checker.delivered("c", "agent", 1);
  for (int i = 0; i < 100; ++i) t.visitor_ack.record(1'000); // 1 ms acks
  for (int i = 0; i < 100; ++i) t.to_agent.record(5'000);
  for (int i = 0; i < 100; ++i) t.to_visitor.record(i < 95 ? 5'000 : 400'000); // a slow tail
  for (int i = 0; i < 100; ++i) t.agent_wait.record(2'000'000);                // 2 s to reach an agent
  const service_levels acks_only{.p99_ack_ms = 10};
  CHECK(make_report(t, sc, 2.0, acks_only, 1)["ok"] == true); // what acks alone cannot see

  auto late = make_report(t, sc, 2.0, {.p99_ack_ms = 10, .p99_delivery_ms = 100}, 1);
  CHECK(late["ok"] == false);
  CHECK(late["slo_missed"] == nlohmann::json::array({"p99 agent -> visitor delivery above 100 ms"}));

  auto queued = make_report(t, sc, 2.0, {.p99_delivery_ms = 500, .p99_agent_wait_ms = 1000}, 1);
  CHECK(queued["slo_missed"] == nlohmann::json::array({"p99 wait for an agent above 1000 ms"}));
  CHECK(queued["latency"].contains("agent_wait"));
  CHECK(make_report(t, sc, 2.0, {.p99_delivery_ms = 500, .p99_agent_wait_ms = 2500}, 1)["ok"] == true);
}

TEST_CASE("arrivals ramp up, hold and stop, and arrival_time inverts arrivals_due", "[load]") {
  scenario s;
  s.arrival_rate = 100;
  s.ramp_up_seconds = 2;
  s.duration_seconds = 10;
  CHECK(arrivals_due(s, 0) == 0);
  CHECK(arrivals_due(s, 1) == Approx(25));   // half-way up the ramp: 100 * 1 / (2 * 2)
  CHECK(arrivals_due(s, 2) == Approx(100));  // the ramp's area
  CHECK(arrivals_due(s, 3) == Approx(200));
  CHECK(arrivals_due(s, 60) == Approx(900)); // nothing after duration
  for (std::uint64_t n : {1ull, 25ull, 100ull, 101ull, 500ull, 900ull})
    CHECK(arrivals_due(s, arrival_time(s, n)) == Approx(static_cast<double>(n)));
  s.ramp_up_seconds = 0;
  CHECK(arrival_time(s, 50) == Approx(0.5));
}

TEST_CASE("a run split over processes keeps its totals", "[load]") {
  scenario s;
  s.arrival_rate = 300;
  s.max_concurrent = 1001;
  s.agents = 5;
  std::uint32_t concurrent = 0, agents = 0;
  for (unsigned i = 0; i < 3; ++i) {
    const auto part = share_of(s, 3, i);
    concurrent += part.max_concurrent;
    agents += part.agents;
  }
  CHECK(concurrent == 1001);
  CHECK(agents == 5);
  // Arrivals are dealt out in turn: every one goes to exactly one process.
  for (std::uint64_t due : {0ull, 1ull, 2ull, 3ull, 10ull, 1000ull}) {
    std::uint64_t total = 0;
    for (unsigned i = 0; i < 3; ++i) total += own_arrivals(due, 3, i);
    CHECK(total == due);
  }
  std::set<std::uint64_t> numbers;
  for (unsigned i = 0; i < 3; ++i)
    for (std::uint64_t k = 1; k <= own_arrivals(10, 3, i); ++k) numbers.insert(global_arrival(k, 3, i));
  CHECK(numbers == std::set<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  CHECK(share_of(s, 3, 0).agents == 2);
  CHECK(share_of(s, 3, 2).agents == 1);
  CHECK(share_of(s, 1, 0).arrival_rate == 300);
}

TEST_CASE("source addresses spread over 127.0.0.0/8, apart per process", "[load]") {
  const auto a = source_address_v4(0, 0, 64), b = source_address_v4(0, 1, 64), c = source_address_v4(1, 0, 64);
  for (auto addr : {a, b, c}) CHECK(addr >> 24 == 127);
  CHECK(a != b);
  CHECK(a != c);
  CHECK(source_address_v4(0, 64, 64) == a); // a process cycles through its own addresses
  CHECK((source_address_v4(0, 300, 1000) & 0xff) != 0);
  std::set<std::uint32_t> seen;
  for (unsigned p = 0; p < 4; ++p)
    for (std::uint64_t k = 0; k < 1000; ++k) seen.insert(source_address_v4(p, k, 1000));
  CHECK(seen.size() == 4000);
}

TEST_CASE("bookings survive the dump and a slot booked twice makes the run not ok", "[load]") {
  scenario sc;
  tally a, b;
  a.bookings_sent = 3, a.meetings_booked = 1, a.bookings_refused = 2, a.booked_slots = {"x:1"};
  b.bookings_sent = 1, b.meetings_booked = 1, b.no_times_left = 4, b.booked_slots = {"x:2"};
  a.meeting_booking.record(3'000);
  tally m = tally::from_json(a.to_json());
  m.merge(tally::from_json(b.to_json()));
  auto r = make_report(m, sc, 1.0, {}, 2);
  CHECK(r["bookings_sent"] == 4);
  CHECK(r["meetings_booked"] == 2);
  CHECK(r["bookings_refused"] == 2);
  CHECK(r["no_times_left"] == 4);
  CHECK(r["double_booked"] == 0);
  CHECK(r["latency"]["meeting_booking"]["count"] == 1);
  CHECK(r["ok"] == true);
  tally twice;
  twice.booked_slots = {"x:1"};
  m.merge(twice); // another process was told x:1 is its visitor's too
  r = make_report(m, sc, 1.0, {}, 2);
  CHECK(r["double_booked"] == 1);
  CHECK(r["ok"] == false);
}
