// Accepts connections and holds every one to server.max_connections: past the cap a
// connection is closed at once (the client learns at once, and the backlog drains);
// in the last server.health_reserve slots below it, a connection may only ask for
// /healthz or /metrics, so probes still get in while idle connections crowd the rest.
// Out of descriptors anyway (EMFILE), it backs off instead of spinning, and says so at
// most once a second.
#include "detail.hpp"

#include <spdlog/spdlog.h>

#include "dynchat/core/throttled_log.hpp"

namespace dynchat::net {
namespace {

bool out_of_resources(const beast::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

} // namespace

listener::listener(server::core& core, tcp::endpoint ep) : core_(core), acceptor_(core.ioc), backoff_(core.ioc) {
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
}

void listener::run() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
}

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
  acceptor_.async_accept(connection_executor(), beast::bind_front_handler(&listener::on_accept, shared_from_this()));
}

void listener::on_accept(beast::error_code ec, tcp::socket socket) {
  if (stopped_) return;
  if (ec) {
    if (!out_of_resources(ec)) return do_accept(); // the client gave up (ECONNABORTED) and the like
    core_.stats.accept_failures++;
    backoff_delay_ = std::min(std::chrono::milliseconds{1000}, std::max(std::chrono::milliseconds{50}, backoff_delay_ * 2));
    log_throttled(core_.stats.log_accept_failure, spdlog::level::warn,
                  "accept failed: {} ({} connections open); retrying in {} ms", ec.message(), core_.connections.load(),
                  backoff_delay_.count());
    backoff_.expires_after(backoff_delay_);
    backoff_.async_wait([self = shared_from_this()](beast::error_code e) {
      if (!e && !self->stopped_) self->do_accept();
    });
    return;
  }
  backoff_delay_ = std::chrono::milliseconds{0};
  const auto open = core_.connections.load();
  if (open >= core_.max_connections) {
    core_.stats.connections_refused++;
    log_throttled(core_.stats.log_connection_cap, spdlog::level::warn,
                  "refusing a connection: {} open, server.max_connections is {}", open, core_.max_connections);
    beast::error_code ignored;
    socket.close(ignored);
    return do_accept();
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  const bool reserve_only = open >= core_.max_connections - core_.cfg.server.health_reserve;
  std::make_shared<http_session>(std::move(socket), core_, connection_slot{core_}, reserve_only)->run();
  do_accept();
}

} // namespace dynchat::net
