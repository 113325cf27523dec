#include <catch2/catch.hpp>

#include "report_text.hpp"
#include "scenario.hpp"
#include "tally.hpp"

using namespace dynchat::load;

namespace {
bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
} // namespace

TEST_CASE("the final summary shows counts, latencies in ms, correctness and the verdict", "[load]") {
  scenario sc;
  sc.name = "chat";
  tally t;
  t.arrived = t.connected = t.finished = 2;
  t.sent = t.acked = 3;
  t.checker.acked("c", 1);
  for (int i = 0; i < 100; ++i) t.visitor_ack.record(20'000); // 20 ms
  t.agent_wait.record(1'500'000);
  t.errors["busy"] = 2;
  t.visitors_per_second = {1, 2, 0};
  const auto text = render_report(make_report(t, sc, 4.0, {.p99_ack_ms = 10}, 1));
  INFO(text);
  CHECK(has(text, "scenario chat, json encoding, 1 process(es), 4.0 s"));
  CHECK(has(text, "arrived 2  connected 2  finished 2"));
  CHECK(has(text, "held at once (peak) 2\n"));
  CHECK(has(text, "sent 3  acked 3  1 acked/s"));
  CHECK(has(text, "  visitor ack               100     20.0     20.0     20.0     20.0     20.0"));
  CHECK(has(text, "  wait for an agent           1"));
  CHECK_FALSE(has(text, "agent ack")); // nothing measured there: no line
  CHECK(has(text, "lost 1  duplicated 0  reordered 0"));
  CHECK(has(text, "errors        busy 2"));
  CHECK(has(text, "result        NOT OK: messages lost, duplicated or reordered; p99 visitor ack above 10 ms"));

  t.checker.delivered("c", "agent", 1);
  t.errors.clear();
  const auto fine = render_report(make_report(t, sc, 4.0, {}, 1));
  CHECK(has(fine, "errors        none"));
  CHECK(has(fine, "result        OK\n"));
}

TEST_CASE("the capacity summary lists each step with what broke it", "[load]") {
  const auto c = nlohmann::json::parse(R"({
    "scenario": "compare", "mode": "capacity", "slo_p99_ack_ms": 100, "slo_p99_delivery_ms": 250,
    "slo_p99_agent_wait_ms": 1000, "highest_arrival_rate_held": 125,
    "steps": [
      {"arrival_rate": 100, "ok": true, "acked_per_second": 7900, "p99_visitor_ack_us": 2300,
       "p99_visitor_to_agent_us": 2400, "p99_agent_to_visitor_us": 2500, "p99_agent_wait_us": 12000,
       "not_ok_because": []},
      {"arrival_rate": 125, "ok": true, "acked_per_second": 9800, "p99_visitor_ack_us": 4100,
       "not_ok_because": []},
      {"arrival_rate": 156.25, "ok": false, "acked_per_second": 11000, "p99_visitor_ack_us": 140000,
       "p99_visitor_to_agent_us": 300000, "p99_agent_to_visitor_us": 90000, "p99_agent_wait_us": 50000,
       "not_ok_because": ["p99 visitor ack above 100 ms", "p99 visitor -> agent delivery above 250 ms"]}
    ]})");
  const auto text = render_capacity(c);
  INFO(text);
  CHECK(has(text, "SLO p99 visitor ack 100 ms, delivery 250 ms, wait for an agent 1000 ms"));
  CHECK(has(text, "   1         100      7900       2.3       2.4       2.5      12.0  ok\n"));
  CHECK(has(text, "   2         125      9800       4.1       0.0       0.0       0.0  ok\n")); // older step: no delivery p99s
  CHECK(has(text, "   3         156     11000     140.0     300.0      90.0      50.0  missed: p99 visitor ack above 100 ms; "
                  "p99 visitor -> agent delivery above 250 ms\n"));
  CHECK(has(text, "highest arrival rate held: 125 visitors/s"));
  CHECK(has(render_capacity(nlohmann::json::parse(R"({"steps": [], "highest_arrival_rate_held": 0})")), "no step held"));
}
