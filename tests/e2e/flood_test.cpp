// Floods and exhaustion: what a hostile client sends below the protocol, and what the
// server must still do (answer health checks, serve everyone else, log without drowning).
#include "helpers.hpp"

#include <regex>
#include <thread>

#include "support/raw_client.hpp"

using namespace dynchat::testing;

namespace {

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

std::uint64_t metric(std::uint16_t port, const std::string& name) {
  auto body = http_call(port, "GET", "/metrics").body;
  std::smatch m;
  if (!std::regex_search(body, m, std::regex{"\n" + name + " ([0-9]+)"})) return 0;
  return std::stoull(m[1]);
}

// Upgrades and says hello, all in one write; returns the client once welcomed.
raw_client raw_visitor(std::uint16_t port) {
  raw_client c;
  REQUIRE(c.connect(port));
  REQUIRE(c.send(upgrade_request("/v1/visitor") + client_frame(true, 0x1, R"({"type":"hello","page_url":"x"})")));
  auto answer = c.read_http(3s);
  REQUIRE(answer);
  REQUIRE(answer->status == 101);
  auto welcome = c.read_frame(3s);
  REQUIRE(welcome);
  REQUIRE(welcome->payload.find("\"welcome\"") != std::string::npos);
  return c;
}

// The close frame's code and reason, skipping other frames.
std::pair<int, std::string> close_of(raw_client& c) {
  for (int i = 0; i < 100; ++i) {
    auto f = c.read_frame(3s);
    if (!f) return {0, {}};
    if (f->opcode == 0x8 && f->payload.size() >= 2)
      return {(static_cast<unsigned char>(f->payload[0]) << 8) | static_cast<unsigned char>(f->payload[1]), f->payload.substr(2)};
  }
  return {0, {}};
}

} // namespace

TEST_CASE("a hello sent in the same write as the upgrade is answered", "[e2e][flood]") {
  daemon_process server;
  auto c = raw_visitor(server.port()); // REQUIREs the welcome
  // And the socket goes on working.
  REQUIRE(c.send(client_frame(true, 0x1, R"({"type":"say","client_msg_id":"1","text":"hi"})")));
  bool acked = false;
  for (int i = 0; i < 5 && !acked; ++i) {
    auto f = c.read_frame(2s);
    acked = f && f->payload.find("\"ack\"") != std::string::npos;
  }
  CHECK(acked);
}

TEST_CASE("endless empty continuation frames close the socket with 1008", "[e2e][flood]") {
  daemon_process server{{"--set", "websocket.rate_per_second=1000000", "--set", "websocket.rate_burst=1000000"}};
  auto c = raw_visitor(server.port());
  std::string flood = client_frame(false, 0x1, "{");
  for (int i = 0; i < 5000; ++i) flood += client_frame(false, 0x0, "");
  c.send(flood); // the server may stop reading before the end
  auto [code, reason] = close_of(c);
  CHECK(code == 1008);
  CHECK(reason == "too many fragments");
  CHECK(c.wait_closed(3s));
  CHECK(metric(server.port(), "dynchat_flood_closes_total") == 1);
  ws_client other; // everyone else is served
  visitor_hello(other, server.port());
}

TEST_CASE("a message in up to websocket.max_fragments frames is taken, one more is refused", "[e2e][flood]") {
  daemon_process server{{"--set", "websocket.max_fragments=8", "--set", "websocket.rate_per_second=1000",
                         "--set", "websocket.rate_burst=1000"}};
  auto c = raw_visitor(server.port());
  const std::string say = R"({"type":"say","client_msg_id":"f","text":"eight pieces"})";
  std::string eight;
  for (std::size_t i = 0; i < 8; ++i)
    eight += client_frame(i == 7, i == 0 ? 0x1 : 0x0, say.substr(i * say.size() / 8, (i + 1) * say.size() / 8 - i * say.size() / 8));
  c.send(eight);
  bool acked = false;
  for (int i = 0; i < 5 && !acked; ++i) {
    auto f = c.read_frame(2s);
    acked = f && f->payload.find("\"ack\"") != std::string::npos;
  }
  CHECK(acked);
  std::string nine = client_frame(false, 0x1, "{");
  for (int i = 0; i < 8; ++i) nine += client_frame(false, 0x0, " ");
  c.send(nine);
  CHECK(close_of(c).first == 1008);
}

TEST_CASE("a ping flood counts against the rate and closes the socket with 1008", "[e2e][flood]") {
  daemon_process server{{"--set", "websocket.rate_per_second=20", "--set", "websocket.rate_burst=40"}};
  auto c = raw_visitor(server.port());
  std::string pings;
  for (int i = 0; i < 2000; ++i) pings += client_frame(true, 0x9, "p");
  c.send(pings);
  auto [code, reason] = close_of(c);
  CHECK(code == 1008);
  CHECK(reason == "rate limit exceeded");
}

TEST_CASE("idle connections cannot take the server: capped, timed out, health checks still answered", "[e2e][flood]") {
  daemon_process server{{"--set", "server.max_connections=40", "--set", "server.health_reserve=4", "--set",
                         "server.header_timeout=3", "--set", "websocket.max_connections=30", "--log-level", "info"},
                        {}, launch_limits{0, true}};
  std::vector<raw_client> idle(60);
  for (auto& c : idle) REQUIRE(c.connect(server.port()));
  // Past the cap they are closed at once.
  std::this_thread::sleep_for(300ms);
  int closed_at_once = 0;
  for (auto& c : idle) closed_at_once += c.wait_closed(10ms);
  CHECK(closed_at_once >= 16);
  // The reserve's idle connections time out in a second; a health check gets in then,
  // while the other idle ones still hold their slots.
  bool healthy = false;
  for (int i = 0; i < 30 && !healthy; ++i) {
    raw_client probe;
    if (probe.connect(server.port()) && probe.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
      if (auto a = probe.read_http(500ms)) healthy = a->status == 200;
    if (!healthy) std::this_thread::sleep_for(100ms);
  }
  CHECK(healthy);
  // After server.header_timeout every idle connection is gone.
  std::this_thread::sleep_for(3500ms);
  int still_open = 0;
  for (auto& c : idle) still_open += !c.wait_closed(10ms);
  CHECK(still_open == 0);
  CHECK(metric(server.port(), "dynchat_connections_refused_total") >= 16);
  // A line a second at most, however many were refused.
  CHECK(count_of(server.log(), "refusing a connection") <= 5);
}

TEST_CASE("out of descriptors, accept backs off and warns once a second at most, then recovers", "[e2e][flood]") {
  // A tiny open-file limit and no reserve: accept() itself runs out (EMFILE).
  daemon_process server{{"--set", "server.reserved_descriptors=0", "--set", "server.health_reserve=1", "--set",
                         "server.max_connections=1000", "--set", "websocket.max_connections=10", "--set",
                         "server.header_timeout=30"},
                        {}, launch_limits{64, true}};
  std::vector<raw_client> idle(120);
  for (auto& c : idle) c.connect(server.port()); // most wait in the backlog
  std::this_thread::sleep_for(2500ms);
  const auto log = server.log();
  const int warnings = count_of(log, "accept failed");
  CHECK(warnings >= 1);
  CHECK(warnings <= 4);
  for (auto& c : idle) c.close();
  // Descriptors free again: the server answers.
  bool healthy = false;
  for (int i = 0; i < 40 && !healthy; ++i) {
    std::this_thread::sleep_for(100ms);
    try {
      healthy = http_call(server.port(), "GET", "/healthz").status == 200;
    } catch (const std::exception&) {
    }
  }
  CHECK(healthy);
  CHECK(metric(server.port(), "dynchat_accept_failures_total") >= 1);
}

TEST_CASE("new conversations are limited per source address, resumes are not", "[e2e][flood]") {
  daemon_process server{{"--set", "chat.new_conversations_burst=3", "--set", "chat.new_conversations_per_second=0.01"}};
  std::vector<std::unique_ptr<ws_client>> opened;
  std::string token;
  for (int i = 0; i < 3; ++i) {
    opened.push_back(std::make_unique<ws_client>());
    token = visitor_hello(*opened.back(), server.port())["resume_token"];
  }
  ws_client fourth;
  REQUIRE(fourth.connect(server.port(), "/v1/visitor") == 0);
  fourth.send({{"type", "hello"}, {"page_url", "x"}});
  expect_error(fourth, "rate_limited");
  expect_close(fourth, 1008);
  ws_client resumed; // coming back to a conversation is no new one
  visitor_hello(resumed, server.port(), ws_client::mode::json, {{"resume_token", token}});
  ws_client neighbour; // another address has its own allowance
  REQUIRE(neighbour.connect(server.port(), "/v1/visitor", ws_client::mode::json, "127.0.0.2") == 0);
  neighbour.send({{"type", "hello"}, {"page_url", "x"}});
  CHECK(neighbour.receive_type("welcome"));
  CHECK(metric(server.port(), "dynchat_conversations_refused_total") == 1);
}

TEST_CASE("X-Forwarded-For names the client only when a trusted proxy sent it", "[e2e][flood]") {
  daemon_process server{{"--set", "chat.new_conversations_burst=1", "--set", "chat.new_conversations_per_second=0.01",
                         "--set", "server.trusted_proxies=[\"127.0.0.1\"]"}};
  auto hello_from = [&](const std::string& source, const std::string& forwarded) {
    auto c = std::make_unique<ws_client>();
    REQUIRE(c->connect(server.port(), "/v1/visitor", ws_client::mode::json, source, forwarded) == 0);
    c->send({{"type", "hello"}, {"page_url", "x"}});
    return c->receive_type("welcome").has_value();
  };
  // Through the trusted proxy: one allowance per real client.
  CHECK(hello_from("127.0.0.1", "198.51.100.1"));
  CHECK(hello_from("127.0.0.1", "198.51.100.2"));
  CHECK_FALSE(hello_from("127.0.0.1", "198.51.100.1"));
  // An untrusted peer cannot pick an address by writing the header.
  CHECK(hello_from("127.0.0.3", "198.51.100.7"));
  CHECK_FALSE(hello_from("127.0.0.3", "198.51.100.8"));
}

TEST_CASE("every X-Forwarded-For line counts: a client's own line cannot hide the one its proxy added", "[e2e][flood]") {
  daemon_process server{{"--set", "chat.new_conversations_burst=1", "--set", "chat.new_conversations_per_second=0.01",
                         "--set", "server.trusted_proxies=[\"127.0.0.1\"]"}};
  // The client wrote the first line itself; the trusted proxy appended the second.
  auto hello_with = [&](const std::string& spoofed) {
    raw_client c;
    REQUIRE(c.connect(server.port()));
    REQUIRE(c.send(upgrade_request("/v1/visitor", "X-Forwarded-For: " + spoofed + "\r\nX-Forwarded-For: 198.51.100.5\r\n") +
                   client_frame(true, 0x1, R"({"type":"hello","page_url":"x"})")));
    auto answer = c.read_http(3s);
    REQUIRE(answer);
    REQUIRE(answer->status == 101);
    auto first = c.read_frame(3s);
    return first && first->payload.find("\"welcome\"") != std::string::npos;
  };
  CHECK(hello_with("203.0.113.1"));
  CHECK_FALSE(hello_with("203.0.113.2")); // the same real client, whatever it wrote
}
