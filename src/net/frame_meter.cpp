#include "dynchat/net/frame_meter.hpp"

#include <algorithm>

namespace dynchat::net {
namespace {

// RFC 6455 §5.2: 2 bytes, then a 16- or 64-bit length when the 7-bit one says 126 or
// 127, then a 4-byte mask when the mask bit is set (always, from a client).
std::size_t header_size(const unsigned char* h) {
  const unsigned len7 = h[1] & 0x7F;
  const std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  return 2 + ext + ((h[1] & 0x80) ? 4 : 0);
}

std::uint64_t payload_size(const unsigned char* h) {
  const unsigned len7 = h[1] & 0x7F;
  if (len7 < 126) return len7;
  std::uint64_t v = 0;
  const std::size_t n = len7 == 126 ? 2 : 8;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | h[2 + i];
  return v;
}

} // namespace

frame_meter::frame_meter(const limits& l, clock::time_point now) : limits_(l), bucket_(l.rate_per_second, l.burst, now) {}

void frame_meter::on_header(clock::time_point now) {
  ++frames_;
  const unsigned opcode = header_[0] & 0x0F;
  const bool fin = header_[0] & 0x80;
  const bool within = bucket_.try_take(now);
  if (!within) {
    ++refused_;
    // A flood is refusals without a quiet second between them.
    if (now - last_refusal_ > std::chrono::seconds{1}) strikes_ = 0;
    last_refusal_ = now;
    if (++strikes_ >= limits_.flood_strikes && violation_ == verdict::ok) violation_ = verdict::flood;
  }
  if (opcode >= 0x8) return; // control frames stand alone, between a message's fragments too
  if (opcode == 0x0) {
    ++fragments_;
  } else {
    fragments_ = 1;
    message_within_rate_ = true;
  }
  message_within_rate_ = message_within_rate_ && within;
  if (fragments_ > limits_.max_fragments && violation_ == verdict::ok) violation_ = verdict::too_many_fragments;
  if (fin) {
    completed_.push_back(message_within_rate_);
    fragments_ = 0;
  }
}

frame_meter::verdict frame_meter::feed(const unsigned char* data, std::size_t size, clock::time_point now) {
  std::size_t i = 0;
  while (i < size && violation_ == verdict::ok) {
    if (payload_left_ > 0) { // skip payload without looking at it
      const auto skip = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, size - i));
      payload_left_ -= skip;
      i += skip;
      continue;
    }
    header_[header_have_++] = data[i++];
    if (header_have_ < 2 || header_have_ < header_size(header_)) continue;
    payload_left_ = payload_size(header_);
    header_have_ = 0;
    on_header(now);
  }
  return violation_;
}

bool frame_meter::next_message_within_rate() {
  if (completed_.empty()) return true;
  const bool within = completed_.front();
  completed_.pop_front();
  return within;
}

} // namespace dynchat::net
