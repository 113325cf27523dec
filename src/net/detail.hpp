#pragma once
// Internal to the net layer: shared server state and the per-connection classes.
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "dynchat/net/client_address.hpp"
#include "dynchat/net/server.hpp"
#include "socket_stream.hpp"
#include "ws_transport.hpp"

namespace dynchat::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

class websocket_session;
class listener;

/// server.tls_cert and server.tls_key loaded and checked (tls_stream.cpp); null when
/// neither is set. Throws with a message naming the setting and the file.
std::unique_ptr<asio::ssl::context> make_tls_context(const server_settings& s);

// Members are destroyed in reverse order: the io_context goes before the counters, the
// TLS context and the registry that the handlers it still holds touch as they are
// destroyed, and after the listener, whose acceptor belongs to it.
struct server::core {
  core(const settings& c, metrics& m) : cfg(c), stats(m), proxies(c.server.trusted_proxies) {}
  const settings& cfg;
  metrics& stats;
  gateway* gw = nullptr;      // set by start()
  http_handler* rest = nullptr;
  trusted_proxies proxies;
  std::unique_ptr<asio::ssl::context> tls; // server.tls_cert and tls_key, loaded; null: plain TCP
  std::size_t max_connections = 0;     // every accepted TCP connection: the configured cap, within the descriptor limit
  std::size_t max_websockets = 0;
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> websockets{0};
  std::atomic<bool> stopping{false};   // set at shutdown: no new session starts
  std::atomic<std::uint64_t> next_connection_id{1};
  std::mutex per_address_mutex;        // connections by client address (its /64 for IPv6)
  std::unordered_map<std::string, std::size_t> per_address;
  // Weak handles only, so shutdown can reach every socket; never dereferenced off its executor.
  std::mutex registry_mutex;
  std::unordered_map<std::uint64_t, std::weak_ptr<websocket_session>> registry;
  asio::io_context ioc;
  std::vector<std::thread> threads;
  std::shared_ptr<listener> acceptor;
};

/// One accepted connection counted against server.max_connections (and, unless it comes
/// from a trusted proxy, against its address's share), for as long as it lives; it moves
/// from the HTTP session to the websocket session on an upgrade.
class connection_slot {
public:
  connection_slot(server::core& c, std::string address_key) : core_(&c), key_(std::move(address_key)) {
    core_->connections++;
  }
  connection_slot(connection_slot&& other) noexcept
    : core_(std::exchange(other.core_, nullptr)), key_(std::move(other.key_)) {}
  connection_slot(const connection_slot&) = delete;
  connection_slot& operator=(const connection_slot&) = delete;
  ~connection_slot() {
    if (!core_) return;
    core_->connections--;
    if (key_.empty()) return;
    std::lock_guard lock{core_->per_address_mutex};
    if (auto it = core_->per_address.find(key_); it != core_->per_address.end() && --it->second == 0)
      core_->per_address.erase(it);
  }

private:
  server::core* core_;
  std::string key_;
};

class listener : public std::enable_shared_from_this<listener> {
public:
  listener(server::core& core, tcp::endpoint ep);
  void run();
  void stop();
  std::uint16_t port() const { return port_; }

private:
  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  asio::any_io_executor connection_executor();
  bool admit_address(const std::string& key);
  server::core& core_;
  tcp::acceptor acceptor_;
  asio::steady_timer backoff_;
  std::chrono::milliseconds backoff_delay_{0};
  std::uint16_t port_ = 0;
  bool stopped_ = false;
};

class http_session : public std::enable_shared_from_this<http_session> {
public:
  /// reserve_only: the server is near its connection cap; this connection may only ask
  /// for /healthz or /metrics.
  http_session(tcp::socket&& socket, server::core& core, connection_slot slot, bool reserve_only);
  ~http_session();
  void run();

private:
  void start();
  void on_handshake(beast::error_code ec);
  void do_read();
  void arm_deadline(std::chrono::seconds after);
  void on_header(beast::error_code ec, std::size_t);
  void read_body();
  void on_body(beast::error_code ec, std::size_t);
  void on_failed_read(beast::error_code ec);
  void on_request();
  void upgrade(http::request<http::string_body>&& req, endpoint kind, std::string remote);
  void respond(unsigned status, std::string content_type, std::string body, bool keep_alive, std::string allow = {});
  void fail(unsigned status, protocol::error_code code, std::string_view message, std::string allow = {});
  void on_write(bool keep_alive, beast::error_code ec);
  void linger(std::size_t budget);
  std::string remote_address(const http::request<http::string_body>& req) const;

  socket_stream stream_;
  asio::steady_timer deadline_; // headers, then the body
  std::uint64_t deadline_gen_ = 0; // a wait already queued when re-armed must not fire
  bool timed_out_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
  server::core& core_;
  connection_slot slot_;
  bool reserve_only_;
  std::string peer_;
};

class websocket_session : public std::enable_shared_from_this<websocket_session> {
public:
  /// stream: the HTTP session's, its TLS handshake done if it has TLS. early_bytes: what
  /// the HTTP parser read past the upgrade request: the start of the websocket stream.
  websocket_session(socket_stream&& stream, std::string early_bytes, server::core& core, endpoint kind,
                    connection_slot slot, std::string remote_address);
  ~websocket_session();
  void run(http::request<http::string_body> req);

  // Called on the connection's executor only (the sink posts here).
  void enqueue(std::shared_ptr<const std::string> bytes, bool binary);
  void close_with(std::uint16_t code, std::string reason);
  void hello_done();
  void when_drained(std::function<void()> fn);
  asio::any_io_executor get_executor_for_shutdown() { return ws_.get_executor(); }

private:
  struct outbound {
    std::shared_ptr<const std::string> bytes;
    bool binary;
  };
  void on_accept(beast::error_code ec);
  void do_read();
  void on_read(beast::error_code ec, std::size_t n);
  void do_write();
  void on_write(beast::error_code ec, std::size_t n);
  void close_for_flood(beast::error_code ec);
  void write_raw_close();
  void drain_then_close(std::size_t budget);
  void notify_if_drained();
  void abort_connection();
  void finish();

  websocket::stream<ws_transport> ws_;
  beast::flat_buffer buffer_;
  server::core& core_;
  connection_slot slot_;
  endpoint kind_;
  std::uint64_t id_;
  std::string remote_;
  std::string origin_; // the upgrade's Origin header
  std::shared_ptr<frame_sink> sink_;
  std::shared_ptr<connection_handler> handler_;
  asio::steady_timer hello_timer_;
  std::deque<outbound> queue_;
  std::size_t queued_bytes_ = 0;
  std::function<void()> drain_waiter_;
  bool writing_ = false;
  bool accepted_ = false;
  bool closing_ = false;
  bool finished_ = false;
  std::optional<websocket::close_reason> close_after_queue_;
  std::optional<websocket::close_reason> close_after_accept_; // asked to close during the handshake
  std::shared_ptr<const std::string> raw_close_; // a close frame written past Beast after a flood
};

} // namespace dynchat::net
