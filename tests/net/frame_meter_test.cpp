#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "dynchat/net/frame_meter.hpp"
#include "support/raw_client.hpp"

using namespace dynchat::net;
using namespace std::chrono_literals;
using dynchat::testing::client_frame; // masked, as RFC 6455 lays a client frame out

namespace {

frame_meter::limits generous() { return {1e9, 1e9, 20, 64}; }

// Feeds `bytes` in chunks of `chunk` bytes.
frame_meter::verdict feed_in_chunks(frame_meter& m, const std::string& bytes, std::size_t chunk,
                                    frame_meter::clock::time_point now) {
  auto v = frame_meter::verdict::ok;
  for (std::size_t off = 0; off < bytes.size(); off += chunk) {
    const auto n = std::min(chunk, bytes.size() - off);
    v = m.feed(reinterpret_cast<const unsigned char*>(bytes.data() + off), n, now);
  }
  return v;
}

} // namespace

TEST_CASE("every frame is counted, whatever chunks the bytes arrive in", "[net][meter]") {
  const std::string stream = client_frame(true, 0x1, "hello") + client_frame(true, 0x9, "") +
                             client_frame(false, 0x1, std::string(300, 'a')) + client_frame(true, 0xA, "p") + // a pong between fragments
                             client_frame(false, 0x0, "") + client_frame(true, 0x0, std::string(70000, 'b')) +
                             client_frame(true, 0x2, std::string(125, 'c')) + client_frame(true, 0x8, "\x03\xe8");
  for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}, std::size_t{13},
                            std::size_t{1536}, stream.size()}) {
    INFO("chunk " << chunk);
    frame_meter m{generous(), frame_meter::clock::now()};
    CHECK(feed_in_chunks(m, stream, chunk, frame_meter::clock::now()) == frame_meter::verdict::ok);
    CHECK(m.frames() == 8);
    // Three data messages completed, all within the rate; then none are left.
    CHECK(m.next_message_within_rate());
    CHECK(m.next_message_within_rate());
    CHECK(m.next_message_within_rate());
  }
}

TEST_CASE("a message in more than max_fragments frames is refused", "[net][meter]") {
  const auto now = frame_meter::clock::now();
  frame_meter m{{1e9, 1e9, 20, 64}, now};
  std::string stream = client_frame(false, 0x1, "{");
  for (int i = 0; i < 62; ++i) stream += client_frame(false, 0x0, "");
  CHECK(feed_in_chunks(m, stream, 5, now) == frame_meter::verdict::ok); // 63 fragments
  CHECK(feed_in_chunks(m, client_frame(false, 0x0, ""), 5, now) == frame_meter::verdict::ok); // 64: the limit
  CHECK(feed_in_chunks(m, client_frame(false, 0x0, ""), 5, now) == frame_meter::verdict::too_many_fragments);
  // A finished message starts the count again.
  frame_meter fresh{{1e9, 1e9, 20, 3}, now};
  const auto three = client_frame(false, 0x1, "a") + client_frame(false, 0x0, "b") + client_frame(true, 0x0, "c");
  CHECK(feed_in_chunks(fresh, three + three + three, 4, now) == frame_meter::verdict::ok);
}

TEST_CASE("control frames and continuations count against the rate: a ping flood is a flood", "[net][meter]") {
  const auto now = frame_meter::clock::now();
  frame_meter m{{5, 5, 3, 64}, now};
  std::string pings;
  for (int i = 0; i < 7; ++i) pings += client_frame(true, 0x9, "x");
  CHECK(feed_in_chunks(m, pings, 3, now) == frame_meter::verdict::ok); // 5 within, 2 strikes
  CHECK(feed_in_chunks(m, client_frame(true, 0x9, "x"), 3, now) == frame_meter::verdict::flood);
  CHECK(m.refused() == 3);
}

TEST_CASE("strikes separated by a quiet second do not add up to a flood", "[net][meter]") {
  auto now = frame_meter::clock::now();
  frame_meter m{{1, 1, 3, 64}, now};
  const auto ping = client_frame(true, 0x9, "");
  for (int round = 0; round < 10; ++round) {
    CHECK(feed_in_chunks(m, ping + ping + ping, 64, now) == frame_meter::verdict::ok); // 1 within, 2 strikes
    now += 2s;
  }
}

TEST_CASE("each data message learns whether all its frames were within the rate", "[net][meter]") {
  const auto now = frame_meter::clock::now();
  frame_meter m{{0.001, 2, 100, 64}, now};
  const auto msg = client_frame(true, 0x1, "x");
  CHECK(feed_in_chunks(m, msg + msg + msg, 2, now) == frame_meter::verdict::ok);
  CHECK(m.next_message_within_rate());
  CHECK(m.next_message_within_rate());
  CHECK_FALSE(m.next_message_within_rate());
}
