// A connection's socket and TLS setup. Host names are checked by OpenSSL itself
// (SSL_set1_host / X509_VERIFY_PARAM_set1_ip_asc, the same X509_check_host that
// asio::ssl::host_name_verification calls), during the chain verification, so a wrong
// name is reported like any other verification failure: "hostname mismatch".
#include "detail.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

namespace dynchat::http::detail {

ssl::context make_tls_context(const tls_options& options) {
  ssl::context ctx{ssl::context::tls_client};
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  if (!options.verify) {
    ctx.set_verify_mode(ssl::verify_none);
    return ctx;
  }
  ctx.set_verify_mode(ssl::verify_peer);
  // A machine without a trust store can still reach servers under tls.ca_file; one that
  // only needs public servers fails their handshakes with "unable to get local issuer".
  if (options.system_trust_store && SSL_CTX_set_default_verify_paths(ctx.native_handle()) != 1) {
    spdlog::warn("http client: the system trust store could not be loaded");
    ERR_clear_error();
  }
  if (!options.ca_file.empty()) {
    boost::system::error_code ec;
    ctx.load_verify_file(options.ca_file, ec);
    if (ec) throw std::runtime_error("http client: cannot load the CA file '" + options.ca_file + "': " + ec.message());
  }
  return ctx;
}

connection::connection(const strand_type& strand, ssl::context* tls, std::string origin)
  : idle_timer(strand), origin_(std::move(origin)),
    stream_(tls ? decltype(stream_){std::in_place_index<1>, strand, *tls}
                : decltype(stream_){std::in_place_index<0>, strand}) {}

tcp::socket& connection::socket() noexcept {
  if (auto* s = tls_stream()) return s->next_layer();
  return std::get<0>(stream_);
}

void connection::expect_peer(const std::string& host, bool verify) {
  auto* s = tls_stream();
  if (!s) return;
  SSL* handle = s->native_handle();
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  const bool is_address = !ec;
  // SNI carries names only (RFC 6066 §3).
  if (!is_address) SSL_set_tlsext_host_name(handle, host.c_str());
  if (!verify) return;
  if (is_address) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), host.c_str());
  else {
    SSL_set_hostflags(handle, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(handle, host.c_str());
  }
}

std::string connection::verify_failure() const {
  const auto* s = std::get_if<1>(&stream_);
  if (!s) return {};
  const long result = SSL_get_verify_result(const_cast<ssl::stream<tcp::socket>*>(s)->native_handle());
  if (result == X509_V_OK) return {};
  return X509_verify_cert_error_string(result);
}

void connection::close() noexcept {
  // No TLS close_notify: the connection is being dropped, not finished politely, and
  // waiting for the peer's answer would need a deadline of its own.
  boost::system::error_code ignored;
  socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
  idle_timer.cancel();
}

bool connection::still_usable() noexcept {
  if (!socket().is_open()) return false;
  char byte;
  const auto n = ::recv(socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  // 0: the server closed it. > 0: bytes nobody asked for. Only "nothing yet" is good.
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

} // namespace dynchat::http::detail
