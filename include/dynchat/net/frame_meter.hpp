#pragma once
// Counts every websocket frame a client sends, read from the raw bytes before the
// websocket library parses them: data frames, continuations and control frames (ping,
// pong, close) alike. The library answers pings and joins continuations by itself, so
// without this a client could send endless empty continuations or pings unseen.
//
// Each frame takes a token from the connection's bucket. A frame without one is a
// strike; `flood_strikes` strikes without a quiet second between them are a flood. A
// message split into more than `max_fragments` frames is refused too. For each data
// message the meter also records whether all its frames were within the rate, so the
// connection can drop just that message (in order: one verdict per completed message).
//
// Pure: no sockets, no clocks of its own.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>

#include "dynchat/core/token_bucket.hpp"

namespace dynchat::net {

class frame_meter {
public:
  using clock = token_bucket::clock;
  struct limits {
    double rate_per_second = 20;
    double burst = 40;
    unsigned flood_strikes = 20;
    unsigned max_fragments = 64;
  };
  enum class verdict { ok, flood, too_many_fragments };

  frame_meter(const limits& l, clock::time_point now);

  /// Bytes as they came off the socket, in order. Returns the first violation (and keeps
  /// returning it); ok while the client stays within its limits.
  verdict feed(const unsigned char* data, std::size_t size, clock::time_point now);

  /// The next completed data message: true when all its frames were within the rate.
  /// (A message the meter has not seen complete counts as within.)
  bool next_message_within_rate();

  std::uint64_t frames() const noexcept { return frames_; }
  std::uint64_t refused() const noexcept { return refused_; }

private:
  void on_header(clock::time_point now);

  limits limits_;
  token_bucket bucket_;
  clock::time_point last_refusal_{};
  unsigned strikes_ = 0;
  verdict violation_ = verdict::ok;
  // header parsing
  unsigned char header_[14] = {};
  std::size_t header_have_ = 0;
  std::uint64_t payload_left_ = 0;
  // the data message being received
  unsigned fragments_ = 0;
  bool message_within_rate_ = true;
  std::deque<bool> completed_;
  std::uint64_t frames_ = 0;
  std::uint64_t refused_ = 0;
};

} // namespace dynchat::net
