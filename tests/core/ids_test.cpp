#include <catch2/catch.hpp>

#include <set>
#include <thread>

#include "dynchat/core/ids.hpp"

using namespace dynchat;

TEST_CASE("ids are 32 hex characters, unique, and sort by creation time", "[core]") {
  std::set<std::string> seen;
  std::string prev;
  for (int i = 0; i < 1000; ++i) { // many per millisecond
    auto id = new_id();
    CHECK(is_id(id));
    CHECK(seen.insert(id).second);
    CHECK(prev < id);
    prev = id;
  }
  auto a = new_id();
  std::this_thread::sleep_for(std::chrono::milliseconds{2});
  auto b = new_id();
  CHECK(a < b);
  CHECK_FALSE(is_id("0123"));
  CHECK_FALSE(is_id("0123456789ABCDEF0123456789abcdef"));
}

TEST_CASE("secrets and hashes", "[core]") {
  CHECK(new_secret(16).size() == 32);
  CHECK(new_secret(16) != new_secret(16));
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(constant_time_equal("same", "same"));
  CHECK_FALSE(constant_time_equal("same", "samf"));
  CHECK_FALSE(constant_time_equal("same", "sam"));
}
