#pragma once
// The HTTP + websocket front door, on Boost.Beast with its own io threads. Knows
// nothing of actors: websockets go to a gateway, REST requests to an http_handler.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "dynchat/core/metrics.hpp"
#include "dynchat/core/settings.hpp"
#include "dynchat/net/frame_sink.hpp"

namespace dynchat::net {

class server {
public:
  /// Loads server.tls_cert and server.tls_key when set. Throws std::runtime_error on a
  /// bad server.trusted_proxies entry, and on a TLS file that cannot be read, is not
  /// PEM, or a key that does not match the certificate (naming the file).
  server(const settings& cfg, metrics& stats);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds and listens on server.listen; nothing is accepted yet (connections wait in
  /// the kernel's backlog). Throws std::runtime_error naming the address.
  void bind();
  /// Starts accepting and the io threads: websockets go to `gw`, REST to `rest`.
  void start(gateway& gw, http_handler& rest);
  /// The bound port (useful with port 0).
  std::uint16_t port() const;
  /// True when the port speaks TLS (HTTPS and wss://).
  bool tls() const;
  /// The connection cap in force: server.max_connections within the descriptor limit.
  std::size_t max_connections() const;
  /// Shutdown, step 1: no new connections, and no new session on one that is upgrading.
  void stop_accepting();
  /// Shutdown, step 2: every websocket gets a close frame with `code` after what is queued.
  void close_all(std::uint16_t code, const std::string& reason);
  /// Waits until no websocket is open, at most `limit`. True if all closed.
  bool wait_closed(std::chrono::milliseconds limit);
  /// Websockets open now.
  std::size_t open_websockets() const;
  /// Shutdown, step 3: stops the io threads (sockets still open are dropped).
  void stop();

  struct core;

private:
  std::shared_ptr<core> core_;
};

} // namespace dynchat::net
