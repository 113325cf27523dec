#pragma once
// A websocket client for tests: a background io thread reads frames into a queue;
// the test thread sends and waits with timeouts. Speaks JSON (text) or MessagePack,
// over plain TCP (ws://) or TLS (wss://).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace dynchat::testing {

using json = nlohmann::json;
using namespace std::chrono_literals;

/// How a test client reaches the server: plain TCP, or TLS when `ca_file` is set,
/// trusting only that certificate and checking that it names 127.0.0.1.
struct transport {
  std::string ca_file; // empty: plain TCP
  bool tls() const { return !ca_file.empty(); }
};

struct close_info {
  bool closed = false;
  std::uint16_t code = 0; // websocket close code, 0 when the TCP connection just dropped
  std::string reason;
};

class ws_client {
public:
  enum class mode { json, msgpack };
  explicit ws_client(transport t = {});
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  /// Upgrades to ws://127.0.0.1:port/path (wss:// with TLS) from `source` (any
  /// 127.0.0.0/8 address), with an X-Forwarded-For header when `forwarded_for` is set.
  /// 0 when connected, else -1 (a TLS handshake that fails included).
  int connect(std::uint16_t port, const std::string& path, mode m = mode::json, const std::string& source = "127.0.0.1",
              const std::string& forwarded_for = {});
  /// Pings the server has sent (answered automatically).
  int pings_received() const;
  void send(const json& frame);               // in the client's mode
  void send_raw(const std::string& bytes, bool binary);
  /// Sends one message split into `pieces` websocket frames (continuation frames).
  void send_fragmented(const json& frame, std::size_t pieces);
  /// Next frame, or nullopt after the timeout or once closed.
  std::optional<json> receive(std::chrono::milliseconds timeout = 3s);
  /// Next frame of a given type, skipping others (they are dropped).
  std::optional<json> receive_type(const std::string& type, std::chrono::milliseconds timeout = 3s);
  /// Waits for the server to close the connection.
  close_info wait_closed(std::chrono::milliseconds timeout = 3s);
  void close();           // a clean close handshake
  void drop();            // the TCP connection vanishes, no close frame
  void pause_reading();   // stop reading: the server's outbound queue fills

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

struct http_result {
  int status = 0;
  std::string body;
  json json_body() const { return json::parse(body, nullptr, false); }
};

/// Sends a websocket upgrade request and returns the HTTP status (101 when accepted).
int upgrade_status(std::uint16_t port, const std::string& path);

/// One request on a new connection; with a TLS transport, over HTTPS. Throws on a
/// connection or handshake failure.
http_result http_call(std::uint16_t port, const std::string& method, const std::string& target,
                      const std::string& body = {}, const std::string& bearer = {}, const transport& t = {});

} // namespace dynchat::testing
