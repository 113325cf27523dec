// TLS on the server's own port (server.tls_cert + server.tls_key): HTTPS and wss:// for
// every route, with the same limits and close codes as plain TCP, and the clients that
// do not speak TLS dropped in bounded time. The certificate is made when the test starts.
#include "helpers.hpp"

#include <filesystem>
#include <fstream>
#include <thread>

#include <openssl/ssl.h>

#include "support/raw_client.hpp"
#include "support/tls_files.hpp"

using namespace dynchat::testing;

namespace {

std::vector<std::string> with(std::vector<std::string> flags, const std::vector<std::string>& more) {
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

// The value of one counter or gauge line in /metrics, or -1.
long metric(std::uint16_t port, const transport& t, const std::string& name) {
  const auto text = http_call(port, "GET", "/metrics", {}, {}, t).body;
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stol(text.substr(at + name.size() + 2));
}

// Polls a metric until it reaches `value` (they are updated as sockets close).
bool metric_reaches(std::uint16_t port, const transport& t, const std::string& name, long value,
                    std::chrono::milliseconds limit = 3s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (metric(port, t, name) != value)
    if (std::chrono::steady_clock::now() > until) return false;
    else std::this_thread::sleep_for(20ms);
  return true;
}

} // namespace

TEST_CASE("with a certificate and key the port serves HTTPS: healthz, metrics and REST", "[e2e][tls]") {
  tls_files files;
  daemon_process server{files.server_flags()};
  const transport tls{files.cert()};
  auto health = http_call(server.port(), "GET", "/healthz", {}, {}, tls);
  CHECK(health.status == 200);
  CHECK(health.json_body()["status"] == "ok");
  CHECK(metric(server.port(), tls, "dynchat_tls_handshake_failures_total") == 0);
  auto [id, token] = create_agent(server.port(), "Tess", 5, tls);
  auto agents = http_call(server.port(), "GET", "/v1/agents", {}, admin_token, tls);
  CHECK(agents.status == 200);
  CHECK_THAT(agents.body, Catch::Contains(id));
  CHECK(http_call(server.port(), "GET", "/v1/agents", {}, "wrong", tls).status == 401);
}

TEST_CASE("a visitor and an agent chat over wss end to end", "[e2e][tls]") {
  tls_files files;
  daemon_process server{files.server_flags()};
  const transport tls{files.cert()};
  auto [agent_id, token] = create_agent(server.port(), "Wendy", 5, tls);
  ws_client agent{tls}, visitor{tls};
  login_agent(agent, server.port(), token);
  const auto welcome = start_live_chat(agent, visitor, server.port());
  visitor.send({{"type", "say"}, {"client_msg_id", "m1"}, {"text", "hello over TLS"}});
  auto ack = visitor.receive_type("ack");
  REQUIRE(ack);
  CHECK((*ack)["client_msg_id"] == "m1");
  auto message = agent.receive_type("message");
  while (message && (*message)["from"] == "system") message = agent.receive_type("message"); // "Wendy joined the chat."
  REQUIRE(message);
  CHECK((*message)["from"] == "visitor");
  CHECK((*message)["conversation_id"] == welcome["conversation_id"]);
  CHECK((*message)["text"] == "hello over TLS");
  // And back.
  agent.send({{"type", "say"}, {"conversation_id", welcome["conversation_id"]}, {"client_msg_id", "a1"}, {"text", "hi!"}});
  CHECK(agent.receive_type("ack"));
  auto reply = visitor.receive_type("message");
  while (reply && (*reply)["from"] == "system") reply = visitor.receive_type("message");
  REQUIRE(reply);
  CHECK((*reply)["text"] == "hi!");
  CHECK(metric(server.port(), tls, "dynchat_tls_handshake_failures_total") == 0);
}

TEST_CASE("over wss big, fragmented and MessagePack messages arrive whole, and a resume replays them in order",
          "[e2e][tls]") {
  tls_files files;
  // Texts up to 40,000 bytes: a frame then spans more than one TLS record (16 KiB).
  daemon_process server{with(files.server_flags(), {"--set", "limits.max_text_bytes=40000", "--set",
                                                    "websocket.rate_per_second=100000", "--set",
                                                    "websocket.rate_burst=100000"})};
  const transport tls{files.cert()};
  auto [agent_id, token] = create_agent(server.port(), "Bea", 5, tls);
  ws_client agent{tls};
  login_agent(agent, server.port(), token, ws_client::mode::msgpack);
  auto visitor = std::make_unique<ws_client>(tls);
  const auto welcome = start_live_chat(agent, *visitor, server.port());
  const std::string big(30000, 'b'), medium(5000, 'm');
  auto next_visitor_message = [&] {
    auto m = agent.receive_type("message", 5s);
    while (m && (*m)["from"] != "visitor") m = agent.receive_type("message", 5s);
    return m;
  };
  visitor->send({{"type", "say"}, {"client_msg_id", "big"}, {"text", big}});
  REQUIRE(visitor->receive_type("ack"));
  auto got_big = next_visitor_message();
  REQUIRE(got_big);
  CHECK((*got_big)["text"] == big);
  visitor->send_fragmented({{"type", "say"}, {"client_msg_id", "pieces"}, {"text", medium}}, 8);
  REQUIRE(visitor->receive_type("ack"));
  auto got_pieces = next_visitor_message();
  REQUIRE(got_pieces);
  CHECK((*got_pieces)["text"] == medium);
  std::uint64_t last = 0;
  for (int i = 0; i < 60; ++i) { // many frames at once: writes queue behind one another
    visitor->send({{"type", "say"}, {"client_msg_id", "n" + std::to_string(i)}, {"text", std::string(100 + 300 * i, 'n')}});
  }
  for (int i = 0; i < 60; ++i) {
    auto ack = visitor->receive_type("ack");
    REQUIRE(ack);
    last = (*ack)["seq"];
  }
  visitor->close();
  ws_client again{tls};
  visitor_hello(again, server.port(), ws_client::mode::json, {{"resume_token", welcome["resume_token"]}, {"last_seq", 0}});
  std::uint64_t expect = 1;
  bool saw_big = false;
  while (expect <= last) {
    auto m = again.receive_type("message", 5s);
    REQUIRE(m);
    REQUIRE((*m)["seq"] == expect);
    saw_big = saw_big || (*m)["text"] == big;
    ++expect;
  }
  CHECK(saw_big);
}

TEST_CASE("over TLS a frame sent in the same write as the upgrade is read, and 100-continue works", "[e2e][tls]") {
  tls_files files;
  daemon_process server{files.server_flags()};
  raw_client c;
  REQUIRE(c.connect_tls(server.port(), files.cert()));
  REQUIRE(c.send(upgrade_request("/v1/visitor") + client_frame(true, 0x1, R"({"type":"hello"})")));
  auto upgraded = c.read_http(3s);
  REQUIRE(upgraded);
  CHECK(upgraded->status == 101);
  auto welcome = c.read_frame(3s);
  REQUIRE(welcome);
  CHECK_THAT(welcome->payload, Catch::Contains(R"("type":"welcome")"));

  const std::string body = R"({"name":"Patient"})";
  raw_client rest;
  REQUIRE(rest.connect_tls(server.port(), files.cert()));
  REQUIRE(rest.send("POST /v1/agents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin_token +
                    "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n"));
  auto go_on = rest.read_http(1s);
  REQUIRE(go_on);
  CHECK(go_on->status == 100);
  REQUIRE(rest.send(body));
  auto created = rest.read_http(3s);
  REQUIRE(created);
  CHECK(created->status == 201);
}

TEST_CASE("over wss limits close as on plain TCP: a flood with 1008, and shutdown with 1001", "[e2e][tls]") {
  tls_files files;
  daemon_process server{with(files.server_flags(), {"--set", "websocket.rate_per_second=5", "--set",
                                                    "websocket.rate_burst=5", "--set", "websocket.flood_strikes=10"})};
  const transport tls{files.cert()};
  ws_client flooder{tls}, bystander{tls};
  visitor_hello(flooder, server.port());
  visitor_hello(bystander, server.port());
  for (int i = 0; i < 40; ++i) flooder.send({{"type", "typing"}});
  auto closed = flooder.wait_closed();
  CHECK(closed.code == 1008);
  CHECK(closed.reason == "rate limit exceeded");
  // The close frame went through TLS: the other socket is untouched, and the server
  // closes it with 1001 at shutdown.
  bystander.send({{"type", "say"}, {"client_msg_id", "ok"}, {"text", "still here"}});
  CHECK(bystander.receive_type("ack"));
  const auto began = std::chrono::steady_clock::now();
  CHECK(server.stop() == 0);
  CHECK(std::chrono::steady_clock::now() - began < 5s);
  auto at_shutdown = bystander.wait_closed();
  CHECK(at_shutdown.closed);
  CHECK(at_shutdown.code == 1001);
}

TEST_CASE("the server speaks TLS 1.2 and 1.3 and refuses older versions", "[e2e][tls]") {
  tls_files files;
  daemon_process server{with(files.server_flags(), {"--log-level", "info"}), {}, launch_limits{0, true}};
  raw_client tls12;
  REQUIRE(tls12.connect_tls(server.port(), files.cert(), "127.0.0.1", TLS1_2_VERSION));
  REQUIRE(tls12.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto answer = tls12.read_http(2s);
  REQUIRE(answer);
  CHECK(answer->status == 200);
  for (int old : {TLS1_VERSION, TLS1_1_VERSION}) {
    raw_client c;
    CHECK_FALSE(c.connect_tls(server.port(), files.cert(), "127.0.0.1", old));
  }
  const transport tls{files.cert()};
  CHECK(metric_reaches(server.port(), tls, "dynchat_tls_handshake_failures_total", 2));
  // Refused by the server (its reason is logged), not by the client's own library.
  CHECK_THAT(server.log(), Catch::Contains("TLS handshake with 127.0.0.1 failed: unsupported protocol"));
}

TEST_CASE("plain HTTP to the TLS port is closed at once, counted and logged, and HTTPS goes on", "[e2e][tls]") {
  tls_files files;
  daemon_process server{with(files.server_flags(), {"--log-level", "info"}), {}, launch_limits{0, true}};
  const transport tls{files.cert()};
  for (int i = 0; i < 3; ++i) {
    raw_client plain;
    REQUIRE(plain.connect(server.port()));
    const auto began = std::chrono::steady_clock::now();
    REQUIRE(plain.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK_FALSE(plain.read_http(3s)); // no HTTP answer, just the end of the connection
    CHECK(std::chrono::steady_clock::now() - began < 1s); // at once, not at server.header_timeout (5 s)
  }
  ws_client plain_ws; // ws:// to a wss:// port
  CHECK(plain_ws.connect(server.port(), "/v1/visitor") == -1);
  CHECK(http_call(server.port(), "GET", "/healthz", {}, {}, tls).status == 200);
  CHECK(metric_reaches(server.port(), tls, "dynchat_tls_handshake_failures_total", 4));
  CHECK(metric_reaches(server.port(), tls, "dynchat_open_http_connections", 1)); // the /metrics request itself
  CHECK_THAT(server.log(), Catch::Contains("TLS handshake with 127.0.0.1 failed: plain HTTP sent to the TLS port"));
}

TEST_CASE("a client that never sends a ClientHello is dropped at the header timeout and counts against the limits",
          "[e2e][tls]") {
  tls_files files;
  daemon_process server{with(files.server_flags(),
                             {"--set", "server.header_timeout=1", "--set", "server.max_connections_per_address=2"})};
  const transport tls{files.cert()};
  std::vector<raw_client> silent(2);
  for (auto& c : silent) REQUIRE(c.connect(server.port(), "127.0.0.19"));
  const auto began = std::chrono::steady_clock::now();
  raw_client over; // its address holds its share: closed at once
  REQUIRE(over.connect(server.port(), "127.0.0.19"));
  CHECK(over.wait_closed(500ms));
  for (auto& c : silent) CHECK(c.wait_closed(3s));
  const auto held = std::chrono::steady_clock::now() - began;
  CHECK(held > 700ms); // by the timeout...
  CHECK(held < 2500ms); // ...and soon after it
  CHECK(metric(server.port(), tls, "dynchat_connections_refused_total") == 1);
  CHECK(metric_reaches(server.port(), tls, "dynchat_tls_handshake_failures_total", 2));
  CHECK(metric_reaches(server.port(), tls, "dynchat_open_http_connections", 1));
  // Their places are free again.
  raw_client next;
  REQUIRE(next.connect_tls(server.port(), files.cert(), "127.0.0.19"));
  REQUIRE(next.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto answer = next.read_http(2s);
  REQUIRE(answer);
  CHECK(answer->status == 200);
  // Past the handshake the headers have their own deadline, as on plain TCP: part of a
  // request gets 408.
  raw_client slow;
  REQUIRE(slow.connect_tls(server.port(), files.cert()));
  REQUIRE(slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")); // and nothing more
  auto late = slow.read_http(3s);
  REQUIRE(late);
  CHECK(late->status == 408);
  CHECK(slow.wait_closed(2s));
}

TEST_CASE("start-up refuses half a TLS setup, unreadable files and a key that does not match, naming them",
          "[e2e][tls]") {
  tls_files files;
  const auto dir = std::filesystem::temp_directory_path() / ("dynchat-tls-start-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto start = [&](std::vector<std::string> sets) {
    std::vector<std::string> args{DYNCHATD_PATH, "--listen", "127.0.0.1:0", "--data-dir", (dir / "data").string(),
                                  "--admin-token", "x", "--no-seed", "--log-level", "warn"};
    for (auto& s : sets) args.insert(args.end(), {"--set", s});
    return run_until_exit(args, dir / "log", std::chrono::seconds{20});
  };
  const auto cert = "server.tls_cert='" + files.cert() + "'";
  const auto key = "server.tls_key='" + files.key() + "'";

  auto cert_only = start({cert});
  CHECK(cert_only.exited);
  CHECK(cert_only.status == 1);
  CHECK_THAT(cert_only.log, Catch::Contains("server.tls_cert") && Catch::Contains("server.tls_key"));
  auto key_only = start({key});
  CHECK(key_only.status == 1);
  CHECK_THAT(key_only.log, Catch::Contains("server.tls_cert") && Catch::Contains("server.tls_key"));

  auto mismatch = start({cert, "server.tls_key='" + files.other_key() + "'"});
  CHECK(mismatch.exited);
  CHECK(mismatch.status == 1);
  CHECK_THAT(mismatch.log, Catch::Contains(files.other_key()) && Catch::Contains("does not match") &&
                             Catch::Contains(files.cert()));

  const auto missing = files.path("missing.pem");
  auto no_file = start({"server.tls_cert='" + missing + "'", key});
  CHECK(no_file.status == 1);
  CHECK_THAT(no_file.log, Catch::Contains(missing) && Catch::Contains("No such file"));

  const auto garbage = files.path("garbage.pem");
  std::ofstream(garbage) << "not a certificate\n";
  auto not_pem = start({"server.tls_cert='" + garbage + "'", key});
  CHECK(not_pem.status == 1);
  CHECK_THAT(not_pem.log, Catch::Contains(garbage) && Catch::Contains("certificate"));
  auto key_not_pem = start({cert, "server.tls_key='" + garbage + "'"});
  CHECK(key_not_pem.status == 1);
  CHECK_THAT(key_not_pem.log, Catch::Contains(garbage) && Catch::Contains("private key"));
  std::filesystem::remove_all(dir);
}
