// TLS on the server: the certificate and key checked at start-up, and the TLS stream's
// operations, instantiated once each (socket_stream.hpp keeps Beast's TLS templates out
// of the session files, which compile several times slower with them).
#include "detail.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

namespace dynchat::net {
namespace {

// The whole of a file, or an error naming the setting, the file and why.
std::string read_file(const char* key, const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f{std::fopen(path.c_str(), "rb"), &std::fclose};
  if (!f) throw std::runtime_error(fmt::format("cannot read {} {}: {}", key, path, std::strerror(errno)));
  std::string out;
  char buf[4096];
  while (const auto n = std::fread(buf, 1, sizeof buf, f.get())) out.append(buf, n);
  if (std::ferror(f.get())) throw std::runtime_error(fmt::format("cannot read {} {}: {}", key, path, std::strerror(errno)));
  return out;
}

std::string openssl_reason() {
  const auto e = ERR_peek_last_error();
  const char* reason = e ? ERR_reason_error_string(e) : nullptr;
  ERR_clear_error();
  return reason ? reason : "no reason given";
}

struct openssl_free {
  void operator()(BIO* b) const { BIO_free(b); }
  void operator()(X509* c) const { X509_free(c); }
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
template <class T>
using openssl_ptr = std::unique_ptr<T, openssl_free>;

openssl_ptr<BIO> memory_bio(const std::string& bytes) {
  return openssl_ptr<BIO>{BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()))};
}

// server.tls_cert and server.tls_key, checked one by one so that a bad file is named:
// unreadable, not PEM, or a key of another certificate. TLS 1.2 at least, OpenSSL's
// default ciphers (Debian: security level 2), no renegotiation.
} // namespace

std::unique_ptr<asio::ssl::context> make_tls_context(const server_settings& s) {
  if (s.tls_cert.empty()) return nullptr; // validate() holds both or neither
  const auto cert_pem = read_file("server.tls_cert", s.tls_cert);
  const auto key_pem = read_file("server.tls_key", s.tls_key);
  openssl_ptr<X509> cert{PEM_read_bio_X509(memory_bio(cert_pem).get(), nullptr, nullptr, nullptr)};
  if (!cert)
    throw std::runtime_error(
      fmt::format("server.tls_cert {} holds no PEM certificate ({})", s.tls_cert, openssl_reason()));
  // No passphrase prompt: a daemon has no terminal to ask on.
  auto no_passphrase = [](char*, int, int, void*) { return 0; };
  openssl_ptr<EVP_PKEY> key{PEM_read_bio_PrivateKey(memory_bio(key_pem).get(), nullptr, no_passphrase, nullptr)};
  if (!key)
    throw std::runtime_error(fmt::format("server.tls_key {} holds no PEM private key, or an encrypted one ({})",
                                         s.tls_key, openssl_reason()));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    throw std::runtime_error(
      fmt::format("server.tls_key {} does not match the certificate in server.tls_cert {}", s.tls_key, s.tls_cert));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0)
    spdlog::warn("server.tls_cert {}: the certificate has expired; clients will refuse it", s.tls_cert);

  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  beast::error_code ec;
  ctx->use_certificate_chain(asio::buffer(cert_pem), ec); // the intermediates too
  if (ec) throw std::runtime_error(fmt::format("server.tls_cert {}: {}", s.tls_cert, ec.message()));
  if (SSL_CTX_use_PrivateKey(native, key.get()) != 1 || SSL_CTX_check_private_key(native) != 1)
    throw std::runtime_error(fmt::format("server.tls_key {}: {}", s.tls_key, openssl_reason()));
  return ctx;
}


// TLS streams (socket_stream.hpp): OpenSSL's Asio operations are instantiated here, once
// each, for one buffer and one handler type.
class tls_stream {
public:
  tls_stream(tcp::socket&& socket, asio::ssl::context& ctx) : ssl(std::move(socket), ctx) {}
  asio::ssl::stream<beast::tcp_stream> ssl;
};

socket_stream::socket_stream(tcp::socket&& socket, asio::ssl::context* tls)
  : s_(tls ? layers{std::in_place_index<1>, std::make_unique<tls_stream>(std::move(socket), *tls)}
           : layers{std::in_place_index<0>, std::move(socket)}) {}
socket_stream::socket_stream(socket_stream&& other) = default;
socket_stream::~socket_stream() = default;

beast::tcp_stream& tcp_of(tls_stream& s) noexcept { return s.ssl.next_layer(); }

void tls_handshake(tls_stream& s, detail::io_handler h) {
  auto executor = h.get_executor();
  s.ssl.async_handshake(asio::ssl::stream_base::server,
                        asio::bind_executor(executor, [h = std::move(h)](beast::error_code ec) mutable { h(ec, 0); }));
}

void tls_read(tls_stream& s, asio::mutable_buffer b, detail::io_handler h) { s.ssl.async_read_some(b, std::move(h)); }

void tls_write(tls_stream& s, asio::const_buffer b, detail::io_handler h) { s.ssl.async_write_some(b, std::move(h)); }

void tls_shutdown(tls_stream& s, detail::io_handler h) {
  auto executor = h.get_executor();
  s.ssl.async_shutdown(asio::bind_executor(executor, [h = std::move(h)](beast::error_code ec) mutable { h(ec, 0); }));
}

} // namespace dynchat::net
