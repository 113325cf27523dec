#pragma once
// Internal to the net layer: shared server state and the per-connection classes.
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "dynchat/core/token_bucket.hpp"
#include "dynchat/net/server.hpp"

namespace dynchat::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

class websocket_session;
class listener;

struct server::core {
  core(const settings& c, gateway& g, http_handler& r, metrics& m) : cfg(c), gw(g), rest(r), stats(m) {}
  const settings& cfg;
  gateway& gw;
  http_handler& rest;
  metrics& stats;
  asio::io_context ioc;
  std::vector<std::thread> threads;
  std::shared_ptr<listener> acceptor;
  std::atomic<std::size_t> websockets{0};
  std::atomic<std::uint64_t> next_connection_id{1};
  // Weak handles only, so shutdown can reach every socket; never dereferenced off its executor.
  std::mutex registry_mutex;
  std::unordered_map<std::uint64_t, std::weak_ptr<websocket_session>> registry;
};

class listener : public std::enable_shared_from_this<listener> {
public:
  listener(server::core& core, tcp::endpoint ep);
  void run();
  void stop();
  std::uint16_t port() const { return port_; }

private:
  void do_accept();
  asio::any_io_executor connection_executor();
  server::core& core_;
  tcp::acceptor acceptor_;
  asio::steady_timer backoff_;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
};

class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(tcp::socket&& socket, server::core& core);
  ~http_session();
  void run();

private:
  void do_read();
  void on_read(beast::error_code ec, std::size_t n);
  void upgrade(http::request<http::string_body>&& req, endpoint kind);
  void respond(unsigned status, std::string content_type, std::string body, bool keep_alive);
  void on_write(bool keep_alive, beast::error_code ec);

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
  server::core& core_;
};

class websocket_session : public std::enable_shared_from_this<websocket_session> {
public:
  websocket_session(tcp::socket&& socket, server::core& core, endpoint kind);
  ~websocket_session();
  void run(http::request<http::string_body> req);

  // Called on the connection's executor only (the sink posts here).
  void enqueue(std::shared_ptr<const std::string> bytes, bool binary);
  void close_with(std::uint16_t code, std::string reason);
  void hello_done();
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
  void abort_connection();
  void finish();

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  server::core& core_;
  endpoint kind_;
  std::uint64_t id_;
  std::shared_ptr<frame_sink> sink_;
  std::shared_ptr<connection_handler> handler_;
  asio::steady_timer hello_timer_;
  token_bucket bucket_;
  token_bucket::clock::time_point last_refusal_{};
  unsigned strikes_ = 0;
  std::deque<outbound> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool accepted_ = false;
  bool closing_ = false;
  bool finished_ = false;
  std::optional<websocket::close_reason> close_after_queue_;
};

} // namespace dynchat::net
