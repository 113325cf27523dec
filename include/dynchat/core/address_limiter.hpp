#pragma once
// A token bucket per client address, for things one client must not do in bulk (open
// conversations). IPv6 clients are grouped by their /64, which one subscriber usually
// holds whole. Memory is bounded: buckets are kept in order of last use, the least
// recently used is forgotten once it has refilled, and when all max_tracked addresses
// are busy a new one is refused rather than tracked. Every call is O(1).
#include <chrono>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dynchat/core/token_bucket.hpp"

namespace dynchat {

/// The key an address is limited by: an IPv4 address as is (also when IPv4-mapped), an
/// IPv6 address as its /64 ("2001:db8:1:2::/64"); anything else unchanged.
std::string address_group(std::string_view address);

class address_limiter {
public:
  using clock = token_bucket::clock;
  address_limiter(double rate, double burst, std::size_t max_tracked = 100'000);
  /// Takes one token from the address's bucket.
  bool allow(std::string_view address, clock::time_point now = clock::now());
  std::size_t tracked() const { return buckets_.size(); }

private:
  struct entry {
    token_bucket bucket;
    std::list<std::string>::iterator in_order;
  };
  double rate_;
  double burst_;
  std::size_t max_tracked_;
  std::list<std::string> by_use_; // most recently used first
  std::unordered_map<std::string, entry> buckets_;
};

} // namespace dynchat
