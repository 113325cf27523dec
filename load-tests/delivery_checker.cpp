#include "delivery_checker.hpp"

namespace dynchat::load {

void delivery_checker::acked(const std::string& conversation, std::uint64_t seq) {
  if (streams_[conversation].acked.insert(seq).second) acked_count_++;
}

void delivery_checker::delivered(const std::string& conversation, const std::string& receiver, std::uint64_t seq) {
  auto& last = last_seen_[{conversation, receiver}];
  if (seq == last || !streams_[conversation].delivered.insert(seq).second) {
    duplicated_++;
    return;
  }
  if (seq < last) reordered_++;
  else last = seq;
}

std::uint64_t delivery_checker::lost() const {
  std::uint64_t n = 0;
  for (const auto& [conv, s] : streams_)
    for (auto seq : s.acked) n += s.delivered.count(seq) == 0;
  return n;
}

} // namespace dynchat::load
