#include "dynchat/conversation/durable_log.hpp"

#include <iterator>
#include <string_view>

#include "dynchat/store/writes.hpp"

namespace dynchat::conversation {
namespace {

// On every message: the two hashes are combined rather than hashing a joined copy.
std::uint64_t id_hash(std::string_view sender, std::string_view client_msg_id) {
  const std::uint64_t a = std::hash<std::string_view>{}(sender);
  const std::uint64_t b = std::hash<std::string_view>{}(client_msg_id);
  return a ^ (b + 0x9e3779b97f4a7c15ull + (a << 6) + (a >> 2));
}

} // namespace

bool durable_log::maybe_committed(std::string_view sender, std::string_view client_msg_id) const {
  return !filter_complete_ || committed_ids_.count(id_hash(sender, client_msg_id)) != 0;
}

void durable_log::load_committed_ids(const std::vector<std::pair<std::string, std::string>>& sender_and_id) {
  committed_ids_.reserve(committed_ids_.size() + sender_and_id.size());
  for (const auto& [sender, id] : sender_and_id) committed_ids_.insert(id_hash(sender, id));
  filter_complete_ = true;
}

bool durable_log::idle() const {
  return !write_in_flight_ && queued_.empty() && queued_callbacks_.empty() && !record_dirty_ && queued_rows_.empty();
}

bool durable_log::attach_duplicate(const std::string& sender, const std::string& client_msg_id, ack_fn& ack) {
  for (auto* list : {&writing_, &queued_})
    for (auto& m : *list)
      if (m.sender == sender && m.rec.client_msg_id == client_msg_id) {
        m.acks.push_back(std::move(ack));
        return true;
      }
  return false;
}

durable_log::next_step durable_log::next(store::conversation_record& conv, std::int64_t now_ms) {
  next_step step;
  if (write_in_flight_) return step;
  if (queued_.empty() && !record_dirty_ && queued_rows_.empty()) {
    step.ready = std::move(queued_callbacks_);
    queued_callbacks_.clear();
    return step;
  }
  store::write_batch batch;
  std::uint64_t seq = committed_seq_;
  // Without group commit (the benchmark's baseline) each message is its own transaction.
  const std::size_t take = group_commit_ ? queued_.size() : std::min<std::size_t>(1, queued_.size());
  for (std::size_t i = 0; i < take; ++i) {
    auto& m = queued_[i];
    m.seq = ++seq;
    store::writes::put_message(batch, conv.id, m.seq, m.rec, m.sender);
  }
  if (record_dirty_) {
    conv.updated_ms = now_ms;
    store::writes::put_conversation(batch, conv);
    record_dirty_ = false;
  }
  batch.insert(batch.end(), queued_rows_.begin(), queued_rows_.end());
  writing_rows_ = std::move(queued_rows_);
  queued_rows_.clear();
  writing_.assign(std::make_move_iterator(queued_.begin()), std::make_move_iterator(queued_.begin() + take));
  queued_.erase(queued_.begin(), queued_.begin() + take);
  if (queued_.empty()) { // callbacks wait for everything queued before them
    writing_callbacks_ = std::move(queued_callbacks_);
    queued_callbacks_.clear();
  }
  write_in_flight_ = true;
  step.batch = std::move(batch);
  return step;
}

settled_batch durable_log::settle(bool ok) {
  settled_batch done;
  done.ok = ok;
  done.messages = std::move(writing_);
  done.callbacks = std::move(writing_callbacks_);
  writing_.clear();
  writing_callbacks_.clear();
  write_in_flight_ = false;
  if (ok) {
    if (!done.messages.empty()) committed_seq_ = done.messages.back().seq;
    for (const auto& m : done.messages)
      if (!m.sender.empty() && !m.rec.client_msg_id.empty()) committed_ids_.insert(id_hash(m.sender, m.rec.client_msg_id));
  } else {
    record_dirty_ = true;
    queued_rows_.insert(queued_rows_.begin(), std::make_move_iterator(writing_rows_.begin()),
                        std::make_move_iterator(writing_rows_.end()));
  }
  writing_rows_.clear();
  return done;
}

settled_batch durable_log::abandon() {
  settled_batch dropped;
  dropped.messages = std::move(queued_);
  dropped.callbacks = std::move(queued_callbacks_);
  queued_.clear();
  queued_callbacks_.clear();
  queued_rows_.clear();
  record_dirty_ = false;
  return dropped;
}

} // namespace dynchat::conversation
