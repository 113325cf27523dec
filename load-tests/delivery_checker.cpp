#include "delivery_checker.hpp"

#include <stdexcept>

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

void delivery_checker::merge(const delivery_checker& other) {
  for (const auto& [conv, theirs] : other.streams_) {
    auto& mine = streams_[conv];
    for (auto seq : theirs.acked) acked_count_ += mine.acked.insert(seq).second;
    for (auto seq : theirs.delivered) duplicated_ += !mine.delivered.insert(seq).second;
  }
  duplicated_ += other.duplicated_;
  reordered_ += other.reordered_;
}

nlohmann::json delivery_checker::to_json() const {
  auto streams = nlohmann::json::object();
  for (const auto& [conv, s] : streams_) streams[conv] = {{"acked", s.acked}, {"delivered", s.delivered}};
  return {{"streams", streams}, {"duplicated", duplicated_}, {"reordered", reordered_}};
}

delivery_checker delivery_checker::from_json(const nlohmann::json& j) {
  try {
    delivery_checker c;
    for (const auto& [conv, s] : j.at("streams").items()) {
      auto& mine = c.streams_[conv];
      for (auto seq : s.at("acked")) c.acked_count_ += mine.acked.insert(seq.get<std::uint64_t>()).second;
      for (auto seq : s.at("delivered")) mine.delivered.insert(seq.get<std::uint64_t>());
    }
    c.duplicated_ = j.at("duplicated").get<std::uint64_t>();
    c.reordered_ = j.at("reordered").get<std::uint64_t>();
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string{"delivery checker dump: "} + e.what());
  }
}

std::uint64_t delivery_checker::lost() const {
  std::uint64_t n = 0;
  for (const auto& [conv, s] : streams_)
    for (auto seq : s.acked) n += s.delivered.count(seq) == 0;
  return n;
}

} // namespace dynchat::load
