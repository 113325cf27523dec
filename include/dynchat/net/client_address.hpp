#pragma once
// Who the client is, when reverse proxies stand in front: X-Forwarded-For is believed
// only as far as it was written by proxies the operator trusts (server.trusted_proxies).
// Anyone can send the header, so from an untrusted peer it is ignored.
#include <string>
#include <string_view>
#include <vector>

namespace dynchat::net {

class trusted_proxies {
public:
  /// Entries are addresses ("10.0.0.5", "::1") or CIDR blocks ("10.0.0.0/8").
  /// Throws std::runtime_error naming an entry that is neither.
  explicit trusted_proxies(const std::vector<std::string>& entries = {});
  bool contains(std::string_view address) const;
  bool empty() const { return blocks_.empty(); }

private:
  struct block {
    bool v6;
    unsigned char bytes[16];
    unsigned prefix;
  };
  std::vector<block> blocks_;
};

/// The peer's own address, unless the peer is a trusted proxy: then the rightmost
/// address of X-Forwarded-For that is not a trusted proxy itself (the first hop the
/// trusted chain cannot vouch for). A malformed entry ends the walk at the last hop
/// that was trusted.
std::string client_address(std::string_view peer, std::string_view forwarded_for, const trusted_proxies& trusted);

} // namespace dynchat::net
