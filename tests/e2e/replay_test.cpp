// Long conversations reach clients whole: replays are paced by the socket's queue,
// agents get the newest page first and older pages on request.
#include "helpers.hpp"

#include <thread>

using namespace dynchat::testing;

namespace {

// Small outbound queues, no rate limits: a long conversation is far bigger than a queue.
std::vector<std::string> small_queues() {
  return {"--set", "websocket.max_outbound_frames=64", "--set", "websocket.max_outbound_bytes=262144",
          "--set", "websocket.agent_max_outbound_frames=64", "--set", "websocket.agent_max_outbound_bytes=262144",
          "--set", "websocket.rate_per_second=100000", "--set", "websocket.rate_burst=100000",
          "--set", "chat.max_in_flight=32"};
}

// Sends n messages of `size` bytes, 20 unacked at a time (under chat.max_in_flight);
// returns the last seq.
std::uint64_t fill(ws_client& visitor, int n, std::size_t size) {
  const std::string text(size, 'r');
  std::uint64_t last = 0;
  for (int sent = 0; sent < n;) {
    const int batch = std::min(20, n - sent);
    for (int i = 0; i < batch; ++i)
      visitor.send({{"type", "say"}, {"client_msg_id", "m" + std::to_string(sent + i)}, {"text", text}});
    for (int i = 0; i < batch; ++i) {
      auto ack = visitor.receive_type("ack", 10s);
      REQUIRE(ack);
      last = (*ack)["seq"];
    }
    sent += batch;
  }
  return last;
}

std::uint64_t metric_slow_consumers(std::uint16_t port) {
  auto body = http_call(port, "GET", "/metrics").body;
  auto p = body.find("\ndynchat_slow_consumers_closed_total ");
  return std::stoull(body.substr(p + 37));
}

} // namespace

TEST_CASE("a visitor resuming into thousands of stored messages gets them all, in order, without being dropped",
          "[e2e][replay]") {
  daemon_process server{small_queues()};
  auto visitor = std::make_unique<ws_client>();
  auto welcome = visitor_hello(*visitor, server.port());
  const auto last = fill(*visitor, 600, 4000); // 2.4 MB: ten times the queue's byte limit
  visitor->close();
  ws_client again;
  visitor_hello(again, server.port(), ws_client::mode::json, {{"resume_token", welcome["resume_token"]}, {"last_seq", 0}});
  std::uint64_t expect = 1;
  while (expect <= last) {
    auto m = again.receive_type("message", 5s);
    REQUIRE(m);
    REQUIRE((*m)["seq"] == expect);
    ++expect;
  }
  CHECK(metric_slow_consumers(server.port()) == 0);
  // Live again after the replay.
  again.send({{"type", "say"}, {"client_msg_id", "after"}, {"text", "done"}});
  auto ack = again.receive_type("ack");
  REQUIRE(ack);
  CHECK((*ack)["seq"] == last + 1);
}

TEST_CASE("an agent taking a long conversation gets its newest page, then older pages on request", "[e2e][replay]") {
  daemon_process server{small_queues()};
  auto [id, token] = create_agent(server.port(), "Reader", 1);
  ws_client visitor;
  auto conv = visitor_hello(visitor, server.port())["conversation_id"].get<std::string>();
  const auto last = fill(visitor, 300, 4000); // while nobody is there: 1.2 MB before the agent joins
  ws_client agent;
  login_agent(agent, server.port(), token);
  auto offer = agent.receive_type("offer");
  REQUIRE(offer);
  CHECK((*offer)["has_more"] == true);
  CHECK((*offer)["transcript"].size() <= 50);
  agent.send({{"type", "accept"}, {"conversation_id", conv}});
  auto chat = agent.receive_type("chat");
  REQUIRE(chat);
  CHECK((*chat)["has_more"] == true);
  auto newest = (*chat)["transcript"];
  REQUIRE_FALSE(newest.empty());
  CHECK(newest.back()["seq"].get<std::uint64_t>() >= last); // the join notice may follow
  // Page back to the first message.
  std::uint64_t before = newest.front()["seq"];
  std::uint64_t seen = newest.size();
  bool more = true;
  while (more) {
    agent.send({{"type", "history"}, {"conversation_id", conv}, {"before_seq", before}, {"limit", 200}});
    auto page = agent.receive_type("history");
    REQUIRE(page);
    auto& t = (*page)["transcript"];
    REQUIRE_FALSE(t.empty());
    CHECK(t.back()["seq"].get<std::uint64_t>() == before - 1); // no gap, no overlap
    before = t.front()["seq"];
    seen += t.size();
    more = (*page)["has_more"];
  }
  CHECK(before == 1);
  CHECK(seen >= last);
  CHECK(metric_slow_consumers(server.port()) == 0);
}

TEST_CASE("an agent resuming a long chat from last_seq 0 gets every message, paced", "[e2e][replay]") {
  daemon_process server{small_queues()};
  auto [id, token] = create_agent(server.port(), "Reader", 1);
  auto agent = std::make_unique<ws_client>();
  login_agent(*agent, server.port(), token);
  ws_client visitor;
  const std::string conv = start_live_chat(*agent, visitor, server.port())["conversation_id"];
  agent->drop();
  agent.reset();
  const auto last = fill(visitor, 400, 4000);
  ws_client back;
  REQUIRE(back.connect(server.port(), "/v1/agent") == 0);
  back.send({{"type", "hello"}, {"token", token}, {"last_seq", {{conv, 0}}}});
  REQUIRE(back.receive_type("welcome"));
  std::uint64_t expect = 1;
  while (expect <= last) {
    auto m = back.receive_type("message", 5s);
    REQUIRE(m);
    REQUIRE((*m)["seq"] == expect);
    ++expect;
  }
  CHECK(metric_slow_consumers(server.port()) == 0);
}

TEST_CASE("a visitor can page back through history too", "[e2e][replay]") {
  daemon_process server{small_queues()};
  ws_client visitor;
  visitor_hello(visitor, server.port());
  const auto last = fill(visitor, 30, 10);
  visitor.send({{"type", "history"}, {"before_seq", last}, {"limit", 10}});
  auto page = visitor.receive_type("history");
  REQUIRE(page);
  REQUIRE((*page)["transcript"].size() == 10);
  CHECK((*page)["transcript"].front()["seq"] == last - 10);
  CHECK((*page)["has_more"] == true);
  visitor.send({{"type", "history"}, {"limit", 500}});
  expect_error(visitor, "bad_value");
}
