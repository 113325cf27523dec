#include "detail.hpp"

#include <pthread.h>
#include <sys/resource.h>


#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace dynchat::net {
namespace {

tcp::endpoint parse_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("listen address must be host:port, got '" + listen + "'");
  std::string host = listen.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("listen host must be an IP address, got '" + host + "'");
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) throw std::runtime_error("bad listen port in '" + listen + "'");
  return {addr, static_cast<std::uint16_t>(port)};
}

// Every connection holds a descriptor: the cap must leave room for LMDB, the log and
// the process itself, or accept() fails with EMFILE and health checks go unanswered.
std::size_t connection_cap(const server_settings& s) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return s.max_connections;
  const auto descriptors = static_cast<std::size_t>(limit.rlim_cur);
  const auto room = descriptors > s.reserved_descriptors + s.health_reserve + 1
                      ? descriptors - s.reserved_descriptors
                      : s.health_reserve + 1;
  if (room < s.max_connections) {
    spdlog::warn("server.max_connections {} lowered to {}: the open-file limit is {} and {} are reserved "
                 "(raise it with ulimit -n, or lower server.max_connections)",
                 s.max_connections, room, descriptors, s.reserved_descriptors);
    return room;
  }
  return s.max_connections;
}

} // namespace

server::server(const settings& cfg, metrics& stats) : core_(std::make_shared<core>(cfg, stats)) {
  core_->tls = make_tls_context(cfg.server);
  core_->max_connections = connection_cap(cfg.server);
  core_->max_websockets = std::min(cfg.websocket.max_connections, core_->max_connections - cfg.server.health_reserve);
}

server::~server() { stop(); }

void server::bind() {
  try {
    core_->acceptor = std::make_shared<listener>(*core_, parse_listen(core_->cfg.server.listen));
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("cannot listen on " + core_->cfg.server.listen + ": " + e.code().message());
  }
}

void server::start(gateway& gw, http_handler& rest) {
  core_->gw = &gw;
  core_->rest = &rest;
  core_->acceptor->run();
  for (unsigned i = 0; i < core_->cfg.server.io_threads; ++i)
    core_->threads.emplace_back([c = core_] {
      pthread_setname_np(pthread_self(), "dynchat.io"); // named for top -H and perf
      c->ioc.run();
    });
}

std::uint16_t server::port() const { return core_->acceptor ? core_->acceptor->port() : 0; }

bool server::tls() const { return core_->tls != nullptr; }

std::size_t server::max_connections() const { return core_->max_connections; }

void server::stop_accepting() {
  core_->stopping = true;
  if (core_->acceptor) core_->acceptor->stop();
}

void server::close_all(std::uint16_t code, const std::string& reason) {
  std::vector<std::shared_ptr<websocket_session>> open;
  {
    std::lock_guard lock{core_->registry_mutex};
    for (auto& [id, weak] : core_->registry)
      if (auto s = weak.lock()) open.push_back(std::move(s));
  }
  // A session that registers after this snapshot sees `stopping` when its handshake
  // completes and closes itself the same way.
  for (auto& s : open)
    asio::post(s->get_executor_for_shutdown(), [s, code, reason] { s->close_with(code, reason); });
}

bool server::wait_closed(std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (core_->websockets.load() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return true;
}

std::size_t server::open_websockets() const { return core_->websockets.load(); }

void server::stop() {
  if (core_->threads.empty()) return;
  core_->ioc.stop();
  for (auto& t : core_->threads) t.join();
  core_->threads.clear();
}

} // namespace dynchat::net
