#include <catch2/catch.hpp>

#include "dynchat/core/token_bucket.hpp"

using dynchat::token_bucket;
using namespace std::chrono_literals;

TEST_CASE("a token bucket allows the burst, then the rate", "[core]") {
  auto t0 = token_bucket::clock::time_point{};
  token_bucket b{10, 3, t0};
  CHECK(b.try_take(t0));
  CHECK(b.try_take(t0));
  CHECK(b.try_take(t0));
  CHECK_FALSE(b.try_take(t0));
  CHECK(b.try_take(t0 + 100ms)); // 10/s: one token per 100 ms
  CHECK_FALSE(b.try_take(t0 + 150ms));
  // A long pause refills only up to the burst.
  auto later = t0 + 10s;
  CHECK(b.try_take(later));
  CHECK(b.try_take(later));
  CHECK(b.try_take(later));
  CHECK_FALSE(b.try_take(later));
}
