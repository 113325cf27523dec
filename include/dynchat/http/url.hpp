#pragma once
// Absolute http:// and https:// URLs, as the HTTP client needs them: the origin it
// connects to (scheme, host, port) and the request target it sends. Deliberately
// strict: a URL we would have to guess about (credentials in it, unencoded spaces or
// non-ASCII bytes, an unknown scheme) is refused rather than fixed up, so what is
// logged is what was fetched.
#include <cstdint>
#include <string>
#include <string_view>

#include "dynchat/core/result.hpp"

namespace dynchat::http {

enum class url_error {
  malformed,          // not scheme://host[:port][/path][?query][#fragment]
  unsupported_scheme, // a scheme other than http and https
  has_credentials,    // user:password@host: put credentials in a header instead
  bad_host,           // empty, or characters a host name or IP literal cannot hold
  bad_port,           // not 1-65535
  bad_target,         // a space, control character or non-ASCII byte in the path or query
};

struct url {
  std::string scheme;      // "http" or "https", lower case
  std::string host;        // lower case; an IPv6 literal without its brackets
  std::uint16_t port = 0;  // as given, or the scheme's default
  std::string target;      // path and query, at least "/"; the fragment is dropped

  bool https() const noexcept { return scheme == "https"; }
  bool default_port() const noexcept { return port == (https() ? 443 : 80); }
  bool host_is_ipv6() const noexcept { return host.find(':') != std::string::npos; }
  /// The Host header: host, with ":port" unless the default; an IPv6 literal in brackets.
  std::string host_header() const;
  /// scheme://host:port, always with the port: what connections are pooled and limited by.
  std::string origin() const;
  std::string to_string() const;
  friend bool operator==(const url&, const url&) = default;
};

/// Parses an absolute http:// or https:// URL.
result<url, url_error> parse_url(std::string_view text);

/// Resolves `reference` (a Location header: absolute, scheme-relative "//host/x",
/// absolute-path "/x", relative "x/../y" or query-only "?q") against `base`, as RFC 3986
/// §5.2 says.
result<url, url_error> resolve_reference(const url& base, std::string_view reference);

} // namespace dynchat::http
