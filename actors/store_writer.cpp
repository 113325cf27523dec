// Group commit in an actor: the first write after a commit sends (flush_atom) to self.
// That message queues behind every write already in the mailbox, so when it is
// handled they are all pending and go into one transaction. Writes that arrive while
// the commit blocks are handled next and schedule the following flush.
//
//   write, write, write, flush | write, write, flush | ...
//   \____ one transaction ___/  \__ next one ____/
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
  bool flush_scheduled = false;
  std::uint64_t commits = 0;
  static inline const char* name = "store_writer";
};

using writer_actor = store_writer_actor::stateful_pointer<store_writer_state>;

void commit_some(writer_actor self, const actor_context& ctx) {
  auto& st = self->state;
  const std::size_t limit = ctx.cfg->store.group_commit ? ctx.cfg->store.max_batch_requests : 1;
  const std::size_t n = std::min(limit, st.pending.size());
  auto started = std::chrono::steady_clock::now();
  caf::error failure;
  try {
    auto txn = ctx.db->write();
    for (std::size_t i = 0; i < n; ++i) store::writes::apply(txn, st.pending[i].batch);
    txn.commit();
  } catch (const store::store_error& e) {
    spdlog::error("store: commit of {} write requests failed: {}", n, e.what());
    ctx.stats->store_failures++;
    failure = to_caf_error(protocol::error_code::store_failed);
  }
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  ++st.commits;
  ctx.stats->store_commits++;
  ctx.stats->commit_batch_size.observe(static_cast<double>(n));
  ctx.stats->commit_latency_seconds.observe(took.count());
  for (std::size_t i = 0; i < n; ++i) {
    auto& p = st.pending.front();
    if (failure) p.promise.deliver(failure);
    else p.promise.deliver(st.commits);
    st.pending.pop_front();
  }
  ctx.stats->store_pending_writes -= static_cast<std::int64_t>(n);
}

store_writer_actor::behavior_type store_writer(writer_actor self, actor_context ctx, bool detached) {
  // A detached writer runs here on its own thread: named for top -H and perf.
  if (detached) pthread_setname_np(pthread_self(), "dynchat.writer");
  return {
    [=](msg::write_atom, store::write_batch& batch) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      auto promise = self->make_response_promise<std::uint64_t>();
      st.pending.push_back(pending_write{std::move(batch), promise});
      ctx.stats->store_pending_writes++;
      if (!st.flush_scheduled) {
        st.flush_scheduled = true;
        self->send(self, msg::flush_atom::value);
      }
      return promise;
    },
    [=](msg::flush_atom) {
      self->state.flush_scheduled = false;
      while (!self->state.pending.empty()) commit_some(self, ctx);
    },
    // Answers once everything sent before it is committed: used at shutdown.
    [=](msg::shutdown_atom) {
      while (!self->state.pending.empty()) commit_some(self, ctx);
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
