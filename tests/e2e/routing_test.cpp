// Routing as agents and visitors feel it, against a real dynchatd: capacity under an
// instant accepter, declines, and agents going away.
#include "helpers.hpp"
#include "support/raw_client.hpp"

#include <set>
#include <thread>

using namespace dynchat::testing;

namespace {

// Lifts the per-connection and per-address limits so tests can open many chats at once.
std::vector<std::string> busy_site(std::vector<std::string> more = {}) {
  std::vector<std::string> args{"--set", "chat.new_conversations_burst=1000", "--set", "websocket.rate_per_second=1000",
                                "--set", "websocket.rate_burst=1000"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

json routing(std::uint16_t port) { return http_call(port, "GET", "/v1/routing", {}, admin_token).json_body(); }

} // namespace

TEST_CASE("an agent who accepts every offer at once never holds more than max_chats", "[e2e][routing]") {
  daemon_process server{busy_site()};
  auto [agent_id, token] = create_agent(server.port(), "Quick", 2);
  ws_client agent;
  login_agent(agent, server.port(), token);
  std::vector<std::unique_ptr<ws_client>> visitors;
  for (int i = 0; i < 30; ++i) {
    visitors.push_back(std::make_unique<ws_client>());
    REQUIRE(visitors.back()->connect(server.port(), "/v1/visitor") == 0);
  }
  for (auto& v : visitors) v->send({{"type", "hello"}, {"page_url", "https://example.com"}});
  // Accept whatever comes, the moment it comes, for a while.
  int chats = 0, refused = 0;
  for (auto until = std::chrono::steady_clock::now() + 3s; std::chrono::steady_clock::now() < until;) {
    auto f = agent.receive(200ms);
    if (!f) continue;
    if ((*f)["type"] == "offer") agent.send({{"type", "accept"}, {"conversation_id", (*f)["conversation_id"]}});
    if ((*f)["type"] == "chat") ++chats;
    if ((*f)["type"] == "error") ++refused;
  }
  CHECK(chats == 2);
  CHECK(refused == 0); // it was never offered more than it could take
  auto r = routing(server.port());
  CHECK(r["order"][0]["active"] == 2);
  CHECK(r["order"][0]["offers"] == 0);
  CHECK(r["queue"] == 28);
}

TEST_CASE("accept, accept again and decline in one write give one chat and no withdrawal", "[e2e][routing]") {
  daemon_process server;
  auto [agent_id, token] = create_agent(server.port(), "Hasty");
  raw_client agent;
  REQUIRE(agent.connect(server.port()));
  REQUIRE(agent.send(upgrade_request("/v1/agent") + client_frame(true, 0x1, json{{"type", "hello"}, {"token", token}}.dump()) +
                     client_frame(true, 0x1, R"({"type":"status","status":"available"})")));
  REQUIRE(agent.read_http(3s));
  auto next_frame = [&](std::chrono::milliseconds timeout) -> std::optional<json> {
    auto f = agent.read_frame(timeout);
    if (!f) return std::nullopt;
    return json::parse(f->payload, nullptr, false);
  };
  ws_client visitor;
  auto conv = visitor_hello(visitor, server.port())["conversation_id"].get<std::string>();
  bool offered = false;
  for (auto f = next_frame(3s); f && !offered; f = offered ? std::nullopt : next_frame(3s)) offered = (*f)["type"] == "offer";
  REQUIRE(offered);
  // All three reach the agent's actor before the router has answered the first.
  const auto accept = json{{"type", "accept"}, {"conversation_id", conv}}.dump();
  const auto decline = json{{"type", "decline"}, {"conversation_id", conv}}.dump();
  REQUIRE(agent.send(client_frame(true, 0x1, accept) + client_frame(true, 0x1, accept) + client_frame(true, 0x1, decline)));
  int chats = 0, busy = 0, withdrawn = 0, other_errors = 0;
  for (auto f = next_frame(1s); f; f = next_frame(1s)) {
    if ((*f)["type"] == "chat") ++chats;
    if ((*f)["type"] == "offer_withdrawn") ++withdrawn;
    if ((*f)["type"] == "error") ((*f)["code"] == "busy" ? busy : other_errors)++;
  }
  CHECK(chats == 1);
  CHECK(withdrawn == 0);
  // Usually both reach the agent while the router decides (busy); on a loaded machine the
  // chat may be there first (offer_expired). Either way one error each, nothing withdrawn.
  CHECK(busy + other_errors == 2);
  CHECK(routing(server.port())["order"][0]["active"] == 1);
  int joined_notices = 0;
  for (auto f = visitor.receive(500ms); f; f = visitor.receive(500ms))
    if ((*f)["type"] == "message" && (*f)["from"] == "system" && (*f)["text"].get<std::string>().find("joined") != std::string::npos)
      ++joined_notices;
  CHECK(joined_notices == 1);
}

TEST_CASE("a decline passes the chat to the next agent at once and leaves the decliner available", "[e2e][routing]") {
  daemon_process server;
  auto [id_a, token_a] = create_agent(server.port(), "A");
  auto [id_b, token_b] = create_agent(server.port(), "B");
  ws_client a, b, visitor;
  login_agent(a, server.port(), token_a);
  login_agent(b, server.port(), token_b);
  auto conv = visitor_hello(visitor, server.port())["conversation_id"];
  auto offer = a.receive_type("offer");
  REQUIRE(offer);
  const auto declined_at = std::chrono::steady_clock::now();
  a.send({{"type", "decline"}, {"conversation_id", conv}});
  auto withdrawn = a.receive_type("offer_withdrawn");
  REQUIRE(withdrawn);
  CHECK((*withdrawn)["reason"] == "declined");
  auto to_b = b.receive_type("offer", 2s);
  REQUIRE(to_b);
  CHECK((*to_b)["conversation_id"] == conv);
  CHECK(std::chrono::steady_clock::now() - declined_at < 1s);
  CHECK_FALSE(a.receive_type("status", 300ms)); // not set away
  CHECK(routing(server.port())["order"][0]["available"] == true);
}

TEST_CASE("alone, a decliner gets the chat again after the cool-down, and later visitors are not stuck behind it",
          "[e2e][routing]") {
  daemon_process server{{"--set", "chat.decline_cooldown=2"}};
  auto [id, token] = create_agent(server.port(), "Solo", 2);
  ws_client agent, first, second;
  login_agent(agent, server.port(), token);
  auto c1 = visitor_hello(first, server.port())["conversation_id"];
  REQUIRE(agent.receive_type("offer"));
  agent.send({{"type", "decline"}, {"conversation_id", c1}});
  REQUIRE(agent.receive_type("offer_withdrawn"));
  auto c2 = visitor_hello(second, server.port())["conversation_id"];
  auto next = agent.receive_type("offer", 1s);
  REQUIRE(next);
  CHECK((*next)["conversation_id"] == c2); // the free agent takes the next visitor
  auto again = agent.receive_type("offer", 4s);
  REQUIRE(again);
  CHECK((*again)["conversation_id"] == c1); // after the cool-down, back to the only agent there is
}

TEST_CASE("an agent who goes away hands its offer on at once to an agent who becomes available", "[e2e][routing]") {
  daemon_process server;
  auto [id_a, token_a] = create_agent(server.port(), "A");
  auto [id_b, token_b] = create_agent(server.port(), "B");
  ws_client a, visitor;
  login_agent(a, server.port(), token_a);
  auto conv = visitor_hello(visitor, server.port())["conversation_id"];
  REQUIRE(a.receive_type("offer"));
  a.send({{"type", "status"}, {"status", "away"}});
  auto withdrawn = a.receive_type("offer_withdrawn");
  REQUIRE(withdrawn);
  CHECK((*withdrawn)["reason"] == "agent_unavailable");
  ws_client b;
  const auto arrived = std::chrono::steady_clock::now();
  login_agent(b, server.port(), token_b);
  auto offer = b.receive_type("offer", 2s);
  REQUIRE(offer);
  CHECK((*offer)["conversation_id"] == conv);
  CHECK(std::chrono::steady_clock::now() - arrived < 1s);
}
