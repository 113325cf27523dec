#pragma once
// The line of conversations waiting for an agent: first come, first served by the time
// each one first asked, with O(1) membership and removal, so that a line of tens of
// thousands (a spike with no agent free) costs no more per visitor than a short one.
//
// Removal is lazy: a leaving conversation is dropped from the index at once and its
// entry is skipped when it reaches the front, or swept out once the dead outnumber the
// living. Positions are 1-based among the living.
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

namespace dynchat::routing {

template <class Item>
class waiting_line {
public:
  bool contains(const std::string& id) const { return live_.count(id) != 0; }
  std::size_t size() const { return live_.size(); }
  bool empty() const { return live_.empty(); }

  /// Adds `id` behind everyone who asked at or before `requested_ms` and returns its
  /// position. An id already waiting is not added twice; its position is returned.
  std::size_t push(const std::string& id, std::int64_t requested_ms, Item item) {
    if (contains(id)) return position_of(id);
    const auto generation = ++generations_;
    live_.emplace(id, generation);
    if (entries_.empty() || entries_.back().requested_ms <= requested_ms) { // the usual case
      entries_.push_back({id, requested_ms, generation, std::move(item)});
      return live_.size();
    }
    // Someone returning after missed offers keeps their place ahead of younger ones.
    auto pos = entries_.end();
    while (pos != entries_.begin() && std::prev(pos)->requested_ms > requested_ms) --pos;
    pos = entries_.insert(pos, entry{id, requested_ms, generation, std::move(item)});
    std::size_t position = 1;
    for (auto it = entries_.begin(); it != pos; ++it) position += alive(*it);
    return position;
  }

  /// Takes `id` out of the line; false if it was not waiting.
  bool remove(const std::string& id) {
    if (live_.erase(id) == 0) return false;
    if (entries_.size() > 2 * live_.size() + 1024) sweep();
    return true;
  }

  /// The first living entry's item, or nullptr.
  Item* front() {
    while (!entries_.empty() && !alive(entries_.front())) entries_.pop_front();
    return entries_.empty() ? nullptr : &entries_.front().item;
  }
  void pop_front() {
    if (front() == nullptr) return;
    live_.erase(entries_.front().id);
    entries_.pop_front();
  }

  /// 1-based position of a waiting id (0 when not waiting). O(1) for the last one in
  /// line, which is where a new arrival stands; O(n) otherwise.
  std::size_t position(const std::string& id) const {
    if (!contains(id)) return 0;
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      if (!alive(*it)) continue;
      if (it->id == id) return live_.size();
      break;
    }
    return position_of(id);
  }

  /// Visits the waiting ids oldest first while fn(id) returns true.
  template <class Fn>
  void for_each(Fn fn) const {
    for (const auto& e : entries_)
      if (alive(e) && !fn(e.id)) return;
  }

private:
  struct entry {
    std::string id;
    std::int64_t requested_ms;
    std::uint64_t generation; // tells a stale entry from the same id queued again
    Item item;
  };
  bool alive(const entry& e) const {
    auto it = live_.find(e.id);
    return it != live_.end() && it->second == e.generation;
  }
  std::size_t position_of(const std::string& id) const {
    std::size_t position = 1;
    for (const auto& e : entries_) {
      if (!alive(e)) continue;
      if (e.id == id) return position;
      ++position;
    }
    return position;
  }
  void sweep() {
    std::deque<entry> kept;
    for (auto& e : entries_)
      if (alive(e)) kept.push_back(std::move(e));
    entries_.swap(kept);
  }

  std::deque<entry> entries_;
  std::unordered_map<std::string, std::uint64_t> live_; // id -> generation of its living entry
  std::uint64_t generations_ = 0;
};

} // namespace dynchat::routing
