#pragma once
// An asynchronous HTTP/1.1 client (http:// and https://) on Boost.Beast and OpenSSL, for
// talking to other services: iCalendar feeds, Marketo's REST API. Every request ends, by
// itself, in exactly one callback: a response (any status) or an error naming what went
// wrong and in which phase. Nothing waits unbounded: each phase has a deadline, the
// response has size limits, redirects a count, the queue a length and a deadline.
//
//   request() ──▶ queue (FIFO, bounded) ──▶ slot (overall and per-origin limits)
//        ──▶ idle pooled connection for the origin, or resolve ▶ connect ▶ TLS handshake
//        ──▶ write ▶ headers ▶ body ──▶ redirect? back to the queue's front : callback
//                                         └─▶ a reusable connection goes back to the pool
//
// See docs/http-client.md for usage and limits.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace dynchat::http {

enum class error_kind {
  bad_url,            // not an http(s) URL we can fetch (see url.hpp)
  bad_request,        // a method or header that cannot be sent (a CR or LF in a value, ...)
  dns,                // the host name did not resolve
  connect,            // no TCP connection (refused, unreachable)
  tls,                // the TLS handshake failed: certificate not trusted, wrong host name, ...
  timeout,            // a phase ran past its deadline: error::where says which
  connection_closed,  // the server closed or reset the connection before the response was complete
  protocol,           // the server's answer is not HTTP/1.x we accept
  too_large,          // response headers or body over the limit; the connection was dropped
  too_many_redirects, // more than client_options::max_redirects
  redirect_refused,   // a redirect we will not follow: https to http, an unusable Location
  queue_full,         // client_options::max_queued requests already waiting
  cancelled,          // request_handle::cancel(), client::shutdown() or the client destroyed
};

/// Where a request was when it ended.
enum class phase { queued, resolve, connect, tls_handshake, write, headers, body, done };

std::string_view to_string(error_kind kind) noexcept;
std::string_view to_string(phase where) noexcept;

struct error {
  error_kind kind;
  phase where;
  std::string message; // for people: names the URL, the limit or the server's complaint
};

struct header {
  std::string name;
  std::string value;
  friend bool operator==(const header&, const header&) = default;
};

struct response {
  unsigned status = 0;
  std::string reason;
  std::vector<header> headers; // as received, in order
  std::string body;
  std::string url;             // the URL that answered, after any redirects
  unsigned redirects = 0;      // redirects followed to get here

  /// The first header of that name (case-insensitive), or empty.
  std::string_view header_value(std::string_view name) const;
};

/// A response or an error: true when a response arrived (whatever its status).
class outcome {
public:
  outcome(response r) : data_(std::move(r)) {}
  outcome(error e) : data_(std::move(e)) {}
  explicit operator bool() const noexcept { return data_.index() == 0; }
  response& operator*() { return std::get<0>(data_); }
  const response& operator*() const { return std::get<0>(data_); }
  response* operator->() { return &std::get<0>(data_); }
  const response* operator->() const { return &std::get<0>(data_); }
  const error& failure() const { return std::get<1>(data_); }

private:
  std::variant<response, error> data_;
};

struct request_spec {
  std::string method = "GET";
  std::string url;             // absolute http:// or https://
  std::vector<header> headers; // Host and User-Agent are added unless given; Content-Length always computed
  std::string body;
  bool follow_redirects = true; // false: a 3xx comes back as the response
};

/// Each phase's deadline. A request is therefore bounded by
///   queue + (resolve + connect + tls_handshake + write + headers + body) × (1 + max_redirects)
/// plus one more connect-and-exchange when a reused keep-alive connection turns out to be
/// closed by the server.
struct phase_timeouts {
  std::chrono::milliseconds queue{30'000};         // waiting for a slot
  std::chrono::milliseconds resolve{5'000};
  std::chrono::milliseconds connect{5'000};         // every address the name resolved to, together
  std::chrono::milliseconds tls_handshake{5'000};
  std::chrono::milliseconds write{10'000};          // the whole request, body included
  std::chrono::milliseconds headers{15'000};        // request written → response headers in
  std::chrono::milliseconds body{60'000};           // headers in → body in
};

struct tls_options {
  /// Verify the server's chain and name. Only an explicit false turns it off.
  bool verify = true;
  /// The system trust store (OpenSSL's default paths): the roots public servers chain to.
  bool system_trust_store = true;
  /// A PEM file of further CAs to trust (a private CA, or a test's own); empty: none.
  std::string ca_file;
};

/// Every limit in one place; the defaults suit a few calls a second to a few services.
struct client_options {
  phase_timeouts timeouts;
  std::size_t max_header_bytes = 64 * 1024;        // status line and headers
  std::size_t max_body_bytes = 16 * 1024 * 1024;   // the body, after de-chunking
  unsigned max_redirects = 5;
  std::size_t max_in_flight = 32;                  // requests past the queue, all origins
  std::size_t max_in_flight_per_origin = 6;        // per scheme://host:port
  std::size_t max_queued = 1024;                   // waiting for a slot; beyond: queue_full
  std::size_t max_idle_per_origin = 4;             // keep-alive connections kept per origin
  std::size_t max_idle_total = 32;
  std::chrono::milliseconds idle_timeout{30'000};  // an idle connection is closed after this
  std::string user_agent = "dynchat-http/1";
  tls_options tls;
};

namespace detail {
class exchange;
struct core;
} // namespace detail

/// Cancels one request. Copyable; outliving the request (or the client) is harmless.
class request_handle {
public:
  request_handle() = default;
  /// The request ends with `cancelled` unless it already ended; its callback is still
  /// called exactly once. Thread-safe.
  void cancel() const;

private:
  friend class client;
  explicit request_handle(std::weak_ptr<detail::exchange> op) : op_(std::move(op)) {}
  std::weak_ptr<detail::exchange> op_;
};

class client {
public:
  /// Called once per request, on a thread running the io_context, never inside
  /// request(). It must not throw.
  using callback = std::function<void(outcome)>;

  /// The caller runs `ioc` (on as many threads as it likes; the client keeps its own
  /// strand) and keeps it alive until the client is destroyed and the io_context has
  /// finished or been destroyed. Throws std::runtime_error if tls.ca_file cannot be loaded.
  client(boost::asio::io_context& ioc, client_options options = {});
  /// Shuts down (see shutdown()).
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Starts a request; `done` gets its outcome. Thread-safe.
  request_handle request(request_spec spec, callback done);

  /// Ends every queued and running request with `cancelled` and closes the pooled
  /// connections; later requests end with `cancelled` at once. Returns without waiting:
  /// the callbacks run on the io_context, which then runs out of work (but see
  /// docs/http-client.md on a host-name lookup already under way). Thread-safe; idempotent.
  void shutdown();

private:
  std::shared_ptr<detail::core> core_;
};

} // namespace dynchat::http
