#pragma once
// The order in which a conversation carries out what its engine answers, without actors.
//  - Outputs go out in order. A `typing` with a delay holds everything behind it, and
//    everything pushed meanwhile, until `resume` is called with that hold's generation.
//  - Carrying one output out may produce more (an `end` makes the flow speak): those go
//    right after it, before what was already queued.
//  - Each output keeps the origin it came with (who gets the error if it is a `reject`),
//    however long it was held.
//  - `drop_held` forgets what a hold keeps back: what was due before the chat ended
//    (a held hand-over) must not happen after it. A `reject` is kept: it answers a
//    client's request, whenever that came.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "dynchat/engine/step.hpp"

namespace dynchat::conversation {

template <class Origin>
class output_pacer {
public:
  struct item {
    engine::output output;
    Origin origin;
  };

  /// Queues outputs; while one is being carried out, they go right after it.
  void push(std::vector<engine::output> outputs, const Origin& origin) {
    auto at = queue_.begin() + static_cast<std::ptrdiff_t>(carrying_ ? insert_at_ : queue_.size());
    for (auto& o : outputs) at = std::next(queue_.insert(at, item{std::move(o), origin}));
    if (carrying_) insert_at_ += outputs.size();
  }

  /// Hands `carry` each output that may go now. A `typing` with a delay is handed over too
  /// (to show the indicator and arm a timer for `generation()`), then the rest waits.
  /// A call from inside `carry` does nothing: the outer call goes on.
  template <class Carry>
  void run(Carry&& carry) {
    if (carrying_) return;
    while (!holding_ && !queue_.empty()) {
      item next = std::move(queue_.front());
      queue_.pop_front();
      if (const auto* t = std::get_if<engine::out::typing>(&next.output); t && t->delay_ms > 0) {
        holding_ = true;
        ++generation_;
      }
      carrying_ = true;
      insert_at_ = 0;
      carry(next);
      carrying_ = false;
    }
  }

  /// The hold `generation` ended; false for a hold that was dropped or is not the latest.
  bool resume(std::uint64_t generation) {
    if (!holding_ || generation != generation_) return false;
    holding_ = false;
    return true;
  }

  void drop_held() {
    if (!holding_) return;
    holding_ = false;
    ++generation_;
    std::erase_if(queue_, [](const item& i) { return !std::holds_alternative<engine::out::reject>(i.output); });
    insert_at_ = 0;
  }

  std::uint64_t generation() const { return generation_; }
  bool holding() const { return holding_; }
  /// Nothing waits: no output queued, no hold.
  bool idle() const { return !holding_ && queue_.empty(); }

private:
  std::deque<item> queue_;
  bool holding_ = false;
  bool carrying_ = false;
  std::size_t insert_at_ = 0; // where outputs pushed while carrying one out go
  std::uint64_t generation_ = 0;
};

} // namespace dynchat::conversation
