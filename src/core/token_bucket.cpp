#include "dynchat/core/token_bucket.hpp"

#include <algorithm>

namespace dynchat {

token_bucket::token_bucket(double rate, double burst, clock::time_point now)
  : rate_(rate), burst_(std::max(1.0, burst)), tokens_(burst_), last_(now) {}

bool token_bucket::try_take(clock::time_point now) noexcept {
  std::chrono::duration<double> elapsed = now - last_;
  last_ = now;
  tokens_ = std::min(burst_, tokens_ + std::max(0.0, elapsed.count()) * rate_);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

bool token_bucket::full_at(clock::time_point now) const noexcept {
  std::chrono::duration<double> elapsed = now - last_;
  return tokens_ + std::max(0.0, elapsed.count()) * rate_ >= burst_;
}

} // namespace dynchat
