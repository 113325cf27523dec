#include <catch2/catch.hpp>

#include "dynchat/core/log_throttle.hpp"

using namespace dynchat;
using namespace std::chrono_literals;

TEST_CASE("one line a second, the held-back count comes with the next", "[core][log]") {
  log_throttle t;
  const auto t0 = log_throttle::clock::now();
  CHECK(t.allow(t0) == std::optional<std::uint64_t>{0});
  CHECK_FALSE(t.allow(t0 + 10ms));
  CHECK_FALSE(t.allow(t0 + 900ms));
  CHECK(t.allow(t0 + 1s) == std::optional<std::uint64_t>{2});
  CHECK(t.allow(t0 + 3s) == std::optional<std::uint64_t>{0});
}
