// Every limit in config is enforced and leaves other sessions alone.
#include "helpers.hpp"

#include <thread>

#include "support/raw_client.hpp"

using namespace dynchat::testing;

TEST_CASE("a frame over max_frame_bytes closes the socket with 1009", "[e2e][limits]") {
  daemon_process server({"--set", "websocket.max_frame_bytes=1024"});
  ws_client visitor, bystander;
  visitor_hello(visitor, server.port());
  visitor_hello(bystander, server.port());
  visitor.send({{"type", "say"}, {"client_msg_id", "big"}, {"text", std::string(2000, 'x')}});
  expect_close(visitor, 1009);
  bystander.send({{"type", "say"}, {"client_msg_id", "ok"}, {"text", "still here"}});
  CHECK(bystander.receive_type("ack"));
}

TEST_CASE("frames over the rate get rate_limited errors and a flood closes with 1008", "[e2e][limits]") {
  daemon_process server({"--set", "websocket.rate_per_second=5", "--set", "websocket.rate_burst=5",
                         "--set", "websocket.flood_strikes=10"});
  ws_client visitor;
  visitor_hello(visitor, server.port());
  std::this_thread::sleep_for(1100ms); // the hello's token is back
  // Over the burst but short of a flood: the extra messages are dropped with an error.
  for (int i = 0; i < 8; ++i) visitor.send({{"type", "typing"}});
  for (int i = 0; i < 3; ++i) expect_error(visitor, "rate_limited");
  std::this_thread::sleep_for(2s);
  visitor.send({{"type", "say"}, {"client_msg_id", "after"}, {"text", "calm again"}});
  CHECK(visitor.receive_type("ack"));
  // A flood: closed, with the reason.
  for (int i = 0; i < 40; ++i) visitor.send({{"type", "typing"}});
  auto closed = visitor.wait_closed();
  CHECK(closed.code == 1008);
  CHECK(closed.reason == "rate limit exceeded");
}

TEST_CASE("no hello in time closes with 1008", "[e2e][limits]") {
  daemon_process server({"--set", "websocket.hello_timeout=1"});
  ws_client visitor;
  REQUIRE(visitor.connect(server.port(), "/v1/visitor") == 0);
  expect_error(visitor, "hello_timeout");
  expect_close(visitor, 1008);
}

TEST_CASE("upgrades past max_connections get 503 and the rest keep working", "[e2e][limits]") {
  daemon_process server({"--set", "websocket.max_connections=2"});
  ws_client a, b, c;
  visitor_hello(a, server.port());
  visitor_hello(b, server.port());
  CHECK(upgrade_status(server.port(), "/v1/visitor") == 503);
  CHECK(c.connect(server.port(), "/v1/visitor") == -1);
  a.send({{"type", "say"}, {"client_msg_id", "1"}, {"text", "fine"}});
  CHECK(a.receive_type("ack"));
  CHECK(http_call(server.port(), "GET", "/healthz").status == 200);
  auto metrics = http_call(server.port(), "GET", "/metrics").body;
  CHECK(metrics.find("dynchat_upgrades_rejected_total 2") != std::string::npos);
}

namespace {

// The server's metrics say one socket of `kind` was dropped as a slow consumer and none
// of that kind is open.
bool slow_consumer_dropped(std::uint16_t port, const std::string& kind) {
  auto m = http_call(port, "GET", "/metrics").body;
  return m.find("dynchat_slow_consumers_closed_total 1") != std::string::npos &&
         m.find("dynchat_open_sockets{kind=\"" + kind + "\"} 0") != std::string::npos;
}

// `talker` sends 8000-byte messages, each batch acked, until the server drops the
// non-reading peer of `kind` (past both kernel socket buffers and then the server's
// queue), or ~48 MB have gone by. Returns whether it was dropped.
bool talk_until_peer_dropped(ws_client& talker, const json& say_template, std::uint16_t port, const std::string& kind) {
  const std::string text(8000, 'y');
  for (int batch = 0; batch < 300; ++batch) {
    for (int i = 0; i < 20; ++i) {
      json say = say_template;
      say["client_msg_id"] = std::to_string(batch * 20 + i);
      say["text"] = text;
      talker.send(say);
    }
    for (int i = 0; i < 20; ++i) REQUIRE(talker.receive_type("ack", 5s));
    if (batch % 10 == 9 && slow_consumer_dropped(port, kind)) return true;
  }
  for (int i = 0; i < 50; ++i) {
    if (slow_consumer_dropped(port, kind)) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

} // namespace

TEST_CASE("a visitor that does not read is closed at the outbound limit", "[e2e][limits]") {
  daemon_process server({"--set", "chat.max_in_flight=32", "--set", "websocket.max_outbound_frames=64", "--set", "websocket.max_outbound_bytes=524288",
                         "--set", "websocket.rate_per_second=100000", "--set", "websocket.rate_burst=100000"});
  auto [agent_id, token] = create_agent(server.port(), "Talker");
  ws_client agent;
  login_agent(agent, server.port(), token);
  ws_client visitor;
  auto conv = start_live_chat(agent, visitor, server.port())["conversation_id"];
  visitor.pause_reading();
  CHECK(talk_until_peer_dropped(agent, {{"type", "say"}, {"conversation_id", conv}}, server.port(), "visitor"));
  // The agent's socket is unaffected.
  agent.send({{"type", "say"}, {"conversation_id", conv}, {"client_msg_id", "last"}, {"text", "ok"}});
  CHECK(agent.receive_type("ack", 5s));
}

TEST_CASE("an agent's socket has its own outbound limit", "[e2e][limits]") {
  // The agent's queue is small here and the visitors' huge: only the agent limit can
  // drop the agent within the ~48 MB the visitor sends.
  daemon_process server({"--set", "websocket.agent_max_outbound_frames=64", "--set",
                         "websocket.agent_max_outbound_bytes=524288", "--set", "websocket.max_outbound_frames=1000000",
                         "--set", "websocket.max_outbound_bytes=1073741824", "--set",
                         "websocket.rate_per_second=100000", "--set", "websocket.rate_burst=100000"});
  auto [agent_id, token] = create_agent(server.port(), "Stalled");
  ws_client agent;
  login_agent(agent, server.port(), token);
  ws_client visitor;
  start_live_chat(agent, visitor, server.port());
  agent.pause_reading();
  CHECK(talk_until_peer_dropped(visitor, {{"type", "say"}}, server.port(), "agent"));
  visitor.send({{"type", "say"}, {"client_msg_id", "last"}, {"text", "still here"}});
  CHECK(visitor.receive_type("ack", 5s));
}

TEST_CASE("a live chat with no message for chat_idle_timeout ends", "[e2e][limits]") {
  daemon_process server({"--set", "chat.chat_idle_timeout=1"});
  auto [agent_id, token] = create_agent(server.port(), "Idle");
  ws_client agent, visitor;
  login_agent(agent, server.port(), token);
  start_live_chat(agent, visitor, server.port());
  auto ended = visitor.receive_type("ended", 5s);
  REQUIRE(ended);
  CHECK((*ended)["reason"] == "inactive");
  auto agent_ended = agent.receive_type("ended", 2s);
  REQUIRE(agent_ended);
  CHECK((*agent_ended)["reason"] == "inactive");
}

TEST_CASE("a conversation whose visitor never returns ends after the grace period", "[e2e][limits]") {
  daemon_process server({"--set", "chat.visitor_grace=1"});
  auto [agent_id, token] = create_agent(server.port(), "Waiting");
  ws_client agent;
  login_agent(agent, server.port(), token);
  auto visitor = std::make_unique<ws_client>();
  start_live_chat(agent, *visitor, server.port());
  visitor->drop();
  auto ended = agent.receive_type("ended", 5s);
  REQUIRE(ended);
  CHECK((*ended)["reason"] == "visitor_left");
}

TEST_CASE("a connection that stops answering pings is closed after the idle timeout", "[e2e][limits]") {
  daemon_process server({"--set", "websocket.idle_timeout=1"});
  ws_client visitor;
  visitor_hello(visitor, server.port());
  visitor.pause_reading();
  // The read already pending would still answer pings; let one more frame complete it.
  visitor.send({{"type", "say"}, {"client_msg_id", "last"}, {"text", "then silence"}});
  bool closed = false;
  for (int i = 0; i < 60 && !closed; ++i) {
    std::this_thread::sleep_for(100ms);
    closed = http_call(server.port(), "GET", "/metrics").body.find("dynchat_open_sockets{kind=\"visitor\"} 0") != std::string::npos;
  }
  CHECK(closed);
}

TEST_CASE("a conversation is open in at most chat.max_sockets_per_conversation sockets", "[e2e][limits]") {
  daemon_process server({"--set", "chat.max_sockets_per_conversation=3"});
  std::vector<std::unique_ptr<ws_client>> tabs;
  tabs.push_back(std::make_unique<ws_client>());
  const std::string resume = visitor_hello(*tabs.back(), server.port())["resume_token"];
  for (int i = 0; i < 2; ++i) {
    tabs.push_back(std::make_unique<ws_client>());
    visitor_hello(*tabs.back(), server.port(), ws_client::mode::json, {{"resume_token", resume}});
  }
  ws_client fourth;
  REQUIRE(fourth.connect(server.port(), "/v1/visitor") == 0);
  fourth.send({{"type", "hello"}, {"resume_token", resume}});
  expect_error(fourth, "busy");
  expect_close(fourth, 1008);
  // The open tabs are untouched; closing one makes room.
  tabs[0]->send({{"type", "say"}, {"client_msg_id", "1"}, {"text", "still here"}});
  CHECK(tabs[0]->receive_type("ack"));
  CHECK(tabs[1]->receive_type("message"));
  tabs[2]->close();
  std::this_thread::sleep_for(200ms);
  ws_client again;
  visitor_hello(again, server.port(), ws_client::mode::json, {{"resume_token", resume}});
}

TEST_CASE("an agent has at most chat.max_sockets_per_agent consoles open", "[e2e][limits]") {
  daemon_process server({"--set", "chat.max_sockets_per_agent=2"});
  auto token = create_agent(server.port(), "Ann").second;
  ws_client one, two, three;
  login_agent(one, server.port(), token);
  login_agent(two, server.port(), token);
  REQUIRE(three.connect(server.port(), "/v1/agent") == 0);
  three.send({{"type", "hello"}, {"token", token}});
  expect_error(three, "busy");
  expect_close(three, 1008);
  one.send({{"type", "status"}, {"status", "away"}});
  CHECK(two.receive_type("status")); // the consoles in use still work
}

TEST_CASE("one address holds at most server.max_connections_per_address connections, trusted proxies any number",
          "[e2e][limits]") {
  daemon_process server({"--set", "server.max_connections_per_address=3", "--set", "server.trusted_proxies=[\"127.0.0.20\"]"});
  std::vector<raw_client> held(3);
  for (auto& c : held) REQUIRE(c.connect(server.port(), "127.0.0.19"));
  std::this_thread::sleep_for(100ms); // accepted and counted
  raw_client over;
  REQUIRE(over.connect(server.port(), "127.0.0.19")); // the kernel accepts; the server closes it
  CHECK(over.wait_closed(2s));
  // Other addresses are served, and so is every connection of a trusted proxy.
  CHECK(http_call(server.port(), "GET", "/healthz").status == 200);
  std::vector<raw_client> proxied(6);
  for (auto& c : proxied) {
    REQUIRE(c.connect(server.port(), "127.0.0.20"));
    REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  for (auto& c : proxied) {
    auto answer = c.read_http(2s);
    REQUIRE(answer);
    CHECK(answer->status == 200);
  }
  // A connection given back is a place free again.
  held[0].close();
  std::this_thread::sleep_for(200ms);
  raw_client next;
  REQUIRE(next.connect(server.port(), "127.0.0.19"));
  REQUIRE(next.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto answer = next.read_http(2s);
  REQUIRE(answer);
  CHECK(answer->status == 200);
}

TEST_CASE("an agent's say past chat.max_in_flight is answered busy, never left unanswered", "[e2e][limits]") {
  daemon_process server({"--set", "chat.max_in_flight=1", "--set", "websocket.rate_per_second=100000", "--set",
                         "websocket.rate_burst=100000"});
  auto [agent_id, token] = create_agent(server.port(), "Quick");
  ws_client agent;
  login_agent(agent, server.port(), token);
  ws_client visitor;
  auto conv = start_live_chat(agent, visitor, server.port())["conversation_id"];
  // A burst may land wholly while the join notice is in flight (all busy): burst again,
  // a bounded number of times, until both answers were seen.
  constexpr int burst = 40;
  int acks = 0, busy = 0, sent = 0;
  for (int round = 0; round < 10 && (acks == 0 || busy == 0); ++round) {
    for (int i = 0; i < burst; ++i, ++sent)
      agent.send({{"type", "say"}, {"conversation_id", conv}, {"client_msg_id", "m" + std::to_string(sent)}, {"text", "x"}});
    while (acks + busy < sent) {
      auto f = agent.receive(5s);
      REQUIRE(f); // every say gets its answer
      if ((*f)["type"] == "ack") ++acks;
      else if ((*f)["type"] == "error" && (*f)["code"] == "busy") ++busy;
    }
  }
  CHECK(acks >= 1);
  CHECK(busy >= 1); // one in flight at a time: a burst must meet the bound
}
