#pragma once
// Exactly-once, in-order delivery, checked from the outside. Senders report what the
// server acked (conversation, seq); receivers report what they were delivered. At the
// end every acked message must have been delivered once, and each receiver must have
// seen its conversation's seqs strictly increasing.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "seq_set.hpp"

namespace dynchat::load {

class delivery_checker {
public:
  void acked(const std::string& conversation, std::uint64_t seq);
  /// `receiver` names one end (say "agent" or "visitor") of the conversation.
  void delivered(const std::string& conversation, const std::string& receiver, std::uint64_t seq);

  /// Folds in what another process saw. Each receiver lives in one process, so order is
  /// checked there; here a seq delivered in both counts as duplicated.
  void merge(const delivery_checker& other);
  /// Everything merge needs, for sending between processes; from_json throws
  /// std::invalid_argument on a malformed dump.
  nlohmann::json to_json() const;
  static delivery_checker from_json(const nlohmann::json& j);

  std::uint64_t lost() const;       // acked, never delivered to the other end
  std::uint64_t duplicated() const { return duplicated_; }
  std::uint64_t reordered() const { return reordered_; }
  std::uint64_t acked_count() const { return acked_count_; }

private:
  struct stream {
    seq_set acked;
    seq_set delivered;
    std::vector<std::pair<std::string, std::uint64_t>> last_seen; // per receiver: one or two
  };
  std::unordered_map<std::string, stream> streams_; // per conversation
  std::uint64_t duplicated_ = 0;
  std::uint64_t reordered_ = 0;
  std::uint64_t acked_count_ = 0;
};

} // namespace dynchat::load
