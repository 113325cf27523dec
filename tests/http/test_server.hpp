#pragma once
// Servers on 127.0.0.1 (a port the system picks) for the HTTP client's tests:
// - test_server: a small Beast HTTP/1.1 server, plain or TLS, on its own thread, whose
//   every answer the test scripts (delayed, withheld, raw bytes, closed after);
//   it counts accepted connections and the requests it held at once.
// - silent_listener: completes TCP handshakes (the kernel does) and never reads or
//   writes: TLS handshakes, request writes and response headers all stall.
// - full_listener: a listening socket whose accept queue is full: a connect hangs.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dynchat::testing {

using header_pairs = std::vector<std::pair<std::string, std::string>>;

struct served_request {
  std::string method;
  std::string target;
  header_pairs headers;
  std::string body;
  std::size_t connection = 0; // which accepted connection, from 1
  /// The first header of that name (case-insensitive), or empty.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

struct canned_reply {
  unsigned status = 200;
  header_pairs headers;
  std::string body;
  std::chrono::milliseconds delay{0}; // held this long before answering
  bool close_after = false;           // close the connection after answering, without saying so
  bool never = false;                 // never answer: the connection stays open, silent
  bool drop = false;                  // close the connection at once, without answering
  std::string raw;                    // written as it is instead of a response, then silence
                                      // (or, with close_after, a close)
};

/// Requests being answered at once, across the servers that share it.
class concurrency_gauge {
public:
  void enter();
  void leave();
  int peak() const;

private:
  mutable std::mutex mutex_;
  int now_ = 0;
  int peak_ = 0;
};

class test_server {
public:
  using handler = std::function<canned_reply(const served_request&)>;
  struct tls_identity {
    std::string cert_file; // chain, PEM
    std::string key_file;
  };
  /// Starts listening and serving at once. `h` runs on the server's thread.
  explicit test_server(handler h, std::optional<tls_identity> tls = std::nullopt,
                       std::shared_ptr<concurrency_gauge> gauge = nullptr);
  ~test_server();
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;

  std::uint16_t port() const;
  /// http(s)://127.0.0.1:port + path
  std::string url(const std::string& path) const;
  std::size_t accepted() const;
  /// In arrival order.
  std::vector<served_request> requests() const;
  int max_concurrent() const { return gauge_->peak(); }

  struct state;

private:
  std::shared_ptr<concurrency_gauge> gauge_;
  std::unique_ptr<state> state_;
};

class silent_listener {
public:
  silent_listener();
  ~silent_listener();
  silent_listener(const silent_listener&) = delete;
  silent_listener& operator=(const silent_listener&) = delete;
  std::uint16_t port() const { return port_; }

private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

class full_listener {
public:
  /// Throws std::runtime_error if the accept queue would not fill (then a connect to it
  /// would not hang, and a test relying on that must not pass by accident).
  full_listener();
  ~full_listener();
  full_listener(const full_listener&) = delete;
  full_listener& operator=(const full_listener&) = delete;
  std::uint16_t port() const { return port_; }

private:
  int fd_ = -1;
  std::vector<int> fillers_;
  std::uint16_t port_ = 0;
};

/// A port nothing listens on (bound, then closed: connections to it are refused).
std::uint16_t closed_port();

} // namespace dynchat::testing
