#pragma once
// A set of message seqs stored as sorted, disjoint runs. A conversation's seqs arrive
// nearly in order, so adding one is usually a step at the end of the last run, and a
// whole chat's worth costs a few runs instead of a tree node per seq.
#include <cstdint>
#include <utility>
#include <vector>

namespace dynchat::load {

class seq_set {
public:
  using run = std::pair<std::uint64_t, std::uint64_t>; // first and last seq, inclusive

  /// Adds seq; false if it was already there.
  bool insert(std::uint64_t seq);
  /// Adds first..last (first <= last < 2^63); returns how many of them were new.
  std::uint64_t insert_run(std::uint64_t first, std::uint64_t last);
  bool contains(std::uint64_t seq) const;
  std::uint64_t size() const { return size_; }
  /// How many of this set's seqs `other` lacks.
  std::uint64_t count_missing_from(const seq_set& other) const;
  const std::vector<run>& runs() const { return runs_; }

private:
  std::vector<run> runs_; // ascending, never touching: a gap of at least one between runs
  std::uint64_t size_ = 0;
};

} // namespace dynchat::load
