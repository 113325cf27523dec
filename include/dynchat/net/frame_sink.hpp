#pragma once
// The seam between sockets and actors. The net layer implements frame_sink (one per
// websocket); actors hold it to talk back. The actor layer implements
// connection_handler (one per websocket) and gateway (the factory). Neither side
// includes the other's heavy headers: no Beast in actors, no CAF in net.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "dynchat/protocol/outbound.hpp"

namespace dynchat::net {

enum class endpoint : std::uint8_t { visitor, agent };

/// Websocket close codes dynchat uses (RFC 6455 §7.4.1).
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t bad_payload = 1007;
inline constexpr std::uint16_t policy = 1008;
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t internal = 1011;
} // namespace close_code

class frame_sink {
public:
  virtual ~frame_sink() = default;
  /// Unique per connection for the life of the process.
  virtual std::uint64_t id() const noexcept = 0;
  /// Encodes in the client's encoding on the calling thread (once per encoding for a
  /// frame sent to many sockets) and queues the bytes on the connection's io executor.
  /// A no-op once the socket is gone. Call with one frame from one thread at a time.
  virtual void send(const protocol::outbound_frame& frame) = 0;
  /// Sends a close frame after what is queued. Thread-safe.
  virtual void close(std::uint16_t code, std::string reason) = 0;
  /// Runs fn on the connection's io executor; it runs even if the socket has closed meanwhile.
  virtual void post(std::function<void()> fn) = 0;
  /// The client completed hello: stops the hello timer. Thread-safe.
  virtual void hello_completed() = 0;
  /// Runs fn on the connection's io executor once its outbound queue is at most a
  /// quarter of its limits (at once if it already is): the pace of a replay that must
  /// never overflow the queue. Dropped, never run, if the socket closes first. One
  /// waiter at a time: a second call replaces the first. Thread-safe.
  virtual void when_drained(std::function<void()> fn) = 0;
  /// The client's address: the peer's, or the one a trusted proxy forwarded.
  virtual const std::string& remote_address() const noexcept = 0;
  /// The upgrade request's Origin header (what a browser says the page's site is);
  /// empty when the client sent none, as non-browser clients do.
  virtual const std::string& origin() const noexcept = 0;
};
using sink_ptr = std::shared_ptr<frame_sink>;

/// One per websocket; every call arrives on the connection's io executor, never two at once.
class connection_handler {
public:
  virtual ~connection_handler() = default;
  virtual void on_frame(std::string_view data, bool binary) = 0;
  /// by_shutdown: the server closed it because it is stopping (the client did not leave).
  virtual void on_close(bool by_shutdown) = 0;
};

class gateway {
public:
  virtual ~gateway() = default;
  virtual std::shared_ptr<connection_handler> open(endpoint kind, sink_ptr sink) = 0;
};

struct http_request {
  std::string method;
  std::string target; // path and query
  std::string authorization;
  std::string body;
  std::string remote_address;
};

struct http_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow; // for 405: the methods the resource has
};

/// Answers REST requests off the io threads; `reply` may be called from any thread, once.
class http_handler {
public:
  virtual ~http_handler() = default;
  virtual void handle(http_request request, std::function<void(http_response)> reply) = 0;
};

} // namespace dynchat::net
