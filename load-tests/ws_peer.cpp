#include "ws_peer.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/websocket.hpp>

#include "dynchat/protocol/codec.hpp"

namespace dynchat::load {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

void ws_peer::connect(const std::string& path) {
  ws_.emplace(asio::make_strand(ctx_.ioc));
  buffer_.clear();
  queue_.clear();
  writing_ = false;
  auto& lowest = beast::get_lowest_layer(*ws_);
  if (ctx_.next_source) {
    // Bind a source address from 127.0.0.0/8 first; the port is picked at connect time
    // (IP_BIND_ADDRESS_NO_PORT), so each address offers a full ephemeral port range.
    beast::error_code ec;
    lowest.socket().open(tcp::v4(), ec);
    const int one = 1;
    if (!ec) ::setsockopt(lowest.socket().native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (!ec) lowest.socket().bind(ctx_.next_source(), ec);
    if (ec) return asio::post(ctx_.ioc, [self = shared_from_this()] { self->on_connect_failed(); });
  }
  lowest.expires_after(std::chrono::seconds{10});
  lowest.async_connect(ctx_.server, [self = shared_from_this(), path](beast::error_code ec) {
    if (ec) return self->on_connect_failed();
    beast::get_lowest_layer(*self->ws_).socket().set_option(tcp::no_delay(true), ec);
    self->ws_->async_handshake("127.0.0.1", path, [self](beast::error_code ec) {
      if (ec) return self->on_connect_failed();
      beast::get_lowest_layer(*self->ws_).expires_never();
      self->ws_->binary(self->ctx_.msgpack);
      self->open_ = true;
      self->on_open();
      self->read();
    });
  });
}

void ws_peer::send(const nlohmann::json& frame) {
  if (!open_) return;
  queue_.push_back(protocol::serialize(frame, ctx_.msgpack ? protocol::encoding::msgpack : protocol::encoding::json));
  if (!writing_) write_next();
}

void ws_peer::drop() {
  open_ = false;
  beast::error_code ignored;
  if (ws_) beast::get_lowest_layer(*ws_).socket().close(ignored);
}

void ws_peer::at(clock_type::time_point when, std::function<void()> fn) {
  auto t = std::make_shared<asio::steady_timer>(ctx_.ioc, when);
  t->async_wait([t, fn = std::move(fn), self = shared_from_this()](beast::error_code ec) {
    if (!ec && !self->ctx_.stopping) fn();
  });
}

void ws_peer::read() {
  ws_->async_read(buffer_, [self = shared_from_this(), ws = &*ws_](beast::error_code ec, std::size_t) {
    if (&*self->ws_ != ws) return; // a newer connection replaced this one
    if (ec) {
      self->open_ = false;
      return self->on_closed();
    }
    auto data = self->buffer_.cdata();
    auto parsed = protocol::parse({static_cast<const char*>(data.data()), data.size()},
                                  ws->got_binary() ? protocol::encoding::msgpack : protocol::encoding::json);
    self->buffer_.consume(self->buffer_.size());
    if (parsed) self->on_frame(*parsed);
    else self->on_undecodable_frame();
    self->read();
  });
}

void ws_peer::write_next() {
  if (queue_.empty() || !open_) return;
  writing_ = true;
  ws_->async_write(asio::buffer(queue_.front()), [self = shared_from_this(), ws = &*ws_](beast::error_code ec, std::size_t) {
    if (&*self->ws_ != ws) return;
    self->writing_ = false;
    if (ec) return;
    self->queue_.pop_front();
    self->write_next();
  });
}

} // namespace dynchat::load
