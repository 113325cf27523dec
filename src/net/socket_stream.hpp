#pragma once
// The byte stream under every connection: a TCP stream, or TLS over one when
// server.tls_cert and server.tls_key are set. One type for both, so http_session and
// websocket_session (and the Beast operations they run) exist once.
//
//   websocket::stream<ws_transport> -> ws_transport -> socket_stream -+-> tcp_stream
//   http::async_read/async_write --------------------^                +-> tls_stream -> tcp_stream
//
// The plain path forwards every read and write as it is: one branch, nothing else. The
// TLS path goes through a few plain functions (tls_stream.cpp) with one buffer and one
// handler type, so OpenSSL's Asio templates are compiled once there and not once per
// Beast operation in every file that reads or writes (that doubled the compile time and
// memory of websocket_session.cpp). It costs the TLS path one allocation per read or
// write, and a copy when a write comes in pieces (as beast::flat_stream does).
//
// tcp() (and next_layer(), for beast::get_lowest_layer) is the TCP stream in both cases:
// its timer bounds reads and writes, and closing it ends the connection.
#include <memory>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace boost::asio::ssl {
class context;
}

namespace dynchat::net {

class tls_stream; // OpenSSL over a tcp_stream: tls_stream.cpp

namespace detail {

// A completion handler void(error_code, std::size_t) behind one type. It keeps the
// handler's executor, and frees its storage before the upcall, as Asio does.
class io_handler {
public:
  using executor_type = boost::asio::any_io_executor;

  template <class Handler>
  io_handler(executor_type executor, Handler&& h)
    : executor_(std::move(executor)), fn_(std::make_unique<model<std::decay_t<Handler>>>(std::forward<Handler>(h))) {}

  executor_type get_executor() const noexcept { return executor_; }

  void operator()(boost::system::error_code ec, std::size_t n) {
    auto* fn = fn_.get();
    fn->invoke(std::move(fn_), ec, n);
  }

private:
  struct callable {
    virtual ~callable() = default;
    virtual void invoke(std::unique_ptr<callable> self, boost::system::error_code ec, std::size_t n) = 0;
  };
  template <class Handler>
  struct model final : callable {
    template <class H>
    explicit model(H&& h) : handler(std::forward<H>(h)) {}
    void invoke(std::unique_ptr<callable> self, boost::system::error_code ec, std::size_t n) override {
      Handler h = std::move(handler);
      self.reset();
      std::move(h)(ec, n);
    }
    Handler handler;
  };
  executor_type executor_;
  std::unique_ptr<callable> fn_;
};

// What one TLS write sends: the first non-empty piece alone, or, when the pieces that
// fit one TLS record (16 KiB) are several (a frame's header and payload), those pieces
// copied into one buffer: one record instead of one each (beast::flat_stream's rule).
struct write_plan {
  boost::asio::const_buffer first;
  std::size_t coalesce = 0; // bytes to copy from the start of the sequence; 0: send `first`
};

template <class ConstBuffers>
write_plan plan_write(const ConstBuffers& buffers) {
  constexpr std::size_t limit = 16 * 1024;
  auto it = boost::asio::buffer_sequence_begin(buffers);
  const auto end = boost::asio::buffer_sequence_end(buffers);
  while (it != end && boost::asio::const_buffer(*it).size() == 0) ++it;
  if (it == end) return {};
  write_plan plan{*it};
  std::size_t size = plan.first.size(), pieces = 1;
  if (size >= limit) return plan;
  for (++it; it != end; ++it) {
    const auto n = boost::asio::const_buffer(*it).size();
    if (size + n > limit) break;
    size += n;
    pieces += n > 0;
  }
  if (pieces > 1) plan.coalesce = size;
  return plan;
}

} // namespace detail

// The TLS operations, compiled once (tls_stream.cpp). Each completes through the handler's
// executor.
void tls_handshake(tls_stream& s, detail::io_handler h); // server side; n is 0
void tls_read(tls_stream& s, boost::asio::mutable_buffer b, detail::io_handler h);
void tls_write(tls_stream& s, boost::asio::const_buffer b, detail::io_handler h);
void tls_shutdown(tls_stream& s, detail::io_handler h); // close_notify, then the peer's (or EOF)
boost::beast::tcp_stream& tcp_of(tls_stream& s) noexcept;

class socket_stream {
public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;

  /// tls null: plain TCP. With TLS, async_handshake comes first.
  socket_stream(boost::asio::ip::tcp::socket&& socket, boost::asio::ssl::context* tls);
  socket_stream(socket_stream&& other);
  socket_stream& operator=(socket_stream&&) = delete;
  ~socket_stream();

  bool is_tls() const noexcept { return s_.index() == 1; }
  next_layer_type& tcp() noexcept {
    if (auto* t = tls()) return tcp_of(*t);
    return *std::get_if<next_layer_type>(&s_);
  }
  next_layer_type& next_layer() noexcept { return tcp(); }
  executor_type get_executor() noexcept { return tcp().get_executor(); }

  // Handlers only (Beast's composed operations and ours), no other completion tokens.
  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    auto* t = tls();
    if (!t) return std::get_if<next_layer_type>(&s_)->async_read_some(buffers, std::forward<Handler>(handler));
    // OpenSSL reads into the first non-empty buffer, whatever the sequence.
    boost::asio::mutable_buffer first;
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it)
      if ((first = *it).size() > 0) break;
    tls_read(*t, first, erase(std::forward<Handler>(handler)));
  }

  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    auto* t = tls();
    if (!t) return std::get_if<next_layer_type>(&s_)->async_write_some(buffers, std::forward<Handler>(handler));
    const auto plan = detail::plan_write(buffers);
    if (plan.coalesce == 0) return tls_write(*t, plan.first, erase(std::forward<Handler>(handler)));
    // The copy lives in the handler until the write completes (a vector's bytes stay put
    // as it moves).
    std::vector<char> copy(plan.coalesce);
    boost::asio::buffer_copy(boost::asio::buffer(copy), buffers, plan.coalesce);
    const boost::asio::const_buffer out{copy.data(), copy.size()};
    auto executor = boost::asio::get_associated_executor(handler, get_executor());
    tls_write(*t, out,
              detail::io_handler{std::move(executor), [h = std::forward<Handler>(handler), copy = std::move(copy)](
                                                        boost::system::error_code ec, std::size_t n) mutable {
                                   copy = {};
                                   std::move(h)(ec, n);
                                 }});
  }

  /// TLS only: the server side of the handshake. Handler: void(error_code).
  template <class Handler>
  void async_handshake(Handler&& handler) {
    tls_handshake(*tls(), erase_done(std::forward<Handler>(handler)));
  }
  /// TLS only: close_notify, then OpenSSL reads and drops what comes until the peer's
  /// close_notify or EOF (bounded by tcp()'s timer). Handler: void(error_code).
  template <class Handler>
  void async_shutdown(Handler&& handler) {
    tls_shutdown(*tls(), erase_done(std::forward<Handler>(handler)));
  }

private:
  tls_stream* tls() noexcept {
    auto* p = std::get_if<std::unique_ptr<tls_stream>>(&s_);
    return p ? p->get() : nullptr;
  }
  template <class Handler>
  detail::io_handler erase(Handler&& h) {
    auto executor = boost::asio::get_associated_executor(h, get_executor());
    return {std::move(executor), std::forward<Handler>(h)};
  }
  template <class Handler>
  detail::io_handler erase_done(Handler&& h) {
    auto executor = boost::asio::get_associated_executor(h, get_executor());
    return {std::move(executor),
            [h = std::forward<Handler>(h)](boost::system::error_code ec, std::size_t) mutable { std::move(h)(ec); }};
  }

  using layers = std::variant<next_layer_type, std::unique_ptr<tls_stream>>;
  layers s_;
};

// Found by argument-dependent lookup when Beast closes a websocket: over TLS the close
// is a TLS shutdown (close_notify both ways), else the TCP teardown.
template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, socket_stream& s, TeardownHandler&& handler) {
  if (s.is_tls()) return s.async_shutdown(std::forward<TeardownHandler>(handler));
  using boost::beast::websocket::async_teardown;
  async_teardown(role, s.tcp(), std::forward<TeardownHandler>(handler));
}

// Websockets here are only ever closed asynchronously; over TLS this just closes.
inline void teardown(boost::beast::role_type role, socket_stream& s, boost::system::error_code& ec) {
  if (s.is_tls()) return s.tcp().socket().close(ec);
  using boost::beast::websocket::teardown;
  teardown(role, s.tcp(), ec);
}

} // namespace dynchat::net
