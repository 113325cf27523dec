#include "http/test_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <stdexcept>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace dynchat::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

} // namespace

std::string served_request::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequal(n, name)) return v;
  return {};
}

bool served_request::has_header(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return iequal(h.first, name); });
}

void concurrency_gauge::enter() {
  std::lock_guard lock{mutex_};
  peak_ = std::max(peak_, ++now_);
}

void concurrency_gauge::leave() {
  std::lock_guard lock{mutex_};
  --now_;
}

int concurrency_gauge::peak() const {
  std::lock_guard lock{mutex_};
  return peak_;
}

// Members in the order they may be destroyed backwards: the sessions held open go
// first, then the io_context (with the sessions its handlers own), then the TLS context.
struct test_server::state {
  state(handler h, concurrency_gauge& g) : respond(std::move(h)), gauge(g) {}
  handler respond;
  concurrency_gauge& gauge;
  std::optional<ssl::context> tls;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::uint16_t port = 0;
  std::atomic<std::size_t> accepted{0};
  mutable std::mutex records_mutex;
  std::vector<served_request> records;
  std::vector<std::shared_ptr<void>> held; // silent connections, kept open until the end
  std::thread thread;

  void do_accept();
};

namespace {

template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
public:
  template <class... Args>
  session(test_server::state& st, std::size_t number, Args&&... args)
    : st_(st), number_(number), stream_(std::forward<Args>(args)...), timer_(st.ioc) {}

  void run() {
    if constexpr (std::is_same_v<Stream, ssl::stream<tcp::socket>>) {
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](const error_code& ec) {
        if (!ec) self->do_read();
      });
    } else {
      do_read();
    }
  }

private:
  tcp::socket& socket() { return beast::get_lowest_layer(stream_); }

  void close() {
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

  void do_read() {
    request_ = {};
    bhttp::async_read(stream_, buffer_, request_, [self = this->shared_from_this()](const error_code& ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(const error_code& ec) {
    if (ec) return; // the client is done, or gone
    served_request r;
    r.method = std::string{request_.method_string()};
    r.target = std::string{request_.target()};
    for (const auto& f : request_) r.headers.emplace_back(std::string{f.name_string()}, std::string{f.value()});
    r.body = request_.body();
    r.connection = number_;
    {
      std::lock_guard lock{st_.records_mutex};
      st_.records.push_back(r);
    }
    st_.gauge.enter();
    reply_ = st_.respond(r);
    if (reply_.delay.count() == 0) return act();
    timer_.expires_after(reply_.delay);
    timer_.async_wait([self = this->shared_from_this()](const error_code&) { self->act(); });
  }

  void act() {
    if (reply_.drop) {
      st_.gauge.leave();
      return close();
    }
    if (reply_.never) {
      st_.gauge.leave();
      st_.held.push_back(this->shared_from_this());
      return;
    }
    if (!reply_.raw.empty()) {
      st_.gauge.leave();
      if (!reply_.close_after) st_.held.push_back(this->shared_from_this());
      asio::async_write(stream_, asio::buffer(reply_.raw), [self = this->shared_from_this()](const error_code&, std::size_t) {
        if (self->reply_.close_after) self->close();
      });
      return;
    }
    response_ = {};
    response_.version(11);
    response_.result(reply_.status);
    for (const auto& [n, v] : reply_.headers) response_.insert(n, v);
    response_.body() = reply_.body;
    response_.keep_alive(request_.keep_alive() && response_.keep_alive());
    response_.prepare_payload();
    // Left before the answer is written, not once it is: the client may have read it
    // (and sent its next request, perhaps to another server's thread) before this
    // thread sees the write complete, and the gauge would count one request twice.
    st_.gauge.leave();
    bhttp::async_write(stream_, response_, [self = this->shared_from_this()](const error_code& ec, std::size_t) {
      if (ec) return;
      if (self->reply_.close_after || !self->response_.keep_alive()) return self->close();
      self->do_read();
    });
  }

  test_server::state& st_;
  std::size_t number_;
  Stream stream_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> request_;
  bhttp::response<bhttp::string_body> response_;
  canned_reply reply_;
};

} // namespace

void test_server::state::do_accept() {
  acceptor.async_accept([this](const error_code& ec, tcp::socket socket) {
    if (ec) return; // closed at the end
    const auto number = ++accepted;
    if (tls)
      std::make_shared<session<ssl::stream<tcp::socket>>>(*this, number, std::move(socket), *tls)->run();
    else
      std::make_shared<session<tcp::socket>>(*this, number, std::move(socket))->run();
    do_accept();
  });
}

test_server::test_server(handler h, std::optional<tls_identity> tls, std::shared_ptr<concurrency_gauge> gauge)
  : gauge_(gauge ? std::move(gauge) : std::make_shared<concurrency_gauge>()),
    state_(std::make_unique<state>(std::move(h), *gauge_)) {
  if (tls) {
    auto& ctx = state_->tls.emplace(ssl::context::tls_server);
    ctx.use_certificate_chain_file(tls->cert_file);
    ctx.use_private_key_file(tls->key_file, ssl::context::pem);
  }
  const tcp::endpoint ep{asio::ip::make_address("127.0.0.1"), 0};
  state_->acceptor.open(ep.protocol());
  state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  state_->acceptor.bind(ep);
  state_->acceptor.listen();
  state_->port = state_->acceptor.local_endpoint().port();
  state_->do_accept();
  state_->thread = std::thread{[s = state_.get()] { s->ioc.run(); }};
}

test_server::~test_server() {
  state_->ioc.stop();
  state_->thread.join();
  state_->held.clear();
}

std::uint16_t test_server::port() const { return state_->port; }

std::string test_server::url(const std::string& path) const {
  return std::string{state_->tls ? "https" : "http"} + "://127.0.0.1:" + std::to_string(port()) + path;
}

std::size_t test_server::accepted() const { return state_->accepted.load(); }

std::vector<served_request> test_server::requests() const {
  std::lock_guard lock{state_->records_mutex};
  return state_->records;
}

namespace {

// A listening socket on 127.0.0.1 with the given backlog; fills in `port`.
int listen_on_loopback(int backlog, std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, backlog) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  port = ntohs(addr.sin_port);
  return fd;
}

// Connects without blocking; true if the connection completed within `wait`.
bool connect_within(int fd, std::uint16_t port, std::chrono::milliseconds wait) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return true;
  if (errno != EINPROGRESS) return false;
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) return false;
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  return err == 0;
}

} // namespace

silent_listener::silent_listener() {
  fd_ = listen_on_loopback(64, port_);
  // A small receive window, so that a large request body stalls soon (accepted sockets
  // inherit it).
  const int small = 4096;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
}

silent_listener::~silent_listener() { ::close(fd_); }

full_listener::full_listener() {
  fd_ = listen_on_loopback(0, port_);
  // The kernel completes handshakes into the accept queue up to the backlog (Linux
  // admits backlog + 1); then it drops SYNs and a connect waits on its retransmissions.
  for (int i = 0; i < 16; ++i) {
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!connect_within(c, port_, std::chrono::milliseconds{200})) {
      ::close(c);
      return; // full
    }
    fillers_.push_back(c);
  }
  for (int c : fillers_) ::close(c);
  ::close(fd_);
  throw std::runtime_error("full_listener: the accept queue never filled");
}

full_listener::~full_listener() {
  for (int c : fillers_) ::close(c);
  ::close(fd_);
}

std::uint16_t closed_port() {
  std::uint16_t port = 0;
  ::close(listen_on_loopback(1, port));
  return port;
}

} // namespace dynchat::testing
