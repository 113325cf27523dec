#include "ws_client.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <variant>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <openssl/x509v3.h>

#include "dynchat/protocol/codec.hpp"

namespace dynchat::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

// Trusts only the transport's certificate, and only for 127.0.0.1.
ssl::context client_context(const transport& t) {
  ssl::context ctx{ssl::context::tls_client};
  ctx.set_verify_mode(ssl::verify_peer);
  ctx.load_verify_file(t.ca_file);
  return ctx;
}

void expect_loopback_name(tls_stream& s) {
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s.native_handle()), "127.0.0.1");
}

// Connects the TCP stream under `s` from `source` to 127.0.0.1:port.
template <class Stream>
void connect_from(Stream& s, const std::string& source, std::uint16_t port, beast::error_code& ec) {
  auto& socket = beast::get_lowest_layer(s).socket();
  socket.open(tcp::v4(), ec);
  if (!ec) socket.bind(tcp::endpoint{asio::ip::make_address(source), 0}, ec);
  if (!ec) socket.connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port}, ec);
}

} // namespace

struct ws_client::impl {
  explicit impl(const transport& t) {
    if (!t.tls()) return;
    tls.emplace(client_context(t));
    ws.emplace<websocket::stream<tls_stream>>(ioc, *tls);
  }

  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{ioc.get_executor()};
  std::optional<ssl::context> tls;
  std::variant<websocket::stream<beast::tcp_stream>, websocket::stream<tls_stream>> ws{std::in_place_index<0>, ioc};
  beast::flat_buffer buffer;
  std::thread thread;
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<json> frames;
  close_info closed;
  mode m = mode::json;
  bool paused = false;
  bool reading = false;
  std::atomic<int> pings{0};

  /// Runs fn(stream) on whichever websocket stream this client has.
  template <class Fn>
  decltype(auto) with_ws(Fn&& fn) {
    return std::visit(std::forward<Fn>(fn), ws);
  }
  beast::tcp_stream& tcp() {
    return with_ws([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); });
  }

  void start_read() {
    if (paused || reading) return;
    reading = true;
    with_ws([this](auto& s) {
      s.async_read(buffer, [this, &s](beast::error_code ec, std::size_t) {
        reading = false;
        std::lock_guard lock{mutex};
        if (ec) {
          closed.closed = true;
          if (s.reason().code != 0) { // a close frame arrived, whatever happened to TCP after it
            closed.code = s.reason().code;
            closed.reason = std::string{s.reason().reason.data(), s.reason().reason.size()};
          }
          cv.notify_all();
          return;
        }
        auto data = buffer.cdata();
        std::string_view bytes{static_cast<const char*>(data.data()), data.size()};
        auto parsed = protocol::parse(bytes, s.got_binary() ? protocol::encoding::msgpack : protocol::encoding::json);
        frames.push_back(parsed ? *parsed : json{{"type", "__undecodable__"}});
        buffer.consume(buffer.size());
        cv.notify_all();
        asio::post(ioc, [this] { start_read(); });
      });
    });
  }

  template <class Fn>
  void run_on_io(Fn fn) {
    std::promise<void> done;
    asio::post(ioc, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }
};

ws_client::ws_client(transport t) : impl_(std::make_unique<impl>(t)) {
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

ws_client::~ws_client() {
  impl_->run_on_io([this] {
    beast::error_code ignored;
    impl_->tcp().socket().close(ignored);
  });
  impl_->work.reset();
  impl_->ioc.stop();
  impl_->thread.join();
}

int ws_client::connect(std::uint16_t port, const std::string& path, mode m, const std::string& source,
                       const std::string& forwarded_for) {
  impl_->m = m;
  int status = 0;
  impl_->run_on_io([&] {
    impl_->with_ws([&](auto& ws) {
      auto& lowest = beast::get_lowest_layer(ws);
      lowest.expires_after(5s);
      beast::error_code ec;
      connect_from(ws, source, port, ec);
      if constexpr (std::is_same_v<std::decay_t<decltype(ws)>, websocket::stream<tls_stream>>) {
        if (!ec) {
          expect_loopback_name(ws.next_layer());
          ws.next_layer().handshake(ssl::stream_base::client, ec);
        }
      }
      if (ec) {
        status = -1;
        return;
      }
      if (!forwarded_for.empty())
        ws.set_option(websocket::stream_base::decorator(
          [forwarded_for](websocket::request_type& req) { req.set("X-Forwarded-For", forwarded_for); }));
      ws.control_callback([this](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::ping) impl_->pings++;
      });
      websocket::response_type res;
      ws.handshake(res, "127.0.0.1:" + std::to_string(port), path, ec);
      lowest.expires_never();
      if (ec) {
        status = -1; // Beast 1.74 does not return the refusing response: see upgrade_status()
        return;
      }
      ws.read_message_max(64 * 1024 * 1024);
      impl_->start_read();
    });
  });
  return status;
}

int ws_client::pings_received() const { return impl_->pings.load(); }

void ws_client::send(const json& frame) {
  if (impl_->m == mode::json) send_raw(frame.dump(), false);
  else send_raw(protocol::to_msgpack(frame), true);
}

void ws_client::send_raw(const std::string& bytes, bool binary) {
  impl_->run_on_io([&] {
    impl_->with_ws([&](auto& ws) {
      beast::error_code ec;
      ws.binary(binary);
      ws.write(asio::buffer(bytes), ec); // loopback: a blocking write on the io thread is fine in tests
    });
  });
}

void ws_client::send_fragmented(const json& frame, std::size_t pieces) {
  const std::string bytes = frame.dump();
  impl_->run_on_io([&] {
    impl_->with_ws([&](auto& ws) {
      beast::error_code ec;
      ws.binary(false);
      const std::size_t step = (bytes.size() + pieces - 1) / pieces;
      for (std::size_t off = 0; off < bytes.size() && !ec; off += step) {
        const bool last = off + step >= bytes.size();
        ws.write_some(last, asio::buffer(bytes.data() + off, std::min(step, bytes.size() - off)), ec);
      }
    });
  });
}

std::optional<json> ws_client::receive(std::chrono::milliseconds timeout) {
  std::unique_lock lock{impl_->mutex};
  impl_->cv.wait_for(lock, timeout, [&] { return !impl_->frames.empty() || impl_->closed.closed; });
  if (impl_->frames.empty()) return std::nullopt;
  auto f = std::move(impl_->frames.front());
  impl_->frames.pop_front();
  return f;
}

std::optional<json> ws_client::receive_type(const std::string& type, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto f = receive(left);
    if (!f) return std::nullopt;
    if ((*f)["type"] == type) return f;
  }
}

close_info ws_client::wait_closed(std::chrono::milliseconds timeout) {
  std::unique_lock lock{impl_->mutex};
  impl_->cv.wait_for(lock, timeout, [&] { return impl_->closed.closed; });
  return impl_->closed;
}

void ws_client::close() {
  impl_->run_on_io([&] {
    impl_->tcp().expires_after(2s);
    impl_->with_ws([](auto& ws) { ws.async_close(websocket::close_code::normal, [](beast::error_code) {}); });
  });
  wait_closed(2s);
}

void ws_client::drop() {
  impl_->run_on_io([&] {
    beast::error_code ignored;
    impl_->tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    impl_->tcp().socket().close(ignored);
  });
}

void ws_client::pause_reading() {
  impl_->run_on_io([&] {
    impl_->paused = true;
    // Shrink the receive buffer so the server's queue, not the kernel, absorbs the backlog.
    impl_->tcp().socket().set_option(asio::socket_base::receive_buffer_size(4096));
  });
}

int upgrade_status(std::uint16_t port, const std::string& path) {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  stream.connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port});
  http::request<http::empty_body> req{http::verb::get, path, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::sec_websocket_version, "13");
  req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.skip(true); // a 101 has no body to wait for
  http::read_header(stream, buffer, parser);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return static_cast<int>(parser.get().result_int());
}

namespace {

template <class Stream>
http_result round_trip(Stream& stream, const http::request<http::string_body>& req) {
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
  return {static_cast<int>(res.result_int()), res.body()};
}

} // namespace

http_result http_call(std::uint16_t port, const std::string& method, const std::string& target,
                      const std::string& body, const std::string& bearer, const transport& t) {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  asio::io_context ioc;
  const tcp::endpoint server{asio::ip::make_address("127.0.0.1"), port};
  if (!t.tls()) {
    beast::tcp_stream stream{ioc};
    stream.connect(server);
    return round_trip(stream, req);
  }
  auto ctx = client_context(t);
  tls_stream stream{ioc, ctx};
  beast::get_lowest_layer(stream).connect(server);
  expect_loopback_name(stream);
  stream.handshake(ssl::stream_base::client);
  return round_trip(stream, req);
}

} // namespace dynchat::testing
