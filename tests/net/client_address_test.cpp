#include <catch2/catch.hpp>

#include "dynchat/net/client_address.hpp"

using namespace dynchat::net;

TEST_CASE("without trusted proxies the peer is the client, whatever the header says", "[net][address]") {
  trusted_proxies none;
  CHECK(client_address("203.0.113.9", "198.51.100.1", none) == "203.0.113.9");
  CHECK(client_address("::ffff:203.0.113.9", "", none) == "203.0.113.9");
}

TEST_CASE("from a trusted proxy, the rightmost untrusted hop is the client", "[net][address]") {
  trusted_proxies proxies{{"10.0.0.0/8", "192.0.2.1", "2001:db8::/32"}};
  CHECK(client_address("10.1.2.3", "198.51.100.7", proxies) == "198.51.100.7");
  // A client cannot pick its address by writing the header itself: the leftmost entry is its own claim.
  CHECK(client_address("10.1.2.3", "6.6.6.6, 198.51.100.7, 192.0.2.1", proxies) == "198.51.100.7");
  CHECK(client_address("2001:db8::5", "[2001:db8:ffff::1]:443, 203.0.113.4:5555", proxies) == "203.0.113.4");
  CHECK(client_address("10.1.2.3", "10.9.9.9", proxies) == "10.9.9.9"); // every hop trusted: the farthest one
  CHECK(client_address("10.1.2.3", "garbage, 198.51.100.7", proxies) == "198.51.100.7");
  CHECK(client_address("10.1.2.3", "198.51.100.7, not-an-ip", proxies) == "10.1.2.3");
  CHECK(client_address("203.0.113.9", "198.51.100.7", proxies) == "203.0.113.9"); // an untrusted peer
}

TEST_CASE("trusted proxy entries are checked", "[net][address]") {
  CHECK_THROWS_WITH(trusted_proxies({"10.0.0.0/33"}), Catch::Contains("10.0.0.0/33"));
  CHECK_THROWS_WITH(trusted_proxies({"proxy.example.com"}), Catch::Contains("proxy.example.com"));
  trusted_proxies p{{"10.0.0.0/9"}};
  CHECK(p.contains("10.127.255.255"));
  CHECK_FALSE(p.contains("10.128.0.0"));
}
