// One request's life, each step a do_x/on_x pair on the client's strand:
//
//   start ─▶ (queue) ─▶ on_admitted ─┬─ pooled connection ──────────────────────┐
//                                    └─ resolve ─▶ connect ─▶ [TLS handshake] ───┤
//                                                                               ▼
//   finish ◀─ on_response ◀─ body ◀─ headers (1xx skipped) ◀─ written ◀─ send ◀──┘
//              └─ 3xx: follow ─▶ back to the queue's front
//
// Each phase arms the one timer with its own deadline; a deadline that fires finishes
// the exchange with `timeout` and closes the socket, and the operation still pending on
// it completes later with an error that is ignored (finished_). Every path ends in
// finish(), which runs once.
#include "detail.hpp"

#include <algorithm>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

namespace dynchat::http::detail {
namespace {

using error_code = boost::system::error_code;

// Past this, a std::chrono overflow; nobody means "longer than a day" for one phase.
constexpr std::chrono::milliseconds longest_deadline = std::chrono::hours{24};

// Interim answers (100 Continue, 103 Early Hints) skipped before the real one.
constexpr unsigned max_interim_responses = 8;

bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) return false;
  return std::string_view{"\"(),/:;<=>?@[\\]{}"}.find(c) == std::string_view::npos;
}

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char); }

// A CR or LF in a value would end the header early and let the rest be read as another.
bool is_field_value(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

std::string check_request(const request_spec& spec) {
  if (!is_token(spec.method)) return "'" + spec.method + "' is not an HTTP method";
  for (const auto& h : spec.headers) {
    if (!is_token(h.name)) return "'" + h.name + "' is not a header name";
    if (!is_field_value(h.value)) return "the value of header '" + h.name + "' holds a CR, LF or NUL";
  }
  return {};
}

// Safe to send twice: a request lost on a pooled connection the server had just closed
// may be retried (RFC 9110 §9.2.2).
bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" || method == "PUT" ||
         method == "DELETE";
}

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

void erase_headers(std::vector<header>& headers, std::initializer_list<std::string_view> names) {
  std::erase_if(headers, [&](const header& h) {
    return std::any_of(names.begin(), names.end(), [&](std::string_view n) { return iequal(h.name, n); });
  });
}

bool has_header(const std::vector<header>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const header& h) { return iequal(h.name, name); });
}

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

// A URL as messages and logs show it: without its query, which may carry a token
// (Marketo accepts access_token there).
std::string shown(std::string_view text) { return std::string{text.substr(0, text.find('?'))}; }
std::string shown(const url& u) { return shown(u.to_string()); }

// The server hung up, or reset, rather than answering: eof before the status line or
// in the middle of the response, on a socket or under TLS.
bool is_hang_up(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == ssl::error::stream_truncated;
}

} // namespace

exchange::exchange(std::shared_ptr<core> c, request_spec spec, client::callback done)
  : core_(std::move(c)), spec_(std::move(spec)), done_(std::move(done)), timer_(core_->strand),
    resolver_(core_->strand) {}

void exchange::start() {
  if (finished_) return; // cancelled before it got here
  id_ = core_->next_id++;
  auto parsed = parse_url(spec_.url);
  if (!parsed) return fail(error_kind::bad_url, "'" + shown(spec_.url) + "': " + parsed.error().message);
  url_ = std::move(*parsed);
  origin_ = url_.origin();
  if (auto why = check_request(spec_); !why.empty()) return fail(error_kind::bad_request, why);
  core_->submit(shared_from_this());
}

void exchange::arm(phase p, std::chrono::milliseconds after) {
  phase_ = p;
  timer_.expires_after(std::clamp(after, std::chrono::milliseconds{0}, longest_deadline));
  timer_.async_wait([self = shared_from_this(), generation = ++timer_generation_](const error_code& ec) {
    if (ec || generation != self->timer_generation_ || self->finished_) return;
    self->on_timeout();
  });
}

void exchange::arm_queue_deadline() { arm(phase::queued, core_->opts.timeouts.queue); }

void exchange::on_timeout() {
  const auto& t = core_->opts.timeouts;
  const auto where = url_.host + ":" + std::to_string(url_.port);
  switch (phase_) {
  case phase::queued: return fail(error_kind::timeout, "no free slot for " + origin_ + " within " + ms(t.queue));
  case phase::resolve: return fail(error_kind::timeout, "resolving '" + url_.host + "' took over " + ms(t.resolve));
  case phase::connect: return fail(error_kind::timeout, "connecting to " + where + " took over " + ms(t.connect));
  case phase::tls_handshake:
    return fail(error_kind::timeout, "the TLS handshake with " + where + " took over " + ms(t.tls_handshake));
  case phase::write:
    return fail(error_kind::timeout, "writing the request to " + where + " took over " + ms(t.write));
  case phase::headers:
    return fail(error_kind::timeout, "no response headers from " + shown(url_) + " within " + ms(t.headers));
  case phase::body:
    return fail(error_kind::timeout, "the response body from " + shown(url_) + " took over " + ms(t.body));
  case phase::done: return;
  }
}

void exchange::on_admitted() {
  if (finished_) return;
  if (auto pooled = core_->checkout(origin_)) {
    spdlog::debug("http: {} reuses a connection to {}", id_, origin_);
    conn_ = std::move(pooled);
    reused_ = true;
    return send();
  }
  connect_fresh();
}

void exchange::connect_fresh() {
  if (conn_) conn_->close();
  conn_ = std::make_unique<connection>(core_->strand, url_.https() ? &core_->tls : nullptr, origin_);
  reused_ = false;
  endpoints_.clear();
  error_code ec;
  const auto address = asio::ip::make_address(url_.host, ec);
  if (!ec) { // an IP literal: nothing to look up
    endpoints_.emplace_back(address, url_.port);
    return connect();
  }
  arm(phase::resolve, core_->opts.timeouts.resolve);
  resolver_.async_resolve(url_.host, std::to_string(url_.port),
                          [self = shared_from_this()](const error_code& ec, const tcp::resolver::results_type& r) {
                            self->on_resolved(ec, r);
                          });
}

void exchange::on_resolved(const error_code& ec, const tcp::resolver::results_type& results) {
  if (finished_) return;
  if (ec) return fail(error_kind::dns, "cannot resolve '" + url_.host + "': " + ec.message());
  for (const auto& entry : results) endpoints_.push_back(entry.endpoint());
  connect();
}

void exchange::connect() {
  arm(phase::connect, core_->opts.timeouts.connect);
  asio::async_connect(conn_->socket(), endpoints_,
                      [self = shared_from_this()](const error_code& ec, const tcp::endpoint&) { self->on_connected(ec); });
}

void exchange::on_connected(const error_code& ec) {
  if (finished_) return;
  if (ec)
    return fail(error_kind::connect,
                "cannot connect to " + url_.host + ":" + std::to_string(url_.port) + ": " + ec.message());
  error_code ignored;
  conn_->socket().set_option(tcp::no_delay{true}, ignored); // a request is one write; do not hold its tail
  auto* tls = conn_->tls_stream();
  if (!tls) return send();
  arm(phase::tls_handshake, core_->opts.timeouts.tls_handshake);
  conn_->expect_peer(url_.host, core_->opts.tls.verify);
  tls->async_handshake(ssl::stream_base::client,
                       [self = shared_from_this()](const error_code& ec) { self->on_handshake(ec); });
}

void exchange::on_handshake(const error_code& ec) {
  if (finished_) return;
  if (!ec) return send();
  const auto where = url_.host + ":" + std::to_string(url_.port);
  if (auto why = conn_->verify_failure(); !why.empty())
    return fail(error_kind::tls, "the certificate of " + where + " is not accepted: " + why);
  fail(error_kind::tls, "the TLS handshake with " + where + " failed: " + ec.message());
}

void exchange::send() {
  arm(phase::write, core_->opts.timeouts.write);
  auto& m = message_.emplace();
  m.method_string(spec_.method);
  m.target(url_.target);
  m.version(11);
  for (const auto& h : spec_.headers) m.insert(h.name, h.value);
  if (!has_header(spec_.headers, "Host")) m.set(bhttp::field::host, url_.host_header());
  if (!has_header(spec_.headers, "User-Agent") && !core_->opts.user_agent.empty())
    m.set(bhttp::field::user_agent, core_->opts.user_agent);
  m.body() = {spec_.body.data(), spec_.body.size()};
  m.prepare_payload();
  conn_->with_stream([&](auto& stream) {
    bhttp::async_write(stream, *message_,
                       [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_written(ec); });
  });
}

void exchange::on_written(const error_code& ec) {
  if (finished_) return;
  if (ec) {
    if (retry_on_fresh_connection()) return;
    return fail(error_kind::connection_closed, "the connection to " + origin_ + " broke while writing: " + ec.message());
  }
  arm(phase::headers, core_->opts.timeouts.headers);
  read_headers();
}

void exchange::read_headers() {
  auto& p = parser_.emplace();
  p.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(core_->opts.max_header_bytes, UINT32_MAX)));
  p.body_limit(core_->opts.max_body_bytes);
  if (spec_.method == "HEAD") p.skip(true); // a HEAD's answer has a Content-Length but no body
  conn_->with_stream([&](auto& stream) {
    bhttp::async_read_header(stream, conn_->buffer, *parser_,
                             [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_headers(ec); });
  });
}

void exchange::on_headers(const error_code& ec) {
  if (finished_) return;
  if (ec) return on_read_failed(ec);
  const unsigned status = parser_->get().result_int();
  if (status / 100 == 1) {
    if (status == 101) return fail(error_kind::protocol, origin_ + " switched protocols, which was not asked for");
    if (++interim_ > max_interim_responses)
      return fail(error_kind::protocol, origin_ + " sent more than " + std::to_string(max_interim_responses) +
                                          " interim (1xx) responses");
    return read_headers(); // still within the headers deadline
  }
  arm(phase::body, core_->opts.timeouts.body);
  if (parser_->is_done()) return on_response();
  conn_->with_stream([&](auto& stream) {
    bhttp::async_read(stream, conn_->buffer, *parser_,
                      [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_body(ec); });
  });
}

void exchange::on_body(const error_code& ec) {
  if (finished_) return;
  if (ec) return on_read_failed(ec);
  on_response();
}

void exchange::on_read_failed(const error_code& ec) {
  const auto& o = core_->opts;
  if (ec == bhttp::error::header_limit)
    return fail(error_kind::too_large, "the response headers from " + shown(url_) + " exceed " +
                                         std::to_string(o.max_header_bytes) + " bytes");
  if (ec == bhttp::error::body_limit)
    return fail(error_kind::too_large, "the response body from " + shown(url_) + " exceeds " +
                                         std::to_string(o.max_body_bytes) + " bytes");
  if (is_hang_up(ec)) {
    if (phase_ == phase::headers && !parser_->got_some() && retry_on_fresh_connection()) return;
    return fail(error_kind::connection_closed,
                origin_ + " closed the connection before the response was complete (" + ec.message() + ")");
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category())
    return fail(error_kind::protocol, "malformed response from " + shown(url_) + ": " + ec.message());
  fail(error_kind::connection_closed, "reading the response from " + origin_ + " failed: " + ec.message());
}

// A pooled connection the server closed while it sat idle (the peek at checkout can miss
// a close that is still on its way) fails a request that was never processed: start it
// again, once, on a new connection, if it is safe to send twice.
bool exchange::retry_on_fresh_connection() {
  if (!reused_ || retried_ || !idempotent(spec_.method)) return false;
  retried_ = true;
  spdlog::debug("http: {} retries on a fresh connection to {}: the pooled one was closed", id_, origin_);
  connect_fresh();
  return true;
}

void exchange::on_response() {
  auto& m = parser_->get();
  const unsigned status = m.result_int();
  const bool reusable = parser_->keep_alive() && message_->keep_alive() && conn_->buffer.size() == 0;
  const auto location = m[bhttp::field::location];
  if (spec_.follow_redirects && is_redirect(status) && !location.empty()) {
    const std::string_view where{location.data(), location.size()};
    if (redirects_ >= core_->opts.max_redirects)
      return fail(error_kind::too_many_redirects, "more than " + std::to_string(core_->opts.max_redirects) +
                                                    " redirects; the last, from " + shown(url_) + ", to '" +
                                                    shown(where) + "'");
    auto next = resolve_reference(url_, where);
    if (!next)
      return fail(error_kind::redirect_refused, shown(url_) + " redirects to '" + shown(where) +
                                                  "', which cannot be followed: " + next.error().message);
    if (url_.https() && !next->https())
      return fail(error_kind::redirect_refused,
                  "refused to follow " + shown(url_) + " from https down to " + shown(*next));
    if (reusable) core_->checkin(std::move(conn_));
    return follow(*next, status);
  }

  response r;
  r.status = status;
  r.reason = std::string{m.reason()};
  for (const auto& field : m) r.headers.push_back({std::string{field.name_string()}, std::string{field.value()}});
  r.body = std::move(m.body());
  r.url = url_.to_string(); // the caller's own data: whole
  r.redirects = redirects_;
  if (reusable) core_->checkin(std::move(conn_));
  finish(std::move(r));
}

void exchange::follow(const url& next, unsigned status) {
  ++redirects_;
  spdlog::debug("http: {} follows a {} from {} to {}", id_, status, shown(url_), shown(next));
  // Credentials were meant for the origin that was asked, not wherever it points.
  if (next.origin() != origin_) erase_headers(spec_.headers, {"Authorization", "Proxy-Authorization", "Cookie", "Host"});
  // 303 means "GET the answer there"; a POST answered 301 or 302 becomes a GET too, as
  // every browser does (RFC 9110 §15.4.2). 307 and 308 repeat the request as it was.
  const bool to_get = (status == 303 && spec_.method != "HEAD") || ((status == 301 || status == 302) && spec_.method == "POST");
  if (to_get) {
    spec_.method = "GET";
    spec_.body.clear();
    erase_headers(spec_.headers, {"Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding"});
  }
  url_ = next;
  origin_ = next.origin();
  if (conn_) {
    conn_->close();
    conn_.reset(); // nothing is pending on it: its last read just completed
  }
  message_.reset();
  parser_.reset();
  interim_ = 0;
  retried_ = false;
  core_->release(*this);
  core_->requeue_front(shared_from_this());
}

void exchange::cancel() {
  fail(error_kind::cancelled, "cancelled (while " + std::string{to_string(phase_)} + ")");
}

void exchange::fail(error_kind kind, std::string message) {
  spdlog::debug("http: {} {} {} failed: {}", id_, spec_.method, shown(spec_.url), message);
  finish(error{kind, phase_, std::move(message)});
}

void exchange::finish(outcome o) {
  if (finished_) return;
  finished_ = true;
  ++timer_generation_;
  timer_.cancel();
  resolver_.cancel();
  if (conn_) conn_->close(); // a connection that finished cleanly went to the pool already
  core_->release(*this);
  core_->deliver(done_, std::move(o));
  core_->pump();
}

} // namespace dynchat::http::detail
