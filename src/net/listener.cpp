#include "detail.hpp"

#include <spdlog/spdlog.h>

namespace dynchat::net {

listener::listener(server::core& core, tcp::endpoint ep) : core_(core), acceptor_(core.ioc), backoff_(core.ioc) {
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
}

void listener::run() { do_accept(); }

void listener::stop() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    self->stopped_ = true;
    beast::error_code ignored;
    self->acceptor_.close(ignored);
    self->backoff_.cancel();
  });
}

// A connection's handlers must never run at the same time. With one io thread they
// cannot, and a strand would only add a lock and a queue hop to every frame the actors
// post; with several io threads each connection gets its own strand.
asio::any_io_executor listener::connection_executor() {
  if (core_.cfg.server.io_threads > 1) return asio::make_strand(core_.ioc);
  return core_.ioc.get_executor();
}

void listener::do_accept() {
  acceptor_.async_accept(connection_executor(), [self = shared_from_this()](beast::error_code ec, tcp::socket s) {
    if (self->stopped_) return;
    if (ec) {
      // Out of descriptors (EMFILE) and the like: wait a little instead of spinning.
      spdlog::warn("accept failed: {}", ec.message());
      self->backoff_.expires_after(std::chrono::milliseconds{50});
      self->backoff_.async_wait([self](beast::error_code e) {
        if (!e && !self->stopped_) self->do_accept();
      });
      return;
    }
    s.set_option(tcp::no_delay(true));
    std::make_shared<http_session>(std::move(s), self->core_)->run();
    self->do_accept();
  });
}

} // namespace dynchat::net
