#pragma once
// The write side of one conversation, without actors: messages queue here, form one
// batch at a time for the store writer, take their seqs when the batch forms (so a
// failed batch leaves no gap: its seqs are reused), and come back with the senders to
// ack once the batch is durable. Also: the in-flight bound, dedup against what is
// still in flight, the conversation record's dirty mark and the index rows riding along,
// and callbacks that wait for "everything so far is durable".
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "dynchat/store/records.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat::conversation {

/// Told the seq once its message is durable, or nullopt when its batch failed.
using ack_fn = std::function<void(std::optional<std::uint64_t> seq)>;
/// Runs once everything queued before it is durable (ok) or its batch failed.
using commit_fn = std::function<void(bool ok)>;

struct pending_message {
  store::message_record rec;
  std::string sender;            // visitor | agent:<agent id>: the dedup namespace; empty: no dedup
  std::vector<ack_fn> acks;      // one per copy sent (a resend attaches to the first)
  std::uint64_t origin_conn = 0; // the socket it came from: the sender has its ack, no echo
  std::uint64_t seq = 0;         // assigned when its batch forms
};

/// A batch that finished: its messages (with their seqs) in order, and the callbacks
/// that waited for it.
struct settled_batch {
  bool ok = false;
  std::vector<pending_message> messages;
  std::vector<commit_fn> callbacks;
};

class durable_log {
public:
  durable_log(std::uint64_t committed_seq, bool group_commit) : committed_seq_{committed_seq}, group_commit_{group_commit} {}

  /// Queued and in flight together: what the bound counts.
  std::size_t in_flight() const { return queued_.size() + writing_.size(); }
  /// At the bound: what a sender sends now is refused.
  bool full(std::size_t max_in_flight) const { return in_flight() >= max_in_flight; }
  std::uint64_t committed_seq() const { return committed_seq_; }
  bool writing() const { return write_in_flight_; }
  /// Nothing queued or in flight (messages, the record, rows), nobody waiting: the
  /// session may stop. A failed batch's record and rows keep it from stopping.
  bool idle() const;

  /// A resent (sender, client_msg_id) still queued or in flight: the ack attaches to
  /// that copy and true is returned. Committed ones are the caller's to look up.
  bool attach_duplicate(const std::string& sender, const std::string& client_msg_id, ack_fn& ack);

  /// Whether (sender, client_msg_id) may already be committed, so that only then the
  /// caller reads the store: a filter of every committed id of the conversation, held as
  /// 64-bit hashes (a collision only costs that read). False is certain once the filter
  /// is complete: a new conversation's is; a resumed one's is after `load_committed_ids`.
  bool maybe_committed(std::string_view sender, std::string_view client_msg_id) const;
  /// The ids committed before this log existed (read from the store), completing the filter.
  void load_committed_ids(const std::vector<std::pair<std::string, std::string>>& sender_and_id);
  /// Marks the filter complete without ids: a conversation that has no messages yet.
  void committed_ids_complete() { filter_complete_ = true; }
  /// Queues a message. The caller checks `full()` first for what senders send;
  /// system lines are queued regardless (the bound is for senders).
  void append(pending_message m) { queued_.push_back(std::move(m)); }
  /// The newest queued message (for the flow to read what was just said).
  const pending_message& last_queued() const { return queued_.back(); }
  /// Rows written with the next batch (index rows: open, waiting, agent chats...).
  store::write_batch& rows() { return queued_rows_; }
  /// The conversation record goes with the next batch.
  void mark_record_dirty() { record_dirty_ = true; }
  void after_commit(commit_fn cb) { queued_callbacks_.push_back(std::move(cb)); }

  /// What to do next. Nothing while a batch is in flight. With nothing to write, the
  /// waiting callbacks are ready (everything before them is durable). Otherwise a
  /// batch: the record is stamped updated at `now_ms` when it goes.
  struct next_step {
    std::optional<store::write_batch> batch;
    std::vector<commit_fn> ready;
  };
  next_step next(store::conversation_record& conv, std::int64_t now_ms);

  /// The batch in flight finished. On success its seqs are committed; on failure the
  /// record and its rows go again with the next batch, ahead of what came since, and
  /// the seqs are given out again.
  settled_batch settle(bool ok);

  /// Gives up on everything not in flight: the queued messages (to be told they failed)
  /// and the waiting callbacks, and forgets the record's and the rows' changes. For a
  /// conversation that is dropped (it was never stored) rather than written again.
  settled_batch abandon();

private:
  std::uint64_t committed_seq_;
  bool group_commit_;
  std::vector<pending_message> queued_;
  std::vector<pending_message> writing_;
  store::write_batch queued_rows_;
  store::write_batch writing_rows_;
  std::vector<commit_fn> queued_callbacks_;
  std::vector<commit_fn> writing_callbacks_;
  bool record_dirty_ = false;
  bool write_in_flight_ = false;
  std::unordered_set<std::uint64_t> committed_ids_; // hashes of sender '\0' client_msg_id
  bool filter_complete_ = false;
};

} // namespace dynchat::conversation
