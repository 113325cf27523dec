#include "detail.hpp"

#include <pthread.h>

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

} // namespace

server::server(const settings& cfg, gateway& gw, http_handler& rest, metrics& stats)
  : core_(std::make_shared<core>(cfg, gw, rest, stats)) {}

server::~server() { stop(); }

void server::start() {
  try {
    core_->acceptor = std::make_shared<listener>(*core_, parse_listen(core_->cfg.server.listen));
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("cannot listen on " + core_->cfg.server.listen + ": " + e.code().message());
  }
  core_->acceptor->run();
  for (unsigned i = 0; i < core_->cfg.server.io_threads; ++i)
    core_->threads.emplace_back([c = core_] {
      pthread_setname_np(pthread_self(), "dynchat.io"); // named for top -H and perf
      c->ioc.run();
    });
}

std::uint16_t server::port() const { return core_->acceptor ? core_->acceptor->port() : 0; }

void server::stop_accepting() {
  if (core_->acceptor) core_->acceptor->stop();
}

void server::close_all(std::uint16_t code, const std::string& reason) {
  std::vector<std::shared_ptr<websocket_session>> open;
  {
    std::lock_guard lock{core_->registry_mutex};
    for (auto& [id, weak] : core_->registry)
      if (auto s = weak.lock()) open.push_back(std::move(s));
  }
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

void server::stop() {
  if (core_->threads.empty()) return;
  core_->ioc.stop();
  for (auto& t : core_->threads) t.join();
  core_->threads.clear();
}

} // namespace dynchat::net
