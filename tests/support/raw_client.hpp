#pragma once
// A plain TCP client on 127.0.0.1 for tests that must misbehave below the websocket
// and HTTP libraries: bytes written exactly as given (an upgrade and a frame in one
// write, fragments, pings, malformed requests), or nothing at all. With connect_tls the
// same bytes go through TLS (one send, one TLS record), read and written with OpenSSL.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

struct ssl_st;

namespace dynchat::testing {

class raw_client {
public:
  raw_client() = default;
  ~raw_client();
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;
  raw_client(raw_client&& other) noexcept;

  /// True when connected.
  bool connect(std::uint16_t port, const std::string& source = "127.0.0.1");
  /// Connects and completes a TLS handshake, trusting only `ca_file` for 127.0.0.1.
  /// True when both succeeded. max_version (TLS1_1_VERSION...): offer no newer protocol,
  /// and any older one OpenSSL knows; 0: OpenSSL's defaults.
  bool connect_tls(std::uint16_t port, const std::string& ca_file, const std::string& source = "127.0.0.1",
                   int max_version = 0);
  /// Writes all of it in one write. False once the peer is gone.
  bool send(const std::string& bytes);
  /// What arrives within `timeout` (empty on a timeout or once closed).
  std::string receive(std::chrono::milliseconds timeout);
  /// Reads what has arrived into the client's buffer, for read_http and read_frame later
  /// (a reset from the peer would otherwise discard it). False once the peer is gone.
  bool collect();
  /// A well-behaved websocket client: once the server's close frame is among what was
  /// collected (after the 101), answers it with a close frame, once.
  void answer_close();
  bool answered_close() const { return answered_close_; }
  /// Waits for the peer to close (EOF or reset); reading and dropping what comes.
  bool wait_closed(std::chrono::milliseconds timeout);
  void close();

  struct http_answer {
    int status = 0;
    std::string headers; // as received, lower-case not applied
    std::string body;
  };
  /// Reads one HTTP response (status line, headers, Content-Length body).
  std::optional<http_answer> read_http(std::chrono::milliseconds timeout);

  struct ws_frame {
    unsigned opcode = 0;
    std::string payload;
  };
  /// After a 101, reads one unmasked server frame.
  std::optional<ws_frame> read_frame(std::chrono::milliseconds timeout);

private:
  enum class got { bytes, closed, timeout };
  got receive_some(std::chrono::steady_clock::time_point deadline); // appends to in_
  bool fill(std::size_t need, std::chrono::steady_clock::time_point deadline);
  long read_bytes(char* buf, std::size_t size); // recv, or SSL_read over TLS
  int fd_ = -1;
  ssl_st* ssl_ = nullptr; // set by connect_tls
  std::string in_; // read but not yet consumed
  bool answered_close_ = false;
  bool upgraded_ = false; // read_http has taken a 101 out of the buffer
};

/// A websocket upgrade request for `path` (GET, HTTP/1.1, a fixed key).
std::string upgrade_request(const std::string& path, const std::string& extra_headers = {});
/// A client frame as RFC 6455 lays it out, masked.
std::string client_frame(bool fin, unsigned opcode, const std::string& payload);

} // namespace dynchat::testing
