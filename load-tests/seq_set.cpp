#include "seq_set.hpp"

#include <algorithm>
#include <iterator>

namespace dynchat::load {

bool seq_set::insert(std::uint64_t seq) {
  if (runs_.empty() || seq > runs_.back().second + 1) {
    runs_.push_back({seq, seq});
  } else if (seq == runs_.back().second + 1) {
    runs_.back().second = seq;
  } else {
    // The first run that ends at or after seq holds it, or seq sits just before it.
    auto it = std::lower_bound(runs_.begin(), runs_.end(), seq, [](const run& r, std::uint64_t s) { return r.second < s; });
    if (it->first <= seq) return false;
    const bool joins_previous = it != runs_.begin() && std::prev(it)->second + 1 == seq;
    const bool joins_next = it->first == seq + 1;
    if (joins_previous && joins_next) {
      std::prev(it)->second = it->second;
      runs_.erase(it);
    } else if (joins_previous) {
      std::prev(it)->second = seq;
    } else if (joins_next) {
      it->first = seq;
    } else {
      runs_.insert(it, {seq, seq});
    }
  }
  ++size_;
  return true;
}

std::uint64_t seq_set::insert_run(std::uint64_t first, std::uint64_t last) {
  // The runs that overlap first..last or touch it end to end all merge into one.
  auto begin = std::lower_bound(runs_.begin(), runs_.end(), first,
                                [](const run& r, std::uint64_t s) { return r.second + 1 < s; });
  auto end = begin;
  std::uint64_t present = 0, merged_first = first, merged_last = last;
  for (; end != runs_.end() && end->first <= last + 1; ++end) {
    if (end->first <= last && end->second >= first)
      present += std::min(last, end->second) - std::max(first, end->first) + 1;
    merged_first = std::min(merged_first, end->first);
    merged_last = std::max(merged_last, end->second);
  }
  auto at = runs_.erase(begin, end);
  runs_.insert(at, {merged_first, merged_last});
  const std::uint64_t added = last - first + 1 - present;
  size_ += added;
  return added;
}

bool seq_set::contains(std::uint64_t seq) const {
  auto it = std::lower_bound(runs_.begin(), runs_.end(), seq, [](const run& r, std::uint64_t s) { return r.second < s; });
  return it != runs_.end() && it->first <= seq;
}

std::uint64_t seq_set::count_missing_from(const seq_set& other) const {
  std::uint64_t present = 0;
  auto theirs = other.runs_.begin();
  for (const auto& [first, last] : runs_) {
    while (theirs != other.runs_.end() && theirs->second < first) ++theirs;
    for (auto t = theirs; t != other.runs_.end() && t->first <= last; ++t)
      present += std::min(last, t->second) - std::max(first, t->first) + 1;
  }
  return size_ - present;
}

} // namespace dynchat::load
