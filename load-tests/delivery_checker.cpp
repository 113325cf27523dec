#include "delivery_checker.hpp"

#include <stdexcept>

namespace dynchat::load {
namespace {

std::uint64_t& last_seen_by(std::vector<std::pair<std::string, std::uint64_t>>& seen, const std::string& receiver) {
  for (auto& [who, seq] : seen)
    if (who == receiver) return seq;
  return seen.emplace_back(receiver, 0).second;
}

nlohmann::json runs_to_json(const seq_set& set) {
  auto out = nlohmann::json::array();
  for (const auto& [first, last] : set.runs()) out.push_back({first, last});
  return out;
}

// Calls add(first, last) for every run of a dumped run list, checking each.
template <class Add>
void for_each_dumped_run(const nlohmann::json& runs, Add add) {
  for (const auto& r : runs) {
    if (!r.is_array() || r.size() != 2) throw std::invalid_argument("delivery checker dump: a run must be [first, last]");
    const auto first = r[0].get<std::uint64_t>(), last = r[1].get<std::uint64_t>();
    if (first > last || last >= (std::uint64_t{1} << 63))
      throw std::invalid_argument("delivery checker dump: a run must have first <= last < 2^63");
    add(first, last);
  }
}

} // namespace

void delivery_checker::acked(const std::string& conversation, std::uint64_t seq) {
  if (streams_[conversation].acked.insert(seq)) acked_count_++;
}

void delivery_checker::delivered(const std::string& conversation, const std::string& receiver, std::uint64_t seq) {
  auto& s = streams_[conversation];
  auto& last = last_seen_by(s.last_seen, receiver);
  if (seq == last || !s.delivered.insert(seq)) {
    duplicated_++;
    return;
  }
  if (seq < last) reordered_++;
  else last = seq;
}

void delivery_checker::merge(const delivery_checker& other) {
  for (const auto& [conv, theirs] : other.streams_) {
    auto& mine = streams_[conv];
    for (const auto& [first, last] : theirs.acked.runs()) acked_count_ += mine.acked.insert_run(first, last);
    for (const auto& [first, last] : theirs.delivered.runs())
      duplicated_ += last - first + 1 - mine.delivered.insert_run(first, last);
  }
  duplicated_ += other.duplicated_;
  reordered_ += other.reordered_;
}

nlohmann::json delivery_checker::to_json() const {
  auto streams = nlohmann::json::object();
  for (const auto& [conv, s] : streams_) streams[conv] = {{"acked", runs_to_json(s.acked)}, {"delivered", runs_to_json(s.delivered)}};
  return {{"streams", streams}, {"duplicated", duplicated_}, {"reordered", reordered_}};
}

delivery_checker delivery_checker::from_json(const nlohmann::json& j) {
  try {
    delivery_checker c;
    for (const auto& [conv, s] : j.at("streams").items()) {
      auto& mine = c.streams_[conv];
      for_each_dumped_run(s.at("acked"), [&](auto first, auto last) { c.acked_count_ += mine.acked.insert_run(first, last); });
      for_each_dumped_run(s.at("delivered"), [&](auto first, auto last) { mine.delivered.insert_run(first, last); });
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
  for (const auto& [conv, s] : streams_) n += s.acked.count_missing_from(s.delivered);
  return n;
}

} // namespace dynchat::load
