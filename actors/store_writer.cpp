// Group commit in an actor: the first write after a commit sends (flush_atom) to self.
// That message queues behind every write already in the mailbox, so when it is
// handled they are all pending and go into one transaction. Writes that arrive while
// the commit blocks are handled next and schedule the following flush.
//
//   write, write, write, flush | write, write, flush | ...
//   \____ one transaction ___/  \__ next one ____/
//
// Bulk writes (a Marketo sync's batches of leads) wait in a lane of their own: a flush
// commits the chat writes first, then one bulk batch alone, and sends itself another
// flush for the next bulk batch, behind whatever chat writes came meanwhile. So a chat
// commit never carries a bulk batch, and waits for at most one.
#include "actors/store_writer.hpp"

#include <chrono>
#include <deque>
#include <pthread.h>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "dynchat/store/writes.hpp"

namespace dynchat {
namespace {

struct pending_write {
  store::write_batch batch;
  caf::typed_response_promise<std::uint64_t> promise;
};

struct store_writer_state {
  std::deque<pending_write> pending;
  std::deque<pending_write> bulk;
  bool flush_scheduled = false;
  std::uint64_t commits = 0;
  static inline const char* name = "store_writer";
};

using writer_actor = store_writer_actor::stateful_pointer<store_writer_state>;

// Commits the first `limit` writes of `queue` in one transaction.
void commit_some(writer_actor self, const actor_context& ctx, std::deque<pending_write>& queue, std::size_t limit,
                 bool bulk = false) {
  auto& st = self->state;
  const std::size_t n = std::min(limit, queue.size());
  auto started = std::chrono::steady_clock::now();
  caf::error failure;
  try {
    auto txn = ctx.db->write();
    for (std::size_t i = 0; i < n; ++i) store::writes::apply(txn, queue[i].batch);
    txn.commit();
  } catch (const store::store_error& e) {
    spdlog::error("store: commit of {} write requests failed: {}", n, e.what());
    ctx.stats->store_failures++;
    failure = to_caf_error(protocol::error_code::store_failed);
  }
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  ++st.commits;
  ctx.stats->store_commits++;
  if (bulk) {
    ctx.stats->bulk_commit_latency_seconds.observe(took.count());
  } else {
    ctx.stats->commit_batch_size.observe(static_cast<double>(n));
    ctx.stats->commit_latency_seconds.observe(took.count());
  }
  for (std::size_t i = 0; i < n; ++i) {
    auto& p = queue.front();
    if (failure) p.promise.deliver(failure);
    else p.promise.deliver(st.commits);
    queue.pop_front();
  }
  ctx.stats->store_pending_writes -= static_cast<std::int64_t>(n);
}

void schedule_flush(writer_actor self) {
  if (self->state.flush_scheduled) return;
  self->state.flush_scheduled = true;
  self->send(self, msg::flush_atom::value);
}

void commit_pending(writer_actor self, const actor_context& ctx) {
  const std::size_t limit = ctx.cfg->store.group_commit ? ctx.cfg->store.max_batch_requests : 1;
  while (!self->state.pending.empty()) commit_some(self, ctx, self->state.pending, limit);
}

caf::result<std::uint64_t> enqueue(writer_actor self, const actor_context& ctx, std::deque<pending_write>& queue,
                                   store::write_batch& batch) {
  auto promise = self->make_response_promise<std::uint64_t>();
  queue.push_back(pending_write{std::move(batch), promise});
  ctx.stats->store_pending_writes++;
  schedule_flush(self);
  return promise;
}

store_writer_actor::behavior_type store_writer(writer_actor self, actor_context ctx, bool detached) {
  // A detached writer runs here on its own thread: named for top -H and perf.
  if (detached) pthread_setname_np(pthread_self(), "dynchat.writer");
  return {
    [=](msg::write_atom, store::write_batch& batch) -> caf::result<std::uint64_t> {
      return enqueue(self, ctx, self->state.pending, batch);
    },
    [=](msg::bulk_write_atom, store::write_batch& batch) -> caf::result<std::uint64_t> {
      return enqueue(self, ctx, self->state.bulk, batch);
    },
    [=](msg::flush_atom) {
      auto& st = self->state;
      st.flush_scheduled = false;
      commit_pending(self, ctx);
      if (st.bulk.empty()) return;
      commit_some(self, ctx, st.bulk, 1, true);
      if (!st.bulk.empty()) schedule_flush(self); // behind the chat writes that came meanwhile
    },
    // Answers once everything sent before it is committed: used at shutdown.
    [=](msg::shutdown_atom) {
      auto& st = self->state;
      commit_pending(self, ctx);
      while (!st.bulk.empty()) commit_some(self, ctx, st.bulk, 1, true);
      self->quit();
    },
  };
}

} // namespace

store_writer_actor spawn_store_writer(caf::actor_system& sys, const actor_context& ctx, bool detached) {
  if (detached) return sys.spawn<caf::detached>(store_writer, ctx, true);
  return sys.spawn(store_writer, ctx, false);
}

} // namespace dynchat
