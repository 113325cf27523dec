#include "dynchat/http/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace dynchat::http {
namespace {

using parsed = result<url, url_error>;

failure<url_error> fail(url_error code, std::string message) { return {code, std::move(message)}; }

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string lowered(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A reg-name as DNS and /etc/hosts use it; internationalized names must come punycoded.
bool host_char(char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

// Bytes a request line cannot carry as they are: they would have to be percent-encoded,
// and guessing the encoding is the caller's business.
bool target_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f;
}

// "scheme:" at the start (RFC 3986 §3.1): tells an absolute reference from a relative one.
std::size_t scheme_length(std::string_view s) {
  if (s.empty() || !is_alpha(s[0])) return 0;
  for (std::size_t i = 1; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ':') return i;
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return 0;
  }
  return 0;
}

// RFC 3986 §5.2.4, on a path alone.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.starts_with("../")) in.remove_prefix(3);
    else if (in.starts_with("./")) in.remove_prefix(2);
    else if (in.starts_with("/./")) in.remove_prefix(2);
    else if (in == "/.") in = "/";
    else if (in.starts_with("/../") || in == "/..") {
      in = in.size() == 3 ? std::string_view{"/"} : in.substr(3);
      const auto slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
    } else if (in == "." || in == "..") in = {};
    else {
      const auto next = in.find('/', 1);
      const auto seg = in.substr(0, next);
      out += seg;
      in.remove_prefix(seg.size());
    }
  }
  return out;
}

result<std::string, url_error> checked_target(std::string_view path_and_query) {
  if (!std::all_of(path_and_query.begin(), path_and_query.end(), target_char))
    return fail(url_error::bad_target, "the path or query holds a space, control character or non-ASCII byte: "
                                       "percent-encode it");
  std::string target{path_and_query};
  if (target.empty() || target[0] == '?') target.insert(0, "/");
  return target;
}

} // namespace

std::string url::host_header() const {
  std::string h = host_is_ipv6() ? "[" + host + "]" : host;
  if (!default_port()) h += ":" + std::to_string(port);
  return h;
}

std::string url::origin() const {
  return scheme + "://" + (host_is_ipv6() ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string url::to_string() const { return scheme + "://" + host_header() + target; }

parsed parse_url(std::string_view text) {
  const auto colon = scheme_length(text);
  if (colon == 0) return fail(url_error::malformed, "not an absolute URL (scheme://host/...)");
  url u;
  u.scheme = lowered(text.substr(0, colon));
  if (u.scheme != "http" && u.scheme != "https")
    return fail(url_error::unsupported_scheme, "unsupported scheme '" + u.scheme + "' (only http and https)");
  if (text.substr(colon, 3) != "://") return fail(url_error::malformed, "not an absolute URL (scheme://host/...)");
  text.remove_prefix(colon + 3);
  if (auto hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);

  const auto authority_end = text.find_first_of("/?");
  auto authority = text.substr(0, authority_end);
  const auto rest = authority_end == std::string_view::npos ? std::string_view{} : text.substr(authority_end);
  if (authority.find('@') != std::string_view::npos)
    return fail(url_error::has_credentials, "credentials in the URL are refused: send them in a header");

  std::string_view port_text;
  if (authority.starts_with("[")) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail(url_error::bad_host, "an IPv6 literal without its ']'");
    const std::string literal{authority.substr(1, close - 1)};
    in6_addr ignored{};
    if (inet_pton(AF_INET6, literal.c_str(), &ignored) != 1)
      return fail(url_error::bad_host, "'" + literal + "' is not an IPv6 address");
    u.host = lowered(literal);
    const auto after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') return fail(url_error::malformed, "characters after the IPv6 literal");
    if (!after.empty()) port_text = after.substr(1);
  } else {
    const auto port_colon = authority.find(':');
    const auto host = authority.substr(0, port_colon);
    if (host.empty()) return fail(url_error::bad_host, "no host");
    if (host.size() > 253 || !std::all_of(host.begin(), host.end(), host_char))
      return fail(url_error::bad_host, "'" + std::string{host} + "' is not a host name");
    u.host = lowered(host);
    if (port_colon != std::string_view::npos) port_text = authority.substr(port_colon + 1);
  }

  u.port = u.https() ? 443 : 80;
  if (!port_text.empty()) {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), is_digit))
      return fail(url_error::bad_port, "port '" + std::string{port_text} + "' is not a number");
    const auto value = std::stoul(std::string{port_text});
    if (value == 0 || value > 65535) return fail(url_error::bad_port, "port " + std::to_string(value) + " out of range");
    u.port = static_cast<std::uint16_t>(value);
  }

  auto target = checked_target(rest);
  if (!target) return target.error();
  u.target = std::move(*target);
  return u;
}

parsed resolve_reference(const url& base, std::string_view reference) {
  if (scheme_length(reference) != 0) return parse_url(reference);
  if (reference.starts_with("//")) return parse_url(base.scheme + ":" + std::string{reference});

  if (auto hash = reference.find('#'); hash != std::string_view::npos) reference = reference.substr(0, hash);
  const auto ref_q = reference.find('?');
  const auto ref_path = reference.substr(0, ref_q);
  const std::string_view base_target{base.target};
  const auto base_q = base_target.find('?');
  const auto base_path = base_target.substr(0, base_q);

  std::string path;
  std::string_view query;
  if (ref_path.empty()) {
    path = base_path;
    query = ref_q != std::string_view::npos ? reference.substr(ref_q)
                                            : (base_q != std::string_view::npos ? base_target.substr(base_q) : "");
  } else {
    if (ref_path.starts_with("/")) path = remove_dot_segments(ref_path);
    else {
      // Merge (§5.2.3): the reference replaces the base's last segment.
      const auto slash = base_path.rfind('/');
      std::string merged{base_path.substr(0, slash == std::string_view::npos ? 0 : slash + 1)};
      merged += ref_path;
      if (!merged.starts_with("/")) merged.insert(0, "/");
      path = remove_dot_segments(merged);
    }
    if (ref_q != std::string_view::npos) query = reference.substr(ref_q);
  }
  auto target = checked_target(path + std::string{query});
  if (!target) return target.error();
  url u = base;
  u.target = std::move(*target);
  return u;
}

} // namespace dynchat::http
