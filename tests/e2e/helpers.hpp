#pragma once
// Shared steps of the end-to-end tests.
#include <catch2/catch.hpp>

#include <unistd.h>

#include "support/daemon_process.hpp"
#include "support/ws_client.hpp"

namespace dynchat::testing {

/// A data folder of this test process's own, empty.
inline std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("dynchat-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

/// The next message from the bot, skipping others, within `wait`.
inline json bot_says(ws_client& v, std::chrono::milliseconds wait = 5s) {
  for (auto until = std::chrono::steady_clock::now() + wait; std::chrono::steady_clock::now() < until;) {
    auto m = v.receive_type("message", wait);
    REQUIRE(m);
    if ((*m)["from"] == "bot") return *m;
  }
  FAIL("no bot message");
  return {};
}

inline json login_agent(ws_client& agent, std::uint16_t port, const std::string& token,
                        ws_client::mode m = ws_client::mode::json) {
  REQUIRE(agent.connect(port, "/v1/agent", m) == 0);
  agent.send({{"type", "hello"}, {"token", token}});
  auto welcome = agent.receive_type("welcome");
  REQUIRE(welcome);
  agent.send({{"type", "status"}, {"status", "available"}});
  REQUIRE(agent.receive_type("status"));
  return *welcome;
}

inline json visitor_hello(ws_client& visitor, std::uint16_t port, ws_client::mode m = ws_client::mode::json,
                          json extra = json::object()) {
  REQUIRE(visitor.connect(port, "/v1/visitor", m) == 0);
  json hello{{"type", "hello"}, {"page_url", "https://example.com/pricing"}};
  hello.update(extra);
  visitor.send(hello);
  auto welcome = visitor.receive_type("welcome");
  REQUIRE(welcome);
  return *welcome;
}

/// The next `error` frame carries `code`.
inline void expect_error(ws_client& client, const std::string& code, std::chrono::milliseconds wait = 3s) {
  auto err = client.receive_type("error", wait);
  REQUIRE(err);
  CHECK((*err)["code"] == code);
}

/// The server closes the socket with close code `code`.
inline void expect_close(ws_client& client, std::uint16_t code) {
  auto closed = client.wait_closed();
  CHECK(closed.closed);
  CHECK(closed.code == code);
}

/// A visitor arrives, the (only available) agent gets the offer and accepts it.
/// Returns the visitor's welcome once the agent has the `chat` frame.
inline json start_live_chat(ws_client& agent, ws_client& visitor, std::uint16_t port,
                                   ws_client::mode m = ws_client::mode::json) {
  auto welcome = visitor_hello(visitor, port, m);
  const auto& conv = welcome["conversation_id"];
  auto offer = agent.receive_type("offer");
  REQUIRE(offer);
  REQUIRE((*offer)["conversation_id"] == conv);
  agent.send({{"type", "accept"}, {"conversation_id", conv}});
  REQUIRE(agent.receive_type("chat"));
  return welcome;
}

} // namespace dynchat::testing
