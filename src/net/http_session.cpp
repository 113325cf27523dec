// One HTTP connection: with TLS, first the handshake (within server.header_timeout);
// then reads requests (headers within server.header_timeout, the rest
// within server.request_timeout), answers /healthz and /metrics itself, hands websocket
// upgrades to a websocket_session with the bytes read past the upgrade, and passes the
// REST API to the http_handler. A request it cannot take gets a status and a JSON body,
// then the connection closes: 400 malformed, 405 wrong method, 408 too slow, 413 body
// too large, 414 target too long, 426 not an upgrade, 431 headers too large.
// Everything past the handshake is the same over TLS and plain TCP: socket_stream.hpp.
#include "detail.hpp"

#include <boost/asio/ssl/error.hpp>
#include <nlohmann/json.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "dynchat/core/throttled_log.hpp"

namespace dynchat::net {
namespace {

// A connection in the reserve (near the connection cap) gets this long for its headers.
constexpr auto reserve_header_timeout = std::chrono::seconds{1};

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

// OpenSSL's words for the commonest failure ("http request") say little to an operator.
std::string handshake_failure(const beast::error_code& ec) {
  const bool ssl = ec.category() == asio::error::get_ssl_category();
  if (ssl && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_HTTP_REQUEST)
    return "plain HTTP sent to the TLS port";
  return ec.message();
}

} // namespace

http_session::http_session(tcp::socket&& socket, server::core& core, connection_slot slot, bool reserve_only)
  : stream_(std::move(socket), core.tls.get()), deadline_(stream_.get_executor()), core_(core), slot_(std::move(slot)),
    reserve_only_(reserve_only) {
  core_.stats.open_http_connections++;
  beast::error_code ec;
  auto ep = stream_.tcp().socket().remote_endpoint(ec);
  peer_ = ec ? std::string{"?"} : ep.address().to_string();
}

http_session::~http_session() { core_.stats.open_http_connections--; }

void http_session::run() {
  asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&http_session::start, shared_from_this()));
}

void http_session::start() {
  if (!stream_.is_tls()) return do_read();
  // A client that connects and never sends its ClientHello (or stalls in the handshake)
  // holds its connection slot no longer than one that sends no request: the TCP stream's
  // timer closes the socket.
  stream_.tcp().expires_after(reserve_only_ ? reserve_header_timeout : core_.cfg.server.header_timeout);
  stream_.async_handshake(beast::bind_front_handler(&http_session::on_handshake, shared_from_this()));
}

// A failed handshake (plain HTTP to this port, a client that refuses the certificate,
// no common protocol version, a timeout) closes the connection as the session ends.
void http_session::on_handshake(beast::error_code ec) {
  stream_.tcp().expires_never();
  if (!ec) return do_read();
  core_.stats.tls_handshake_failures++;
  log_throttled(core_.stats.log_tls_handshake, spdlog::level::info, "TLS handshake with {} failed: {}", peer_,
                handshake_failure(ec));
}

void http_session::do_read() {
  parser_.emplace();
  parser_->body_limit(core_.cfg.websocket.max_http_body);
  parser_->header_limit(static_cast<std::uint32_t>(core_.cfg.server.max_header_bytes));
  // Slow or silent clients may not hold a connection: the headers have a short deadline.
  arm_deadline(reserve_only_ ? std::chrono::duration_cast<std::chrono::seconds>(reserve_header_timeout)
                             : core_.cfg.server.header_timeout);
  http::async_read_header(stream_, buffer_, *parser_, beast::bind_front_handler(&http_session::on_header, shared_from_this()));
}

// Our own timer rather than the stream's, whose expiry closes the socket: a client that
// sent part of a request is owed a 408.
void http_session::arm_deadline(std::chrono::seconds after) {
  stream_.tcp().expires_never();
  timed_out_ = false;
  deadline_.expires_after(after);
  deadline_.async_wait([weak = weak_from_this(), gen = ++deadline_gen_](beast::error_code ec) {
    if (ec) return; // cancelled: the read finished in time
    if (auto self = weak.lock()) {
      if (gen != self->deadline_gen_) return; // already re-armed or done: this wait was queued too late
      self->timed_out_ = true;
      beast::error_code ignored;
      self->stream_.tcp().socket().cancel(ignored);
    }
  });
}

void http_session::on_header(beast::error_code ec, std::size_t) {
  if (ec) return on_failed_read(ec);
  if (parser_->is_done()) return on_request();
  arm_deadline(core_.cfg.server.request_timeout);
  // A client that asked (curl does, for bodies over 1 KiB) waits for this before its
  // body; the size was already checked against the body limit with the headers. (HTTP/1.0
  // has no 100.) Token and route are checked once the body is in, like any request's.
  if (parser_->get().version() >= 11 && beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
    static constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
    return asio::async_write(stream_, asio::buffer(continue_line.data(), continue_line.size()),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->on_failed_read(ec);
                              self->read_body();
                            });
  }
  read_body();
}

void http_session::read_body() {
  http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&http_session::on_body, shared_from_this()));
}

void http_session::on_body(beast::error_code ec, std::size_t) {
  if (ec) return on_failed_read(ec);
  on_request();
}

void http_session::on_failed_read(beast::error_code ec) {
  auto close = [&] {
    beast::error_code ignored;
    stream_.tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
  };
  ++deadline_gen_;
  deadline_.cancel();
  if (ec == http::error::end_of_stream) return close(); // the client is done
  if (timed_out_) {
    // Nothing sent at all (an idle keep-alive or a silent connection): just close.
    if (!parser_->got_some() && buffer_.size() == 0) return close();
    return fail(408, protocol::error_code::request_timeout, "the request did not arrive in time");
  }
  if (ec == http::error::header_limit) {
    // The parser takes the request line first: if it never got one, the line alone
    // (its target) was too long; otherwise the headers were.
    if (parser_->get().target().empty()) return fail(414, protocol::error_code::uri_too_long, "the request target is too long");
    return fail(431, protocol::error_code::headers_too_large, "the request headers are too large");
  }
  if (ec == http::error::body_limit) return fail(413, protocol::error_code::too_large, "request body too large");
  if (ec.category() == make_error_code(http::error::bad_target).category())
    return fail(400, protocol::error_code::bad_request, std::string{"malformed request: "} + ec.message());
  close(); // the connection broke
}

std::string http_session::remote_address(const http::request<http::string_body>& req) const {
  // Proxies may add their own X-Forwarded-For line instead of extending the first: the
  // lines, in order, form one list (RFC 7230 §3.2.2), read from the right.
  std::string forwarded;
  for (auto [it, end] = req.equal_range("X-Forwarded-For"); it != end; ++it) {
    if (!forwarded.empty()) forwarded += ", ";
    forwarded.append(it->value().data(), it->value().size());
  }
  return client_address(peer_, forwarded, core_.proxies);
}

void http_session::on_request() {
  ++deadline_gen_;
  deadline_.cancel();
  auto req = parser_->release();
  const std::string_view target{req.target().data(), req.target().size()};
  if (target.size() > core_.cfg.server.max_url_bytes) return fail(414, protocol::error_code::uri_too_long, "the request target is too long");
  if (req.count(http::field::authorization) > 1) return fail(400, protocol::error_code::bad_request, "more than one Authorization header");
  const auto path = path_of(target);
  // A reserve connection answers once and goes: a probe may not keep its slot.
  const bool keep_alive = req.keep_alive() && !reserve_only_;
  const bool get = req.method() == http::verb::get;

  if (path == "/healthz") {
    if (!get) return fail(405, protocol::error_code::method_not_allowed, "use GET", "GET");
    // While stopping, load balancers should send new clients elsewhere.
    if (core_.stopping) return respond(503, "application/json", R"({"status":"stopping"})", false);
    return respond(200, "application/json", R"({"status":"ok"})", keep_alive);
  }
  if (path == "/metrics") {
    if (!get) return fail(405, protocol::error_code::method_not_allowed, "use GET", "GET");
    return respond(200, "text/plain; version=0.0.4", core_.stats.render_prometheus(), keep_alive);
  }
  if (reserve_only_)
    return fail(503, protocol::error_code::at_capacity, "the server is at its connection limit; only /healthz and /metrics are served");

  auto client = remote_address(req);
  if (path == "/v1/visitor" || path == "/v1/agent") {
    if (!websocket::is_upgrade(req)) return fail(426, protocol::error_code::upgrade_required, "this endpoint speaks websocket only");
    return upgrade(std::move(req), path == "/v1/visitor" ? endpoint::visitor : endpoint::agent, std::move(client));
  }
  if (websocket::is_upgrade(req)) return fail(404, protocol::error_code::not_found, "no websocket endpoint here");
  http_request request{std::string{req.method_string()}, std::string{req.target()},
                       std::string{req[http::field::authorization]}, std::move(req.body()), std::move(client)};
  // Answered on the connection's executor whichever thread replies.
  core_.rest->handle(std::move(request), [self = shared_from_this(), keep_alive](http_response r) {
    asio::post(self->stream_.get_executor(), [self, keep_alive, r = std::move(r)]() mutable {
      self->respond(r.status, std::move(r.content_type), std::move(r.body), keep_alive, std::move(r.allow));
    });
  });
}

void http_session::upgrade(http::request<http::string_body>&& req, endpoint kind, std::string remote) {
  if (core_.stopping) return fail(503, protocol::error_code::shutting_down, "the server is shutting down; retry on another");
  if (core_.websockets.load() >= core_.max_websockets) {
    core_.stats.upgrades_rejected++;
    return fail(503, protocol::error_code::at_capacity, "too many open connections; retry later");
  }
  stream_.tcp().expires_never(); // the websocket keeps its own timeouts
  // What was read past the request is the start of the websocket stream: a client may
  // send its hello in the same write as the upgrade.
  auto data = buffer_.cdata();
  std::string early{static_cast<const char*>(data.data()), data.size()};
  buffer_.consume(buffer_.size());
  // The stream moves on with its TLS state; this session touches it no more.
  std::make_shared<websocket_session>(std::move(stream_), std::move(early), core_, kind, std::move(slot_),
                                      std::move(remote))
    ->run(std::move(req));
}

void http_session::fail(unsigned status, protocol::error_code code, std::string_view message, std::string allow) {
  if (status != 503) {
    core_.stats.http_errors++;
    log_throttled(core_.stats.log_bad_request, spdlog::level::info, "HTTP {} from {}: {}", status, peer_, message);
  }
  respond(status, "application/json", protocol::error_envelope(code, message), false, std::move(allow));
}

void http_session::respond(unsigned status, std::string content_type, std::string body, bool keep_alive,
                           std::string allow) {
  response_ = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
  response_->set(http::field::server, "dynchat");
  response_->set(http::field::content_type, content_type);
  if (status == 503) response_->set(http::field::retry_after, "1");
  if (!allow.empty()) response_->set(http::field::allow, allow);
  response_->keep_alive(keep_alive);
  response_->body() = std::move(body);
  response_->prepare_payload();
  stream_.tcp().expires_after(core_.cfg.server.request_timeout);
  http::async_write(stream_, *response_,
                    [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                      self->on_write(keep_alive, ec);
                    });
}

void http_session::on_write(bool keep_alive, beast::error_code ec) {
  response_.reset();
  if (ec) return;
  if (keep_alive) return do_read();
  // Close our side, then read and drop what the client still sends for a moment:
  // closing with unread bytes would reset the connection, and the client could lose
  // the answer it is owed (a 413 while it is still sending the body).
  stream_.tcp().expires_after(std::chrono::seconds{1});
  if (stream_.is_tls()) {
    // Over TLS our side closes with a close_notify; until the client's (or its EOF, or
    // the second), OpenSSL reads what still comes and drops it.
    return stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }
  beast::error_code ignored;
  stream_.tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
  linger(64 * 1024);
}

void http_session::linger(std::size_t budget) {
  buffer_.consume(buffer_.size());
  stream_.tcp().async_read_some(buffer_.prepare(4096), [self = shared_from_this(), budget](beast::error_code ec, std::size_t n) {
    if (ec || n >= budget) return; // closed by the client, timed out, or enough: the socket closes with us
    self->linger(budget - n);
  });
}

} // namespace dynchat::net
