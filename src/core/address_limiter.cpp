#include "dynchat/core/address_limiter.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace dynchat {

std::string address_group(std::string_view address) {
  const std::string text{address};
  std::array<unsigned char, 16> v6{};
  if (inet_pton(AF_INET6, text.c_str(), v6.data()) != 1) return text;
  static constexpr unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char out[INET6_ADDRSTRLEN] = {};
  if (std::memcmp(v6.data(), mapped_prefix, sizeof mapped_prefix) == 0) {
    inet_ntop(AF_INET, v6.data() + 12, out, sizeof out);
    return out;
  }
  std::fill(v6.begin() + 8, v6.end(), 0);
  inet_ntop(AF_INET6, v6.data(), out, sizeof out);
  return std::string{out} + "/64";
}

address_limiter::address_limiter(double rate, double burst, std::size_t max_tracked)
  : rate_(rate), burst_(burst), max_tracked_(max_tracked) {}

bool address_limiter::allow(std::string_view address, clock::time_point now) {
  auto key = address_group(address);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    // Room is made from the least recently used end; a bucket there that has not
    // refilled means every tracked one is busy.
    while (buckets_.size() >= max_tracked_) {
      auto oldest = buckets_.find(by_use_.back());
      if (!oldest->second.bucket.full_at(now)) return false;
      buckets_.erase(oldest);
      by_use_.pop_back();
    }
    by_use_.push_front(key);
    it = buckets_.emplace(std::move(key), entry{token_bucket{rate_, burst_, now}, by_use_.begin()}).first;
  } else {
    by_use_.splice(by_use_.begin(), by_use_, it->second.in_order);
  }
  return it->second.bucket.try_take(now);
}

} // namespace dynchat
