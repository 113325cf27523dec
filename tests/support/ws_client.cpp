#include "ws_client.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "dynchat/protocol/codec.hpp"

namespace dynchat::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct ws_client::impl {
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{ioc.get_executor()};
  websocket::stream<beast::tcp_stream> ws{ioc};
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

  void start_read() {
    if (paused || reading) return;
    reading = true;
    ws.async_read(buffer, [this](beast::error_code ec, std::size_t) {
      reading = false;
      std::lock_guard lock{mutex};
      if (ec) {
        closed.closed = true;
        if (ws.reason().code != 0) { // a close frame arrived, whatever happened to TCP after it
          closed.code = ws.reason().code;
          closed.reason = std::string{ws.reason().reason.data(), ws.reason().reason.size()};
        }
        cv.notify_all();
        return;
      }
      auto data = buffer.cdata();
      std::string_view bytes{static_cast<const char*>(data.data()), data.size()};
      auto parsed = protocol::parse(bytes, ws.got_binary() ? protocol::encoding::msgpack : protocol::encoding::json);
      frames.push_back(parsed ? *parsed : json{{"type", "__undecodable__"}});
      buffer.consume(buffer.size());
      cv.notify_all();
      asio::post(ioc, [this] { start_read(); });
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

ws_client::ws_client() : impl_(std::make_unique<impl>()) {
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

ws_client::~ws_client() {
  impl_->run_on_io([this] {
    beast::error_code ignored;
    beast::get_lowest_layer(impl_->ws).socket().close(ignored);
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
    auto& lowest = beast::get_lowest_layer(impl_->ws);
    lowest.expires_after(5s);
    beast::error_code ec;
    lowest.socket().open(tcp::v4(), ec);
    lowest.socket().bind(tcp::endpoint{asio::ip::make_address(source), 0}, ec);
    lowest.socket().connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) {
      status = -1;
      return;
    }
    if (!forwarded_for.empty())
      impl_->ws.set_option(websocket::stream_base::decorator(
        [forwarded_for](websocket::request_type& req) { req.set("X-Forwarded-For", forwarded_for); }));
    impl_->ws.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::ping) impl_->pings++;
    });
    websocket::response_type res;
    impl_->ws.handshake(res, "127.0.0.1:" + std::to_string(port), path, ec);
    lowest.expires_never();
    if (ec) {
      status = -1; // Beast 1.74 does not return the refusing response: see upgrade_status()
      return;
    }
    impl_->ws.read_message_max(64 * 1024 * 1024);
    impl_->start_read();
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
    beast::error_code ec;
    impl_->ws.binary(binary);
    impl_->ws.write(asio::buffer(bytes), ec); // loopback: a blocking write on the io thread is fine in tests
  });
}

void ws_client::send_fragmented(const json& frame, std::size_t pieces) {
  const std::string bytes = frame.dump();
  impl_->run_on_io([&] {
    beast::error_code ec;
    impl_->ws.binary(false);
    const std::size_t step = (bytes.size() + pieces - 1) / pieces;
    for (std::size_t off = 0; off < bytes.size() && !ec; off += step) {
      const bool last = off + step >= bytes.size();
      impl_->ws.write_some(last, asio::buffer(bytes.data() + off, std::min(step, bytes.size() - off)), ec);
    }
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
    beast::error_code ec;
    beast::get_lowest_layer(impl_->ws).expires_after(2s);
    impl_->ws.async_close(websocket::close_code::normal, [](beast::error_code) {});
  });
  wait_closed(2s);
}

void ws_client::drop() {
  impl_->run_on_io([&] {
    beast::error_code ignored;
    beast::get_lowest_layer(impl_->ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(impl_->ws).socket().close(ignored);
  });
}

void ws_client::pause_reading() {
  impl_->run_on_io([&] {
    impl_->paused = true;
    // Shrink the receive buffer so the server's queue, not the kernel, absorbs the backlog.
    beast::get_lowest_layer(impl_->ws).socket().set_option(asio::socket_base::receive_buffer_size(4096));
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

http_result http_call(std::uint16_t port, const std::string& method, const std::string& target,
                      const std::string& body, const std::string& bearer) {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  stream.connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return {static_cast<int>(res.result_int()), res.body()};
}

} // namespace dynchat::testing
