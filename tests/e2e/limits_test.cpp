// Every limit in config is enforced and leaves other sessions alone.
#include "helpers.hpp"

#include <thread>

using namespace dynchat::testing;

TEST_CASE("a frame over max_frame_bytes closes the socket with 1009", "[e2e][limits]") {
  daemon_process server({"--set", "websocket.max_frame_bytes=1024"});
  ws_client visitor, bystander;
  visitor_hello(visitor, server.port());
  visitor_hello(bystander, server.port());
  visitor.send({{"type", "say"}, {"client_msg_id", "big"}, {"text", std::string(2000, 'x')}});
  auto closed = visitor.wait_closed();
  CHECK(closed.closed);
  CHECK(closed.code == 1009);
  bystander.send({{"type", "say"}, {"client_msg_id", "ok"}, {"text", "still here"}});
  CHECK(bystander.receive_type("ack"));
}

TEST_CASE("a flood gets rate_limited errors, then close 1008", "[e2e][limits]") {
  daemon_process server({"--set", "websocket.rate_per_second=5", "--set", "websocket.rate_burst=5",
                         "--set", "websocket.flood_strikes=10"});
  ws_client visitor;
  visitor_hello(visitor, server.port());
  for (int i = 0; i < 40; ++i) visitor.send({{"type", "typing"}});
  auto err = visitor.receive_type("error");
  REQUIRE(err);
  CHECK((*err)["code"] == "rate_limited");
  auto closed = visitor.wait_closed();
  CHECK(closed.closed);
  CHECK(closed.code == 1008);
}

TEST_CASE("no hello in time closes with 1008", "[e2e][limits]") {
  daemon_process server({"--set", "websocket.hello_timeout=1"});
  ws_client visitor;
  REQUIRE(visitor.connect(server.port(), "/v1/visitor") == 0);
  auto err = visitor.receive_type("error", 3s);
  REQUIRE(err);
  CHECK((*err)["code"] == "hello_timeout");
  auto closed = visitor.wait_closed();
  CHECK(closed.code == 1008);
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

TEST_CASE("a client that does not read is closed at the outbound limit", "[e2e][limits]") {
  daemon_process server({"--set", "websocket.max_outbound_frames=64", "--set", "websocket.max_outbound_bytes=524288",
                         "--set", "websocket.rate_per_second=100000", "--set", "websocket.rate_burst=100000"});
  auto [agent_id, token] = create_agent(server.port(), "Talker");
  ws_client agent;
  login_agent(agent, server.port(), token);
  ws_client visitor;
  auto conv = start_live_chat(agent, visitor, server.port())["conversation_id"];
  visitor.pause_reading();
  auto visitor_closed = [&] {
    auto m = http_call(server.port(), "GET", "/metrics").body;
    return m.find("dynchat_slow_consumers_closed_total 1") != std::string::npos &&
           m.find("dynchat_open_sockets{kind=\"visitor\"} 0") != std::string::npos;
  };
  // The agent reads everything it is sent; only the visitor lets its backlog grow,
  // past both kernel socket buffers and then the server's queue.
  const std::string text(8000, 'y');
  bool closed = false;
  for (int batch = 0; batch < 300 && !closed; ++batch) {
    for (int i = 0; i < 20; ++i)
      agent.send({{"type", "say"}, {"conversation_id", conv}, {"client_msg_id", std::to_string(batch * 20 + i)}, {"text", text}});
    for (int i = 0; i < 20; ++i) REQUIRE(agent.receive_type("ack", 5s));
    if (batch % 10 == 9) closed = visitor_closed();
  }
  for (int i = 0; i < 50 && !closed; ++i) {
    std::this_thread::sleep_for(100ms);
    closed = visitor_closed();
  }
  CHECK(closed);
  // The agent's socket is unaffected.
  agent.send({{"type", "say"}, {"conversation_id", conv}, {"client_msg_id", "last"}, {"text", "ok"}});
  CHECK(agent.receive_type("ack", 5s));
}

TEST_CASE("an agent's socket has its own outbound limit", "[e2e][limits]") {
  // Visitors keep the default queue; the agent's is made small here to see it apply.
  daemon_process server({"--set", "websocket.agent_max_outbound_frames=64", "--set",
                         "websocket.agent_max_outbound_bytes=524288", "--set", "websocket.rate_per_second=100000",
                         "--set", "websocket.rate_burst=100000"});
  auto [agent_id, token] = create_agent(server.port(), "Stalled");
  ws_client agent;
  login_agent(agent, server.port(), token);
  ws_client visitor;
  start_live_chat(agent, visitor, server.port());
  agent.pause_reading();
  auto agent_closed = [&] {
    auto m = http_call(server.port(), "GET", "/metrics").body;
    return m.find("dynchat_slow_consumers_closed_total 1") != std::string::npos &&
           m.find("dynchat_open_sockets{kind=\"agent\"} 0") != std::string::npos;
  };
  const std::string text(8000, 'z');
  bool closed = false;
  for (int batch = 0; batch < 300 && !closed; ++batch) {
    for (int i = 0; i < 20; ++i)
      visitor.send({{"type", "say"}, {"client_msg_id", std::to_string(batch * 20 + i)}, {"text", text}});
    for (int i = 0; i < 20; ++i) REQUIRE(visitor.receive_type("ack", 5s));
    if (batch % 10 == 9) closed = agent_closed();
  }
  for (int i = 0; i < 50 && !closed; ++i) {
    std::this_thread::sleep_for(100ms);
    closed = agent_closed();
  }
  CHECK(closed);
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
