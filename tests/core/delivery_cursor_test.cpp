#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "dynchat/core/delivery_cursor.hpp"

using namespace dynchat;
using verdict = delivery_cursor::verdict;

TEST_CASE("a live cursor sends the next seq and drops what it already has", "[core][delivery]") {
  auto c = delivery_cursor::live_after(5);
  CHECK(c.on_live(5) == verdict::skip);
  CHECK(c.on_live(6) == verdict::send);
  CHECK(c.on_live(6) == verdict::skip);
  CHECK(c.sent() == 6);
}

TEST_CASE("a gap turns a live cursor into one that catches up", "[core][delivery]") {
  auto c = delivery_cursor::live_after(5);
  CHECK(c.on_live(8) == verdict::catch_up);
  CHECK_FALSE(c.live());
  CHECK(c.on_live(9) == verdict::skip); // left for the page
  c.on_page(9, false);
  CHECK(c.live());
  CHECK(c.on_live(10) == verdict::send);
}

TEST_CASE("a cursor behind takes pages until the store has no more", "[core][delivery]") {
  auto c = delivery_cursor::behind(0);
  CHECK(c.on_live(1) == verdict::skip);
  c.on_page(100, true);
  CHECK_FALSE(c.live());
  CHECK(c.on_live(101) == verdict::skip);
  c.on_page(150, false);
  CHECK(c.live());
  CHECK(c.on_live(150) == verdict::skip); // already in the page
  CHECK(c.on_live(151) == verdict::send);
  c.on_page(0, false); // an empty page changes nothing already sent
  CHECK(c.sent() == 151);
}

// A store that grows while a socket catches up, with live deliveries racing the page
// reads: whatever the interleaving, the socket gets 1..N once each, in order.
TEST_CASE("pages and live deliveries interleaved deliver every seq once, in order", "[core][delivery]") {
  const auto seed = GENERATE(take(30, random(1u, 100000u)));
  std::mt19937 rng{seed};
  std::uint64_t stored = 0;           // committed to the store
  std::vector<std::uint64_t> pending; // committed, delivery not yet handled
  std::vector<std::uint64_t> got;
  auto c = delivery_cursor::behind(0);
  bool paging = true;
  for (int step = 0; step < 2000; ++step) {
    switch (rng() % 3) {
      case 0: // a commit: its live delivery is queued
        pending.push_back(++stored);
        break;
      case 1: // the next live delivery is handled
        if (!pending.empty()) {
          auto seq = pending.front();
          pending.erase(pending.begin());
          auto v = c.on_live(seq);
          if (v == verdict::send) got.push_back(seq);
          if (v == verdict::catch_up) paging = true;
        }
        break;
      default: // a page is read from the store (the socket drained)
        if (paging) {
          const std::uint64_t budget = 1 + rng() % 7;
          const auto last = std::min(stored, c.sent() + budget);
          for (auto s = c.sent() + 1; s <= last; ++s) got.push_back(s);
          c.on_page(last, last < stored);
          paging = !c.live();
        }
    }
  }
  while (paging) {
    const auto last = stored;
    for (auto s = c.sent() + 1; s <= last; ++s) got.push_back(s);
    c.on_page(last, false);
    paging = false;
  }
  for (auto seq : pending)
    if (c.on_live(seq) == verdict::send) got.push_back(seq);
  REQUIRE(got.size() == stored);
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == i + 1);
}
