#pragma once
// Internal to the HTTP client. Threading: everything below runs on core::strand, one
// strand for the whole client, so the queue, the slots and the pool need no locks; only
// client::request(), shutdown() and request_handle::cancel() come from other threads, and
// they post here. Callbacks are posted to the bare io_context, off the strand.
//
// Ownership: an exchange (one request) is owned by the handlers of its pending
// operations — its timer, its resolve, its socket's read or write — and by nothing else;
// the core reaches it through weak pointers to queue, admit and cancel it. The core is
// shared by the client and its exchanges, so destroying the client leaves running
// requests a core to finish against.
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/string_body.hpp>

#include "dynchat/http/client.hpp"
#include "dynchat/http/url.hpp"

namespace dynchat::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using strand_type = asio::strand<asio::io_context::executor_type>;

/// The client's TLS context: the trust store, the CA file, TLS 1.2 at least.
/// Throws std::runtime_error when the CA file cannot be loaded.
ssl::context make_tls_context(const tls_options& options);

/// One TCP connection to one origin, with TLS on top for https.
class connection {
public:
  /// `tls`: null for http.
  connection(const strand_type& strand, ssl::context* tls, std::string origin);

  const std::string& origin() const noexcept { return origin_; }
  tcp::socket& socket() noexcept;
  /// Null for http.
  ssl::stream<tcp::socket>* tls_stream() noexcept { return std::get_if<1>(&stream_); }
  /// Calls f with the stream to read and write: the socket, or the TLS stream over it.
  template <class F>
  void with_stream(F&& f) {
    std::visit(f, stream_);
  }
  /// Prepares the TLS stream for `host`: SNI for names, and, when verifying, the name or
  /// address the certificate must carry.
  void expect_peer(const std::string& host, bool verify);
  /// Why the peer's certificate was refused, or empty (after a failed handshake).
  std::string verify_failure() const;
  /// Pending operations end with an error; a second call does nothing.
  void close() noexcept;
  /// For a pooled connection about to be reused: false when the server has closed it,
  /// or sent something unasked (a close_notify, a 408) that would spoil the next response.
  bool still_usable() noexcept;

  beast::flat_buffer buffer;    // read past the end of a response: must be empty to pool
  asio::steady_timer idle_timer;
  std::uint64_t idle_generation = 0; // which idle period the timer's wait belongs to

private:
  std::string origin_;
  std::variant<tcp::socket, ssl::stream<tcp::socket>> stream_;
};

class exchange;

/// Shared state: admission (queue and slots) and the pool of idle connections.
struct core : std::enable_shared_from_this<core> {
  core(asio::io_context& ioc, client_options opts);

  // Called on the strand only.
  void submit(const std::shared_ptr<exchange>& op);
  /// A redirect's next hop: ahead of the queue, since the request is older than all of it.
  void requeue_front(const std::shared_ptr<exchange>& op);
  /// Frees op's queue place or slot; safe to call when it holds neither.
  void release(exchange& op);
  /// Admits queued requests, first come first served, as far as the limits allow; a
  /// request whose origin is at its limit does not hold back those behind it for others.
  void pump();
  /// An idle connection to `origin` that still looks open (the most recently used), or null.
  std::unique_ptr<connection> checkout(const std::string& origin);
  /// Pools a connection that finished a response cleanly, within the idle limits.
  void checkin(std::unique_ptr<connection> c);
  void stop();
  void deliver(client::callback& done, outcome o);

  asio::io_context& ioc;
  strand_type strand;
  const client_options opts;
  ssl::context tls;
  bool stopping = false;
  std::uint64_t next_id = 1;
  std::uint64_t next_idle_generation = 1;

  std::deque<std::weak_ptr<exchange>> queue;                       // at most opts.max_queued
  std::unordered_map<std::uint64_t, std::weak_ptr<exchange>> running; // hold a slot
  std::unordered_map<std::string, std::size_t> running_per_origin;
  std::list<std::unique_ptr<connection>> idle; // oldest first; at most opts.max_idle_total

private:
  void expire_idle(const connection* c, std::uint64_t generation);
};

/// One request, from the queue to its callback, redirects included.
class exchange : public std::enable_shared_from_this<exchange> {
public:
  exchange(std::shared_ptr<core> c, request_spec spec, client::callback done);

  // Called on the strand only.
  void start();
  void on_admitted();
  void cancel();
  void fail(error_kind kind, std::string message);
  /// Waits in the queue for at most the queue timeout.
  void arm_queue_deadline();

  std::uint64_t id() const noexcept { return id_; }
  const std::string& origin() const noexcept { return origin_; }
  const strand_type& strand() const noexcept { return core_->strand; }
  bool queued = false;    // core's bookkeeping
  bool has_slot = false;

private:
  void arm(phase p, std::chrono::milliseconds after);
  void on_timeout();
  void connect_fresh();
  void on_resolved(const boost::system::error_code& ec, const tcp::resolver::results_type& results);
  void connect();
  void on_connected(const boost::system::error_code& ec);
  void on_handshake(const boost::system::error_code& ec);
  void send();
  void on_written(const boost::system::error_code& ec);
  void read_headers();
  void on_headers(const boost::system::error_code& ec);
  void on_body(const boost::system::error_code& ec);
  void on_read_failed(const boost::system::error_code& ec);
  void on_response();
  bool retry_on_fresh_connection();
  void follow(const url& next, unsigned status);
  void finish(outcome o);

  std::shared_ptr<core> core_; // first: outlives the connection, whose TLS context it holds
  request_spec spec_;
  client::callback done_;
  url url_;
  std::string origin_;
  std::uint64_t id_ = 0;
  phase phase_ = phase::queued;
  asio::steady_timer timer_;
  std::uint64_t timer_generation_ = 0; // a wait overtaken by a re-arm must not fire
  tcp::resolver resolver_;
  std::vector<tcp::endpoint> endpoints_;
  std::unique_ptr<connection> conn_; // kept after close() until the exchange ends: a
                                     // pending operation may still refer to it
  bool reused_ = false;  // conn_ came from the pool
  bool retried_ = false; // already retried once on a fresh connection
  unsigned redirects_ = 0;
  unsigned interim_ = 0; // 1xx answers skipped
  std::optional<bhttp::request<bhttp::span_body<const char>>> message_; // its body is spec_.body
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  bool finished_ = false;
};

} // namespace dynchat::http::detail
