#include "dynchat/marketo/call_limiter.hpp"

#include <algorithm>

namespace dynchat::marketo {

call_limiter::call_limiter(std::size_t max_calls, clock::duration window, std::size_t max_concurrent)
    : max_calls_(std::max<std::size_t>(1, max_calls)), window_(window),
      max_concurrent_(std::max<std::size_t>(1, max_concurrent)) {}

void call_limiter::forget_before(clock::time_point now) {
  while (!started_.empty() && started_.front() + window_ <= now) started_.pop_front();
}

std::optional<call_limiter::clock::duration> call_limiter::try_start(clock::time_point now) {
  forget_before(now);
  if (now < held_until_) return held_until_ - now;
  if (started_.size() >= max_calls_) return started_.front() + window_ - now;
  if (in_flight_ >= max_concurrent_) return retry_hint;
  started_.push_back(now);
  ++in_flight_;
  return std::nullopt;
}

void call_limiter::release() noexcept {
  if (in_flight_ > 0) --in_flight_;
}

void call_limiter::hold_until(clock::time_point until) noexcept { held_until_ = std::max(held_until_, until); }

std::size_t call_limiter::started_in_window(clock::time_point now) {
  forget_before(now);
  return started_.size();
}

} // namespace dynchat::marketo
