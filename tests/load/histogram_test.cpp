#include <catch2/catch.hpp>

#include <random>

#include "histogram.hpp"

using dynchat::load::latency_histogram;

TEST_CASE("small values are exact, large ones within 1.6 percent", "[load]") {
  for (std::uint64_t v = 0; v < 64; ++v) CHECK(latency_histogram::upper_edge(latency_histogram::index_of(v)) == v);
  for (std::uint64_t v : {64ull, 100ull, 1000ull, 12345ull, 1000000ull, 3600000000ull}) {
    auto edge = latency_histogram::upper_edge(latency_histogram::index_of(v));
    CHECK(edge >= v);
    CHECK(static_cast<double>(edge - v) <= 0.016 * static_cast<double>(v));
  }
}

TEST_CASE("quantiles follow the recorded distribution", "[load]") {
  latency_histogram h;
  for (std::uint64_t v = 1; v <= 10000; ++v) h.record(v);
  CHECK(h.count() == 10000);
  CHECK(h.max() == 10000);
  CHECK(h.quantile(0.5) == Approx(5000).epsilon(0.02));
  CHECK(h.quantile(0.99) == Approx(9900).epsilon(0.02));
  CHECK(h.quantile(1.0) == 10000);
  CHECK(latency_histogram{}.quantile(0.5) == 0);
}

TEST_CASE("merging two histograms equals recording into one", "[load]") {
  latency_histogram a, b, both;
  std::mt19937 rng{7};
  std::exponential_distribution<double> d{1.0 / 2000};
  for (int i = 0; i < 5000; ++i) {
    auto v = static_cast<std::uint64_t>(d(rng));
    (i % 2 ? a : b).record(v);
    both.record(v);
  }
  a.merge(b);
  for (double q : {0.5, 0.9, 0.99, 0.999}) CHECK(a.quantile(q) == both.quantile(q));
  CHECK(a.max() == both.max());
}

#include "report_util.hpp"

TEST_CASE("load is only ever aimed at 127.0.0.0/8", "[load]") {
  using dynchat::load::is_loopback_v4;
  CHECK(is_loopback_v4("127.0.0.1"));
  CHECK(is_loopback_v4("127.3.2.1"));
  CHECK_FALSE(is_loopback_v4("10.0.0.1"));
  CHECK_FALSE(is_loopback_v4("192.168.1.1"));
  CHECK_FALSE(is_loopback_v4("localhost")); // names are refused: only literal loopback addresses
  CHECK_FALSE(is_loopback_v4("128.0.0.1"));
}
