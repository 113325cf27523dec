// Accepts connections and holds every one to server.max_connections: past the cap a
// connection is closed at once (the client learns at once, and the backlog drains);
// in the last server.health_reserve slots below it, a connection may only ask for
// /healthz or /metrics, so probes still get in while idle connections crowd the rest.
// Out of descriptors anyway (EMFILE), it backs off instead of spinning, and says so at
// most once a second.
#include "detail.hpp"

#include <spdlog/spdlog.h>

#include "dynchat/core/address_limiter.hpp"
#include "dynchat/core/throttled_log.hpp"

namespace dynchat::net {
namespace {

bool out_of_resources(const beast::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

} // namespace

// The acceptor and its timer on one strand: stop() and the accept loop never overlap,
// whatever the number of io threads.
listener::listener(server::core& core, tcp::endpoint ep)
  : core_(core), acceptor_(asio::make_strand(core.ioc)), backoff_(acceptor_.get_executor()) {
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
    core_.stats.accept_failures++;
    if (!out_of_resources(ec)) {
      // The client gave up (ECONNABORTED) and the like: go on, after a breath so a
      // persistent error cannot spin a core.
      backoff_.expires_after(std::chrono::milliseconds{5});
      backoff_.async_wait([self = shared_from_this()](beast::error_code e) {
        if (!e && !self->stopped_) self->do_accept();
      });
      return;
    }
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
  beast::error_code ec_peer;
  const auto peer = socket.remote_endpoint(ec_peer);
  const auto address = ec_peer ? std::string{} : peer.address().to_string();
  // One client may hold only its share; a trusted proxy speaks for many.
  const auto key = address.empty() || core_.proxies.contains(address) ? std::string{} : address_group(address);
  if (!key.empty() && !admit_address(key)) {
    core_.stats.connections_refused++;
    log_throttled(core_.stats.log_connection_cap, spdlog::level::warn,
                  "refusing a connection from {}: server.max_connections_per_address ({}) reached", address,
                  core_.cfg.server.max_connections_per_address);
    beast::error_code ignored;
    socket.close(ignored);
    return do_accept();
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  const bool reserve_only = open >= core_.max_connections - core_.cfg.server.health_reserve;
  std::make_shared<http_session>(std::move(socket), core_, connection_slot{core_, key}, reserve_only)->run();
  do_accept();
}

// Counts the connection against its address; false when the address has its share.
bool listener::admit_address(const std::string& key) {
  std::lock_guard lock{core_.per_address_mutex};
  auto& n = core_.per_address[key];
  if (n >= core_.cfg.server.max_connections_per_address) return false;
  ++n;
  return true;
}

} // namespace dynchat::net
