#pragma once
// At most one log line a second for one kind of event, so a flood of bad clients cannot
// flood the log too. The lines held back are counted and reported with the next one
// that goes out ("... (37 more like it in the last 1.2 s)"). Thread-safe.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace dynchat {

class log_throttle {
public:
  using clock = std::chrono::steady_clock;
  explicit log_throttle(clock::duration interval = std::chrono::seconds{1}) : interval_(interval) {}

  /// nullopt: stay silent this time. Otherwise log, mentioning the count returned (the
  /// lines held back since the last one) when it is not zero.
  std::optional<std::uint64_t> allow(clock::time_point now = clock::now()) {
    std::lock_guard lock{mutex_};
    if (now < next_) {
      ++held_back_;
      return std::nullopt;
    }
    next_ = now + interval_;
    const auto held = held_back_;
    held_back_ = 0;
    return held;
  }

private:
  std::mutex mutex_;
  clock::duration interval_;
  clock::time_point next_{};
  std::uint64_t held_back_ = 0;
};

} // namespace dynchat
