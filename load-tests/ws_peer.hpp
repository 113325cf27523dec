#pragma once
// One simulated client's websocket for dynchat-load: connect (from a chosen source
// address), a read loop, a write queue, timers that stop firing when the run stops.
// Subclasses say what to send on open and how to answer frames. Single-threaded: every
// peer of a run lives on one io_context.
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <nlohmann/json.hpp>

namespace dynchat::load {

/// What every peer of one run shares.
struct peer_context {
  boost::asio::io_context& ioc;
  boost::asio::ip::tcp::endpoint server;
  bool msgpack = false;                                  // binary MessagePack frames, else JSON text
  std::function<boost::asio::ip::tcp::endpoint()> next_source; // empty: let the kernel choose
  bool stopping = false;                                 // set when the run stops: timers no longer fire
};

class ws_peer : public std::enable_shared_from_this<ws_peer> {
public:
  using clock_type = std::chrono::steady_clock;
  explicit ws_peer(peer_context& ctx) : ctx_(ctx) {}
  virtual ~ws_peer() = default;

  /// Opens a fresh connection to `path`, replacing any earlier one.
  void connect(const std::string& path);
  /// Queues a frame in the run's encoding; dropped when not connected.
  void send(const nlohmann::json& frame);
  /// The TCP connection vanishes, without a close frame.
  void drop();
  void at(clock_type::time_point when, std::function<void()> fn);
  void after(clock_type::duration d, std::function<void()> fn) { at(clock_type::now() + d, std::move(fn)); }

protected:
  virtual void on_open() = 0;
  virtual void on_frame(const nlohmann::json& f) = 0;
  virtual void on_closed() {}
  virtual void on_connect_failed() = 0;
  virtual void on_undecodable_frame() = 0;
  peer_context& ctx_;
  bool open_ = false;

private:
  void read();
  void write_next();
  std::optional<boost::beast::websocket::stream<boost::beast::tcp_stream>> ws_;
  boost::beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  bool writing_ = false;
};

} // namespace dynchat::load
