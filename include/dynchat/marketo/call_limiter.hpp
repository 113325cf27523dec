#pragma once
// Marketo's documented REST limits, kept on our side so they are never hit: at most
// `max_calls` calls started in any sliding `window` (100 per 20 s) and `max_concurrent`
// (10) in flight at once. A call that may not start yet is told how long to wait.
#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>

namespace dynchat::marketo {

class call_limiter {
public:
  using clock = std::chrono::steady_clock;
  call_limiter(std::size_t max_calls = 100, clock::duration window = std::chrono::seconds{20},
               std::size_t max_concurrent = 10);

  /// Starts a call now (nullopt), or says how long until one may start. When the cause
  /// is concurrency the wait is unknown: a release() ends it, and `retry_hint` is given.
  std::optional<clock::duration> try_start(clock::time_point now);
  /// A started call ended (answered or failed).
  void release() noexcept;
  /// Marketo said 606 (its window is full, e.g. of calls another process made): no call
  /// starts before `until`.
  void hold_until(clock::time_point until) noexcept;

  std::size_t in_flight() const noexcept { return in_flight_; }
  std::size_t started_in_window(clock::time_point now);

  static constexpr clock::duration retry_hint = std::chrono::milliseconds{50};

private:
  void forget_before(clock::time_point now);
  std::size_t max_calls_;
  clock::duration window_;
  std::size_t max_concurrent_;
  std::size_t in_flight_ = 0;
  clock::time_point held_until_{};
  std::deque<clock::time_point> started_; // the starts inside the window, oldest first
};

} // namespace dynchat::marketo
