// One websocket. Reads decode nothing here: bytes go to the connection handler (the
// actor bridge). Writes come from actors through socket_sink, which posts onto this
// connection's executor (listener::connection_executor); one write is in flight and a
// bounded queue stands behind it.
// A client that stops reading fills the queue and is dropped: it never grows memory.
// Every inbound frame is counted by the transport's frame_meter (ws_transport.hpp): a
// message over the rate is dropped with an error; a flood of frames, pings or
// fragments closes the socket with 1008.
#include "detail.hpp"

#include <spdlog/spdlog.h>

#include "dynchat/core/throttled_log.hpp"
#include "dynchat/protocol/frames.hpp"

namespace dynchat::net {
namespace {

class meter_error_category final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "dynchat.frame_meter"; }
  std::string message(int ev) const override {
    switch (static_cast<meter_error>(ev)) {
      case meter_error::flood: return "frame flood: over the rate limit without a quiet second";
      case meter_error::too_many_fragments: return "a message in more fragments than websocket.max_fragments";
    }
    return "frame meter";
  }
};

class socket_sink final : public frame_sink {
public:
  socket_sink(std::uint64_t id, std::weak_ptr<websocket_session> session, asio::any_io_executor executor,
              metrics& stats, std::string remote, std::string origin)
    : id_(id), session_(std::move(session)), executor_(std::move(executor)), stats_(stats), remote_(std::move(remote)),
      origin_(std::move(origin)) {}

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

  void when_drained(std::function<void()> fn) override {
    asio::post(executor_, [weak = session_, fn = std::move(fn)]() mutable {
      if (auto s = weak.lock()) s->when_drained(std::move(fn));
    });
  }

  const std::string& remote_address() const noexcept override { return remote_; }
  const std::string& origin() const noexcept override { return origin_; }

  /// Replies follow the encoding of the client's latest frame.
  void set_binary(bool binary) { binary_.store(binary, std::memory_order_relaxed); }

private:
  std::uint64_t id_;
  std::weak_ptr<websocket_session> session_;
  asio::any_io_executor executor_; // the connection's strand, or the io context with one io thread
  metrics& stats_;
  std::string remote_;
  std::string origin_;
  std::atomic<bool> binary_{false};
};

frame_meter::limits meter_limits(const settings& cfg) {
  const auto& ws = cfg.websocket;
  return {ws.rate_per_second, ws.rate_burst, ws.flood_strikes, ws.max_fragments};
}

// A close frame as a server sends it (unmasked), for a stream Beast has given up on.
std::shared_ptr<const std::string> raw_close_frame(std::uint16_t code, std::string_view reason) {
  reason = reason.substr(0, 123); // a control frame's payload is at most 125 bytes
  std::string f;
  f += static_cast<char>(0x88);
  f += static_cast<char>(2 + reason.size());
  f += static_cast<char>(code >> 8);
  f += static_cast<char>(code & 0xFF);
  f += reason;
  return std::make_shared<const std::string>(std::move(f));
}

} // namespace

const boost::system::error_category& meter_category() {
  static const meter_error_category category;
  return category;
}

websocket_session::websocket_session(socket_stream&& stream, std::string early_bytes, server::core& core, endpoint kind,
                                     connection_slot slot, std::string remote_address)
  : ws_(std::move(stream), std::move(early_bytes), meter_limits(core.cfg)), core_(core), slot_(std::move(slot)),
    kind_(kind), id_(core.next_connection_id++), remote_(std::move(remote_address)), hello_timer_(ws_.get_executor()) {
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
  // Beast pings after half its idle timeout and closes at the whole; we promise a ping
  // after idle_timeout of silence and a close after as long again without an answer.
  websocket::stream_base::timeout timeouts{cfg.handshake_timeout, 2 * cfg.idle_timeout, /*keep_alive_pings=*/true};
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
    [](websocket::response_type& res) { res.set(http::field::server, "dynchat"); }));
  ws_.read_message_max(cfg.max_frame_bytes);
  origin_ = std::string{req[http::field::origin].substr(0, 512)}; // bounded: the header limit already holds it
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
  if (close_after_accept_ || core_.stopping) {
    // Shutdown began during the handshake: this socket gets its close like every other
    // and never starts a session.
    auto reason = close_after_accept_.value_or(websocket::close_reason{websocket::close_code::going_away, "server shutting down"});
    close_after_accept_.reset();
    // The close handshake reads the client's answer itself.
    return close_with(static_cast<std::uint16_t>(reason.code), std::string{reason.reason.data(), reason.reason.size()});
  }
  sink_ = std::make_shared<socket_sink>(id_, weak_from_this(), ws_.get_executor(), core_.stats, remote_, origin_);
  handler_ = core_.gw->open(kind_, sink_);
  hello_timer_.expires_after(core_.cfg.websocket.hello_timeout);
  hello_timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
    if (ec) return; // cancelled: hello arrived
    if (auto self = weak.lock()) {
      log_throttled(self->core_.stats.log_hello_timeout, spdlog::level::info,
                    "closing connection {} from {}: no hello within {} s", self->id_, self->remote_,
                    self->core_.cfg.websocket.hello_timeout.count());
      auto err = protocol::make_error(protocol::error_code::hello_timeout, "no hello in time");
      self->enqueue(std::make_shared<const std::string>(protocol::serialize(err, protocol::encoding::json)), false);
      self->close_with(close_code::policy, "hello timeout");
    }
  });
  do_read();
}

void websocket_session::hello_done() { hello_timer_.cancel(); }

void websocket_session::do_read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&websocket_session::on_read, shared_from_this()));
}

void websocket_session::on_read(beast::error_code ec, std::size_t) {
  if (ec.category() == meter_category()) return close_for_flood(ec);
  if (ec) return finish(); // closed, timed out, too big (1009 sent by Beast), bad UTF-8 (1007)
  if (finished_) return;   // a read that completed before the connection was dropped
  if (closing_ || !handler_) { // keep reading only to complete the close handshake
    buffer_.consume(buffer_.size());
    return do_read();
  }
  const bool binary = ws_.got_binary();
  static_cast<socket_sink&>(*sink_).set_binary(binary);
  if (!ws_.next_layer().meter().next_message_within_rate()) {
    core_.stats.rate_limited_frames++;
    auto err = protocol::make_error(protocol::error_code::rate_limited, "slow down: message dropped");
    core_.stats.errors_sent++;
    enqueue(std::make_shared<const std::string>(
              protocol::serialize(err, binary ? protocol::encoding::msgpack : protocol::encoding::json)),
            binary);
  } else {
    auto data = buffer_.cdata();
    handler_->on_frame(std::string_view{static_cast<const char*>(data.data()), data.size()}, binary);
  }
  buffer_.consume(buffer_.size());
  if (buffer_.capacity() > 8192) buffer_.shrink_to_fit(); // one big frame must not pin memory
  do_read();
}

// Beast has failed the stream (our transport ended its read), so the close frame is
// written straight to the socket stream (through TLS if there is TLS), after any write
// still in flight, then the socket closes.
void websocket_session::close_for_flood(beast::error_code ec) {
  core_.stats.flood_closes++;
  const bool fragments = ec == make_error_code(meter_error::too_many_fragments);
  log_throttled(core_.stats.log_flood, spdlog::level::warn, "closing connection {} from {} with 1008: {} ({} frames, {} over the rate)",
                id_, remote_, ec.message(), ws_.next_layer().meter().frames(), ws_.next_layer().meter().refused());
  if (closing_) {
    // Beast may be writing its own close frame right now: no second writer on the socket.
    finish();
    return abort_connection();
  }
  raw_close_ = raw_close_frame(close_code::policy, fragments ? "too many fragments" : "rate limit exceeded");
  closing_ = true;
  finish();
  if (!writing_) write_raw_close();
}

void websocket_session::write_raw_close() {
  auto bytes = std::move(raw_close_);
  if (!bytes) return;
  auto& stream = ws_.next_layer().next_layer();
  stream.tcp().expires_after(std::chrono::seconds{2});
  asio::async_write(stream, asio::buffer(*bytes), [self = shared_from_this(), bytes](beast::error_code ec, std::size_t) {
    if (ec) return self->abort_connection();
    // Closing now, with the flood unread, would reset the connection and could lose the
    // close frame on its way: shut our side, and read and drop for a moment first. (Over
    // TLS too: the close frame is out, and what is dropped need not be decrypted.)
    beast::error_code ignored;
    beast::get_lowest_layer(self->ws_).socket().shutdown(tcp::socket::shutdown_send, ignored);
    self->drain_then_close(64 * 1024);
  });
}

void websocket_session::drain_then_close(std::size_t budget) {
  auto& tcp = beast::get_lowest_layer(ws_);
  buffer_.consume(buffer_.size());
  tcp.async_read_some(buffer_.prepare(4096), [self = shared_from_this(), budget](beast::error_code ec, std::size_t n) {
    if (ec || n >= budget) return beast::get_lowest_layer(self->ws_).close(); // the client closed, timed out, or enough
    self->drain_then_close(budget - n);
  });
}

void websocket_session::enqueue(std::shared_ptr<const std::string> bytes, bool binary) {
  if (closing_ || finished_ || !accepted_) return;
  const auto& cfg = core_.cfg.websocket;
  const bool agent = kind_ == endpoint::agent;
  const auto max_frames = agent ? cfg.agent_max_outbound_frames : cfg.max_outbound_frames;
  const auto max_bytes = agent ? cfg.agent_max_outbound_bytes : cfg.max_outbound_bytes;
  if (queue_.size() >= max_frames || queued_bytes_ + bytes->size() > max_bytes) {
    core_.stats.slow_consumers_closed++;
    log_throttled(core_.stats.log_slow_consumer, spdlog::level::info,
                  "dropping connection {} from {}: it does not read (outbound queue full: {} frames, {} bytes)", id_,
                  remote_, queue_.size(), queued_bytes_);
    return abort_connection();
  }
  queued_bytes_ += bytes->size();
  queue_.push_back(outbound{std::move(bytes), binary});
  if (!writing_) do_write();
}

void websocket_session::when_drained(std::function<void()> fn) {
  if (finished_) return;
  drain_waiter_ = std::move(fn);
  notify_if_drained();
}

// A replay waiting for room gets its next page once the queue is at most a quarter full.
void websocket_session::notify_if_drained() {
  if (!drain_waiter_) return;
  const auto& cfg = core_.cfg.websocket;
  const bool agent = kind_ == endpoint::agent;
  const auto max_frames = agent ? cfg.agent_max_outbound_frames : cfg.max_outbound_frames;
  const auto max_bytes = agent ? cfg.agent_max_outbound_bytes : cfg.max_outbound_bytes;
  if (queue_.size() > max_frames / 4 || queued_bytes_ > max_bytes / 4) return;
  auto fn = std::move(drain_waiter_);
  drain_waiter_ = nullptr;
  fn();
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
    write_raw_close();
    return;
  }
  if (ec) return abort_connection();
  queued_bytes_ -= queue_.front().bytes->size();
  queue_.pop_front();
  notify_if_drained();
  if (!queue_.empty()) return do_write();
  if (close_after_queue_) {
    auto reason = *close_after_queue_;
    close_after_queue_.reset();
    ws_.async_close(reason, [self = shared_from_this()](beast::error_code ec) {
      spdlog::debug("connection {}: close handshake done: {}", self->id_, ec.message());
      self->finish();
    });
  }
}

void websocket_session::close_with(std::uint16_t code, std::string reason) {
  if (closing_ || finished_) return;
  websocket::close_reason cr{static_cast<websocket::close_code>(code), reason};
  if (!accepted_) {
    close_after_accept_ = cr; // the handshake is still running: on_accept sends it
    return;
  }
  closing_ = true;
  hello_timer_.cancel();
  if (writing_) {
    close_after_queue_ = cr; // after what is queued
    return;
  }
  ws_.async_close(cr, [self = shared_from_this()](beast::error_code ec) {
    spdlog::debug("connection {}: close handshake done: {}", self->id_, ec.message());
    self->finish();
  });
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
  drain_waiter_ = nullptr;
  if (!writing_) { // else on_write releases it: the write still reads the front buffer
    queue_.clear();
    queued_bytes_ = 0;
  }
  if (handler_) handler_->on_close(core_.stopping.load());
  handler_.reset(); // the bridge and the session no longer reference each other
}

} // namespace dynchat::net
