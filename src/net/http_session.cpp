#include "detail.hpp"

#include <nlohmann/json.hpp>

namespace dynchat::net {
namespace {

constexpr auto http_read_timeout = std::chrono::seconds{30};

std::string error_body(std::string_view code, std::string_view message) {
  return nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

} // namespace

http_session::http_session(tcp::socket&& socket, server::core& core) : stream_(std::move(socket)), core_(core) {
  core_.stats.open_http_connections++;
}

http_session::~http_session() { core_.stats.open_http_connections--; }

void http_session::run() {
  asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&http_session::do_read, shared_from_this()));
}

void http_session::do_read() {
  parser_.emplace();
  parser_->body_limit(core_.cfg.websocket.max_http_body);
  parser_->header_limit(16 * 1024);
  stream_.expires_after(http_read_timeout);
  http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

void http_session::on_read(beast::error_code ec, std::size_t) {
  if (ec == http::error::body_limit) return respond(413, "application/json", error_body("too_large", "request body too large"), false);
  if (ec) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    return;
  }
  auto req = parser_->release();
  const auto path = path_of(std::string_view{req.target().data(), req.target().size()});
  if (websocket::is_upgrade(req)) {
    if (path == "/v1/visitor") return upgrade(std::move(req), endpoint::visitor);
    if (path == "/v1/agent") return upgrade(std::move(req), endpoint::agent);
    return respond(404, "application/json", error_body("not_found", "no websocket endpoint here"), false);
  }
  const bool keep_alive = req.keep_alive();
  if (req.method() == http::verb::get && path == "/healthz")
    return respond(200, "application/json", R"({"status":"ok"})", keep_alive);
  if (req.method() == http::verb::get && path == "/metrics")
    return respond(200, "text/plain; version=0.0.4", core_.stats.render_prometheus(), keep_alive);
  http_request request{std::string{req.method_string()}, std::string{req.target()},
                       std::string{req[http::field::authorization]}, std::move(req.body())};
  // Answered on the connection's executor whichever thread replies.
  core_.rest.handle(std::move(request), [self = shared_from_this(), keep_alive](http_response r) {
    asio::post(self->stream_.get_executor(), [self, keep_alive, r = std::move(r)]() mutable {
      self->respond(r.status, std::move(r.content_type), std::move(r.body), keep_alive);
    });
  });
}

void http_session::upgrade(http::request<http::string_body>&& req, endpoint kind) {
  if (core_.websockets.load() >= core_.cfg.websocket.max_connections) {
    core_.stats.upgrades_rejected++;
    return respond(503, "application/json", error_body("at_capacity", "too many open connections; retry later"), false);
  }
  stream_.expires_never(); // the websocket keeps its own timeouts
  std::make_shared<websocket_session>(stream_.release_socket(), core_, kind)->run(std::move(req));
}

void http_session::respond(unsigned status, std::string content_type, std::string body, bool keep_alive) {
  response_ = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
  response_->set(http::field::server, "dynchat");
  response_->set(http::field::content_type, content_type);
  if (status == 503) response_->set(http::field::retry_after, "1");
  response_->keep_alive(keep_alive);
  response_->body() = std::move(body);
  response_->prepare_payload();
  stream_.expires_after(http_read_timeout);
  http::async_write(stream_, *response_,
                    [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                      self->on_write(keep_alive, ec);
                    });
}

void http_session::on_write(bool keep_alive, beast::error_code ec) {
  response_.reset();
  if (ec) return;
  if (!keep_alive) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    return;
  }
  do_read();
}

} // namespace dynchat::net
