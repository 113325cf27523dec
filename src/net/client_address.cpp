#include "dynchat/net/client_address.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include <cstring>
#include <optional>
#include <stdexcept>

namespace dynchat::net {
namespace {

struct parsed {
  bool v6;
  unsigned char bytes[16];
};

// An address as text; IPv4-mapped IPv6 counts as IPv4. Accepts "[v6]:port" and "v4:port".
std::optional<parsed> parse_address(std::string_view text) {
  std::string s{text};
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string::npos) return std::nullopt;
    s = s.substr(1, close - 1);
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    s = s.substr(0, s.find(':')); // v4:port
  }
  parsed p{};
  if (inet_pton(AF_INET, s.c_str(), p.bytes) == 1) {
    p.v6 = false;
    return p;
  }
  if (inet_pton(AF_INET6, s.c_str(), p.bytes) == 1) {
    static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(p.bytes, mapped, 12) == 0) {
      std::memmove(p.bytes, p.bytes + 12, 4);
      p.v6 = false;
    } else {
      p.v6 = true;
    }
    return p;
  }
  return std::nullopt;
}

std::string to_text(const parsed& p) {
  char out[INET6_ADDRSTRLEN] = {};
  inet_ntop(p.v6 ? AF_INET6 : AF_INET, p.bytes, out, sizeof out);
  return out;
}

bool prefix_equal(const unsigned char* a, const unsigned char* b, unsigned bits) {
  const unsigned whole = bits / 8, rest = bits % 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  if (rest == 0) return true;
  const unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

} // namespace

trusted_proxies::trusted_proxies(const std::vector<std::string>& entries) {
  for (const auto& e : entries) {
    const auto slash = e.find('/');
    auto address = parse_address(e.substr(0, slash));
    if (!address) throw std::runtime_error("server.trusted_proxies: '" + e + "' is not an address or CIDR block");
    const unsigned max_prefix = address->v6 ? 128 : 32;
    unsigned prefix = max_prefix;
    if (slash != std::string::npos) {
      try {
        std::size_t used = 0;
        const int p = std::stoi(e.substr(slash + 1), &used);
        if (used != e.size() - slash - 1 || p < 0 || static_cast<unsigned>(p) > max_prefix) throw std::out_of_range{""};
        prefix = static_cast<unsigned>(p);
      } catch (const std::exception&) {
        throw std::runtime_error("server.trusted_proxies: '" + e + "' has a bad prefix length");
      }
    }
    block b{address->v6, {}, prefix};
    std::memcpy(b.bytes, address->bytes, 16);
    blocks_.push_back(b);
  }
}

bool trusted_proxies::contains(std::string_view address) const {
  auto a = parse_address(address);
  if (!a) return false;
  for (const auto& b : blocks_)
    if (b.v6 == a->v6 && prefix_equal(b.bytes, a->bytes, b.prefix)) return true;
  return false;
}

std::string client_address(std::string_view peer, std::string_view forwarded_for, const trusted_proxies& trusted) {
  auto self = parse_address(peer);
  std::string current = self ? to_text(*self) : std::string{peer};
  if (forwarded_for.empty() || !trusted.contains(current)) return current;
  // Walk from the nearest hop outwards while each hop is a proxy we trust.
  while (!forwarded_for.empty()) {
    const auto comma = forwarded_for.rfind(',');
    const auto entry = trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    forwarded_for = comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
    auto hop = parse_address(entry);
    if (!hop) return current; // garbage: believe nothing further
    current = to_text(*hop);
    if (!trusted.contains(current)) return current;
  }
  return current;
}

} // namespace dynchat::net
