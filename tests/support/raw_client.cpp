#include "raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <utility>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace dynchat::testing {

raw_client::~raw_client() { close(); }

raw_client::raw_client(raw_client&& other) noexcept
  : fd_(std::exchange(other.fd_, -1)), ssl_(std::exchange(other.ssl_, nullptr)), in_(std::move(other.in_)) {}

bool raw_client::connect(std::uint16_t port, const std::string& source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  return ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

bool raw_client::connect_tls(std::uint16_t port, const std::string& ca_file, const std::string& source, int max_version) {
  if (!connect(port, source)) return false;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return false;
  // A read that meets only a session ticket returns, so that the read's deadline holds.
  SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
  if (max_version) { // past the system's own floor (Debian: TLS 1.2, security level 2), so the server decides
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx, max_version);
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  const bool trusted = SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) == 1;
  ssl_ = SSL_new(ctx);
  SSL_CTX_free(ctx); // the SSL holds its own reference
  if (!trusted || !ssl_) return false;
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
  SSL_set_fd(ssl_, fd_);
  // OpenSSL writes with write(2), not send(MSG_NOSIGNAL): a write to a server that has
  // closed must fail, not kill the test with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  return SSL_connect(ssl_) == 1;
}

long raw_client::read_bytes(char* buf, std::size_t size) {
  if (!ssl_) {
    const auto n = ::recv(fd_, buf, size, 0);
    return n > 0 ? n : -1;
  }
  const int n = SSL_read(ssl_, buf, static_cast<int>(size));
  if (n > 0) return n;
  // A record that was not data (a TLS 1.3 session ticket): nothing yet. Else a
  // close_notify, EOF or an error: the peer is gone.
  return SSL_get_error(ssl_, n) == SSL_ERROR_WANT_READ ? 0 : -1;
}

bool raw_client::send(const std::string& bytes) {
  if (ssl_) {
    std::size_t written = 0;
    return SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written) == 1 && written == bytes.size();
  }
  std::size_t off = 0;
  while (off < bytes.size()) {
    const auto n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

raw_client::got raw_client::receive_some(std::chrono::steady_clock::time_point deadline) {
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return got::timeout;
    pollfd p{fd_, POLLIN, 0};
    const bool buffered = ssl_ && SSL_pending(ssl_) > 0; // decrypted already: the socket may have nothing more
    if (!buffered && ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return got::timeout;
    char buf[65536];
    const auto n = read_bytes(buf, sizeof buf);
    if (n == 0) continue;
    if (n < 0) return got::closed;
    in_.append(buf, static_cast<std::size_t>(n));
    return got::bytes;
  }
}

bool raw_client::fill(std::size_t need, std::chrono::steady_clock::time_point deadline) {
  while (in_.size() < need)
    if (receive_some(deadline) != got::bytes) return false;
  return true;
}

bool raw_client::collect() {
  if (fd_ < 0) return false;
  while (true) {
    pollfd p{fd_, POLLIN, 0};
    if (!(ssl_ && SSL_pending(ssl_) > 0) && ::poll(&p, 1, 0) <= 0) return true;
    char buf[65536];
    const auto n = read_bytes(buf, sizeof buf);
    if (n == 0) continue;
    if (n < 0) {
      close(); // as any client does once the server has closed its side
      return false;
    }
    in_.append(buf, static_cast<std::size_t>(n));
  }
}

void raw_client::answer_close() {
  if (answered_close_) return;
  std::size_t pos = 0;
  if (!upgraded_) { // the 101 is still in the buffer: frames start after it
    pos = in_.find("\r\n\r\n");
    if (pos == std::string::npos || in_.compare(0, 12, "HTTP/1.1 101") != 0) return;
    pos += 4;
  }
  while (pos + 2 <= in_.size()) {
    const auto b1 = static_cast<unsigned char>(in_[pos + 1]);
    std::size_t header = 2, length = b1 & 0x7F;
    if (length == 126) header = 4;
    if (length == 127) header = 10;
    if (pos + header > in_.size()) return;
    if (header > 2) {
      length = 0;
      for (std::size_t i = pos + 2; i < pos + header; ++i) length = (length << 8) | static_cast<unsigned char>(in_[i]);
    }
    if (pos + header + length > in_.size()) return;
    if ((in_[pos] & 0x0F) == 0x8) {
      answered_close_ = true;
      send(client_frame(true, 0x8, in_.substr(pos + header, std::min<std::size_t>(length, 2))));
      return;
    }
    pos += header + length;
  }
}

std::string raw_client::receive(std::chrono::milliseconds timeout) {
  fill(in_.size() + 1, std::chrono::steady_clock::now() + timeout);
  return std::exchange(in_, {});
}

bool raw_client::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto r = receive_some(deadline);; r = receive_some(deadline)) {
    if (r != got::bytes) return r == got::closed;
    in_.clear(); // what came before the close is of no interest here
  }
}

void raw_client::close() {
  if (ssl_) SSL_free(ssl_); // no close_notify: the socket just goes, as in plain mode
  ssl_ = nullptr;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::optional<raw_client::http_answer> raw_client::read_http(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t end = std::string::npos;
  while ((end = in_.find("\r\n\r\n")) == std::string::npos)
    if (!fill(in_.size() + 1, deadline)) return std::nullopt;
  http_answer a;
  a.headers = in_.substr(0, end + 2);
  if (a.headers.size() < 12) return std::nullopt;
  a.status = std::atoi(a.headers.c_str() + 9);
  std::size_t length = 0;
  for (const char* name : {"Content-Length: ", "content-length: "})
    if (auto p = a.headers.find(name); p != std::string::npos) length = std::stoul(a.headers.substr(p + std::strlen(name)));
  if (!fill(end + 4 + length, deadline)) return std::nullopt;
  a.body = in_.substr(end + 4, length);
  in_.erase(0, end + 4 + length);
  upgraded_ = a.status == 101;
  return a;
}

std::optional<raw_client::ws_frame> raw_client::read_frame(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!fill(2, deadline)) return std::nullopt;
  const auto b1 = static_cast<unsigned char>(in_[1]);
  std::size_t header = 2, length = b1 & 0x7F;
  if (length == 126) header = 4;
  if (length == 127) header = 10;
  if (!fill(header, deadline)) return std::nullopt;
  if (header > 2) {
    length = 0;
    for (std::size_t i = 2; i < header; ++i) length = (length << 8) | static_cast<unsigned char>(in_[i]);
  }
  if (!fill(header + length, deadline)) return std::nullopt;
  ws_frame f{static_cast<unsigned>(in_[0] & 0x0F), in_.substr(header, length)};
  in_.erase(0, header + length);
  return f;
}

std::string upgrade_request(const std::string& path, const std::string& extra_headers) {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
         extra_headers + "\r\n";
}

std::string client_frame(bool fin, unsigned opcode, const std::string& payload) {
  std::string f;
  f += static_cast<char>((fin ? 0x80 : 0) | opcode);
  const auto n = payload.size();
  if (n < 126) {
    f += static_cast<char>(0x80 | n);
  } else if (n <= 0xFFFF) {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xFF);
  } else {
    f += static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8) f += static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF);
  }
  const char mask[4] = {0x37, 0x2a, 0x11, 0x5c};
  f.append(mask, 4);
  for (std::size_t i = 0; i < n; ++i) f += static_cast<char>(payload[i] ^ mask[i % 4]);
  return f;
}

} // namespace dynchat::testing
