#pragma once
#include <chrono>

namespace dynchat {

/// Classic token bucket: `rate` tokens per second, at most `burst` banked.
class token_bucket {
public:
  using clock = std::chrono::steady_clock;
  token_bucket(double rate, double burst, clock::time_point now = clock::now());
  /// Takes one token if there is one.
  bool try_take(clock::time_point now = clock::now()) noexcept;
  /// Full again by `now`: forgetting it changes nothing.
  bool full_at(clock::time_point now) const noexcept;

private:
  double rate_;
  double burst_;
  double tokens_;
  clock::time_point last_;
};

} // namespace dynchat
