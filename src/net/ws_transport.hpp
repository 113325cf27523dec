#pragma once
// The stream a websocket_session's Beast websocket runs on: the connection's
// socket_stream (TCP, or TLS over TCP) with two additions, both on the read side.
//
//  - Bytes the HTTP parser read past the upgrade request (a client may send its first
//    frame in the same write as the upgrade) are handed to the websocket first (over
//    TLS they are already decrypted).
//  - Every byte read goes through a frame_meter, which counts each frame (control and
//    continuation frames too, which Beast would otherwise consume silently). When it
//    finds a flood, the read fails with a meter_error and the session closes the socket.
#include <string>
#include <system_error>

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include "dynchat/net/frame_meter.hpp"
#include "socket_stream.hpp"

namespace dynchat::net {

enum class meter_error { flood = 1, too_many_fragments };
const boost::system::error_category& meter_category();
inline boost::system::error_code make_error_code(meter_error e) { return {static_cast<int>(e), meter_category()}; }

class ws_transport {
public:
  using next_layer_type = socket_stream;
  using executor_type = next_layer_type::executor_type;

  ws_transport(socket_stream&& stream, std::string early_bytes, const frame_meter::limits& limits)
    : next_(std::move(stream)), early_(std::move(early_bytes)), meter_(limits, frame_meter::clock::now()) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() noexcept { return next_; }
  const next_layer_type& next_layer() const noexcept { return next_; }
  frame_meter& meter() noexcept { return meter_; }

  template <class MutableBuffers, class Handler>
  BOOST_ASIO_INITFN_RESULT_TYPE(Handler, void(boost::system::error_code, std::size_t))
  async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return boost::asio::async_initiate<Handler, void(boost::system::error_code, std::size_t)>(
      [this](auto h, const MutableBuffers& b) { start_read(std::move(h), b); }, handler, buffers);
  }

  template <class ConstBuffers, class Handler>
  BOOST_ASIO_INITFN_RESULT_TYPE(Handler, void(boost::system::error_code, std::size_t))
  async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return next_.async_write_some(buffers, std::forward<Handler>(handler));
  }

private:
  template <class Buffers>
  boost::system::error_code count_frames(const Buffers& buffers, std::size_t n) {
    const auto now = frame_meter::clock::now();
    auto verdict = frame_meter::verdict::ok;
    for (auto it = boost::asio::buffer_sequence_begin(buffers); n > 0 && it != boost::asio::buffer_sequence_end(buffers); ++it) {
      const boost::asio::const_buffer b = *it;
      const auto take = std::min(n, b.size());
      verdict = meter_.feed(static_cast<const unsigned char*>(b.data()), take, now);
      n -= take;
    }
    switch (verdict) {
      case frame_meter::verdict::ok: return {};
      case frame_meter::verdict::flood: return make_error_code(meter_error::flood);
      case frame_meter::verdict::too_many_fragments: return make_error_code(meter_error::too_many_fragments);
    }
    return {};
  }

  template <class Handler, class Buffers>
  void start_read(Handler handler, const Buffers& buffers) {
    if (early_used_ < early_.size()) {
      const auto n = boost::asio::buffer_copy(
        buffers, boost::asio::buffer(early_.data() + early_used_, early_.size() - early_used_));
      auto ec = count_frames(buffers, n);
      early_used_ += n;
      if (early_used_ == early_.size()) std::string{}.swap(early_);
      // Completions never run inside the initiating call.
      boost::asio::post(get_executor(), boost::beast::bind_front_handler(std::move(handler), ec, n));
      return;
    }
    auto executor = boost::asio::get_associated_executor(handler, get_executor());
    next_.async_read_some(buffers, boost::asio::bind_executor(
                                     executor, [this, buffers, handler = std::move(handler)](
                                                 boost::system::error_code ec, std::size_t n) mutable {
                                       if (!ec) ec = count_frames(buffers, n);
                                       handler(ec, n);
                                     }));
  }

  next_layer_type next_;
  std::string early_;
  std::size_t early_used_ = 0;
  frame_meter meter_;
};

// Found by argument-dependent lookup when Beast closes a websocket on this stream.
inline void teardown(boost::beast::role_type role, ws_transport& s, boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, s.next_layer(), ec);
}

template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, ws_transport& s, TeardownHandler&& handler) {
  using boost::beast::websocket::async_teardown;
  async_teardown(role, s.next_layer(), std::forward<TeardownHandler>(handler));
}

} // namespace dynchat::net
