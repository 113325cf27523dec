#include "helpers.hpp"

using namespace dynchat::testing;

TEST_CASE("REST refuses a missing or wrong admin token", "[e2e][auth]") {
  daemon_process server;
  CHECK(http_call(server.port(), "GET", "/v1/agents").status == 401);
  CHECK(http_call(server.port(), "GET", "/v1/agents", {}, "wrong").status == 401);
  CHECK(http_call(server.port(), "GET", "/v1/conversations", {}, "wrong").status == 401);
  CHECK(http_call(server.port(), "POST", "/v1/agents", R"({"name":"x"})").status == 401);
  CHECK(http_call(server.port(), "GET", "/v1/agents", {}, admin_token).status == 200);
  // /healthz and /metrics are open, for probes.
  CHECK(http_call(server.port(), "GET", "/healthz").status == 200);
}

TEST_CASE("the agent socket refuses a wrong token with an error and close 1008", "[e2e][auth]") {
  daemon_process server;
  ws_client agent;
  REQUIRE(agent.connect(server.port(), "/v1/agent") == 0);
  agent.send({{"type", "hello"}, {"token", "not-a-token"}});
  auto err = agent.receive_type("error");
  REQUIRE(err);
  CHECK((*err)["code"] == "unauthorized");
  expect_close(agent, 1008);
}

TEST_CASE("a deleted agent's token stops working and its socket is closed", "[e2e][auth]") {
  daemon_process server;
  auto [id, token] = create_agent(server.port(), "Gone");
  ws_client agent, visitor;
  login_agent(agent, server.port(), token);
  start_live_chat(agent, visitor, server.port());
  CHECK(http_call(server.port(), "DELETE", "/v1/agents/" + id, {}, admin_token).status == 204);
  expect_close(agent, 1008);
  auto ended = visitor.receive_type("ended");
  REQUIRE(ended); // the open chat ends with its agent
  CHECK((*ended)["reason"] == "agent_removed");
  ws_client again;
  REQUIRE(again.connect(server.port(), "/v1/agent") == 0);
  again.send({{"type", "hello"}, {"token", token}});
  auto err = again.receive_type("error");
  REQUIRE(err);
  CHECK((*err)["code"] == "unauthorized");
}

TEST_CASE("an agent cannot write into a conversation it does not hold", "[e2e][auth]") {
  daemon_process server;
  auto [id, token] = create_agent(server.port(), "Nosy");
  ws_client agent, visitor;
  login_agent(agent, server.port(), token);
  auto conv = visitor_hello(visitor, server.port())["conversation_id"];
  REQUIRE(agent.receive_type("offer"));
  agent.send({{"type", "say"}, {"conversation_id", conv}, {"client_msg_id", "x"}, {"text", "sneaky"}});
  auto err = agent.receive_type("error");
  REQUIRE(err);
  CHECK((*err)["code"] == "not_assigned");
}
