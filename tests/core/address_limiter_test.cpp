#include <catch2/catch.hpp>

#include "dynchat/core/address_limiter.hpp"

using namespace dynchat;
using namespace std::chrono_literals;

TEST_CASE("addresses are grouped: IPv4 as is, IPv6 by its /64", "[core][limiter]") {
  CHECK(address_group("203.0.113.7") == "203.0.113.7");
  CHECK(address_group("::ffff:203.0.113.7") == "203.0.113.7");
  CHECK(address_group("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64");
  CHECK(address_group("2001:db8:1:2::1") == address_group("2001:db8:1:2:ffff::9"));
  CHECK(address_group("2001:db8:1:3::1") != address_group("2001:db8:1:2::1"));
  CHECK(address_group("not an address") == "not an address");
}

TEST_CASE("each address has its own bucket: a burst, then the sustained rate", "[core][limiter]") {
  const auto t0 = address_limiter::clock::now();
  address_limiter limit{1.0, 3.0};
  for (int i = 0; i < 3; ++i) CHECK(limit.allow("198.51.100.1", t0));
  CHECK_FALSE(limit.allow("198.51.100.1", t0));
  CHECK(limit.allow("198.51.100.2", t0)); // another client is not affected
  CHECK(limit.allow("198.51.100.1", t0 + 1s));
  CHECK_FALSE(limit.allow("198.51.100.1", t0 + 1s));
  const bool four_from_one_64 = limit.allow("2001:db8::1", t0) && limit.allow("2001:db8::2", t0) &&
                               limit.allow("2001:db8::3", t0) && limit.allow("2001:db8::4", t0);
  CHECK_FALSE(four_from_one_64); // one /64 shares one bucket
}

TEST_CASE("memory is bounded: refilled buckets are forgotten, busy ones refuse newcomers", "[core][limiter]") {
  const auto t0 = address_limiter::clock::now();
  address_limiter limit{1.0, 2.0, 3};
  CHECK(limit.allow("10.0.0.1", t0));
  CHECK(limit.allow("10.0.0.2", t0));
  CHECK(limit.allow("10.0.0.3", t0));
  CHECK_FALSE(limit.allow("10.0.0.4", t0)); // three busy buckets: no room to track a fourth
  CHECK(limit.tracked() == 3);
  CHECK(limit.allow("10.0.0.2", t0 + 5s));  // used again: now the most recent
  CHECK(limit.allow("10.0.0.4", t0 + 5s));  // the least recently used (10.0.0.1) refilled and was dropped
  CHECK(limit.tracked() == 3);
  CHECK(limit.allow("10.0.0.5", t0 + 5s));  // then 10.0.0.3
  CHECK_FALSE(limit.allow("10.0.0.6", t0 + 5s)); // 10.0.0.2 is busy again: no room

}
