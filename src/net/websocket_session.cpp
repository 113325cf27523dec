// One websocket. Reads decode nothing here: bytes go to the connection handler (the
// actor bridge). Writes come from actors through socket_sink, which posts onto this
// connection's executor (listener::connection_executor); one write is in flight and a
// bounded queue stands behind it.
// A client that stops reading fills the queue and is dropped: it never grows memory.
#include "detail.hpp"

#include <spdlog/spdlog.h>

#include "dynchat/protocol/frames.hpp"

namespace dynchat::net {
namespace {

class socket_sink final : public frame_sink {
public:
  socket_sink(std::uint64_t id, std::weak_ptr<websocket_session> session, asio::any_io_executor executor,
              metrics& stats)
    : id_(id), session_(std::move(session)), executor_(std::move(executor)), stats_(stats) {}

  std::uint64_t id() const noexcept override { return id_; }

  void send(const protocol::outbound_frame& frame) override {
    const bool binary = binary_.load(std::memory_order_relaxed);
    auto bytes = frame.bytes(binary ? protocol::encoding::msgpack : protocol::encoding::json);
    stats_.frames_out++;
    asio::post(executor_, [weak = session_, bytes = std::move(bytes), binary] {
      if (auto s = weak.lock()) s->enqueue(bytes, binary);
    });
  }

  void close(std::uint16_t code, std::string reason) override {
    asio::post(executor_, [weak = session_, code, reason = std::move(reason)]() mutable {
      if (auto s = weak.lock()) s->close_with(code, std::move(reason));
    });
  }

  void post(std::function<void()> fn) override { asio::post(executor_, std::move(fn)); }

  void hello_completed() override {
    asio::post(executor_, [weak = session_] {
      if (auto s = weak.lock()) s->hello_done();
    });
  }

  /// Replies follow the encoding of the client's latest frame.
  void set_binary(bool binary) { binary_.store(binary, std::memory_order_relaxed); }

private:
  std::uint64_t id_;
  std::weak_ptr<websocket_session> session_;
  asio::any_io_executor executor_; // the connection's strand, or the io context with one io thread
  metrics& stats_;
  std::atomic<bool> binary_{false};
};

} // namespace

websocket_session::websocket_session(tcp::socket&& socket, server::core& core, endpoint kind)
  : ws_(std::move(socket)), core_(core), kind_(kind), id_(core.next_connection_id++),
    hello_timer_(ws_.get_executor()),
    bucket_(core.cfg.websocket.rate_per_second, core.cfg.websocket.rate_burst) {
  core_.websockets++;
  (kind_ == endpoint::visitor ? core_.stats.open_visitor_sockets : core_.stats.open_agent_sockets)++;
}

websocket_session::~websocket_session() {
  core_.websockets--;
  (kind_ == endpoint::visitor ? core_.stats.open_visitor_sockets : core_.stats.open_agent_sockets)--;
  std::lock_guard lock{core_.registry_mutex};
  core_.registry.erase(id_);
}

void websocket_session::run(http::request<http::string_body> req) {
  const auto& cfg = core_.cfg.websocket;
  websocket::stream_base::timeout timeouts{cfg.handshake_timeout, cfg.idle_timeout, /*keep_alive_pings=*/true};
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
    [](websocket::response_type& res) { res.set(http::field::server, "dynchat"); }));
  ws_.read_message_max(cfg.max_frame_bytes);
  ws_.auto_fragment(false);
  {
    std::lock_guard lock{core_.registry_mutex};
    core_.registry.emplace(id_, weak_from_this());
  }
  ws_.async_accept(req, beast::bind_front_handler(&websocket_session::on_accept, shared_from_this()));
}

void websocket_session::on_accept(beast::error_code ec) {
  if (ec) return; // the handshake failed or timed out: nothing was opened
  accepted_ = true;
  sink_ = std::make_shared<socket_sink>(id_, weak_from_this(), ws_.get_executor(), core_.stats);
  handler_ = core_.gw.open(kind_, sink_);
  hello_timer_.expires_after(core_.cfg.websocket.hello_timeout);
  hello_timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
    if (ec) return; // cancelled: hello arrived
    if (auto self = weak.lock()) {
      auto err = protocol::make_error(protocol::error_code::hello_timeout, "no hello in time");
      self->enqueue(std::make_shared<const std::string>(protocol::serialize(err, protocol::encoding::json)), false);
      self->close_with(close_code::policy, "hello timeout");
    }
  });
  if (closing_) return; // shutdown began during the handshake
  do_read();
}

void websocket_session::hello_done() { hello_timer_.cancel(); }

void websocket_session::do_read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&websocket_session::on_read, shared_from_this()));
}

void websocket_session::on_read(beast::error_code ec, std::size_t) {
  if (ec) return finish(); // closed, timed out, too big (1009 sent by Beast), bad UTF-8 (1007)
  if (finished_) return;   // a read that completed before the connection was dropped
  if (closing_) {          // keep reading only to complete the close handshake
    buffer_.consume(buffer_.size());
    return do_read();
  }
  const bool binary = ws_.got_binary();
  static_cast<socket_sink&>(*sink_).set_binary(binary);
  const auto now = token_bucket::clock::now();
  if (!bucket_.try_take(now)) {
    core_.stats.rate_limited_frames++;
    // A flood is refusals without a quiet second between them.
    if (now - last_refusal_ > std::chrono::seconds{1}) strikes_ = 0;
    last_refusal_ = now;
    if (++strikes_ >= core_.cfg.websocket.flood_strikes) {
      close_with(close_code::policy, "rate limit exceeded");
    } else {
      auto err = protocol::make_error(protocol::error_code::rate_limited, "slow down: frame dropped");
      core_.stats.errors_sent++;
      enqueue(std::make_shared<const std::string>(
                protocol::serialize(err, binary ? protocol::encoding::msgpack : protocol::encoding::json)),
              binary);
    }
  } else {
    auto data = buffer_.cdata();
    handler_->on_frame(std::string_view{static_cast<const char*>(data.data()), data.size()}, binary);
  }
  buffer_.consume(buffer_.size());
  if (buffer_.capacity() > 8192) buffer_.shrink_to_fit(); // one big frame must not pin memory
  do_read();
}

void websocket_session::enqueue(std::shared_ptr<const std::string> bytes, bool binary) {
  if (closing_ || finished_ || !accepted_) return;
  const auto& cfg = core_.cfg.websocket;
  const bool agent = kind_ == endpoint::agent;
  const auto max_frames = agent ? cfg.agent_max_outbound_frames : cfg.max_outbound_frames;
  const auto max_bytes = agent ? cfg.agent_max_outbound_bytes : cfg.max_outbound_bytes;
  if (queue_.size() >= max_frames || queued_bytes_ + bytes->size() > max_bytes) {
    core_.stats.slow_consumers_closed++;
    spdlog::info("closing connection {}: outbound queue full ({} frames, {} bytes)", id_, queue_.size(), queued_bytes_);
    return abort_connection();
  }
  queued_bytes_ += bytes->size();
  queue_.push_back(outbound{std::move(bytes), binary});
  if (!writing_) do_write();
}

void websocket_session::do_write() {
  writing_ = true;
  auto& next = queue_.front();
  ws_.binary(next.binary);
  ws_.async_write(asio::buffer(*next.bytes),
                  beast::bind_front_handler(&websocket_session::on_write, shared_from_this()));
}

void websocket_session::on_write(beast::error_code ec, std::size_t) {
  writing_ = false;
  if (finished_) { // the buffer of that write was kept alive until now
    queue_.clear();
    queued_bytes_ = 0;
    return;
  }
  if (ec) return abort_connection();
  queued_bytes_ -= queue_.front().bytes->size();
  queue_.pop_front();
  if (!queue_.empty()) return do_write();
  if (close_after_queue_) {
    auto reason = *close_after_queue_;
    close_after_queue_.reset();
    ws_.async_close(reason, [self = shared_from_this()](beast::error_code) { self->finish(); });
  }
}

void websocket_session::close_with(std::uint16_t code, std::string reason) {
  if (closing_ || finished_) return;
  closing_ = true;
  hello_timer_.cancel();
  if (!accepted_) return abort_connection();
  websocket::close_reason cr{static_cast<websocket::close_code>(code), reason};
  if (writing_) {
    close_after_queue_ = cr; // after what is queued
    return;
  }
  ws_.async_close(cr, [self = shared_from_this()](beast::error_code) { self->finish(); });
}

void websocket_session::abort_connection() {
  closing_ = true;
  hello_timer_.cancel();
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(ws_).close();
  finish();
}

void websocket_session::finish() {
  if (finished_) return;
  finished_ = true;
  hello_timer_.cancel();
  if (!writing_) { // else on_write releases it: the write still reads the front buffer
    queue_.clear();
    queued_bytes_ = 0;
  }
  if (handler_) handler_->on_close();
  handler_.reset(); // the bridge and the session no longer reference each other
}

} // namespace dynchat::net
