#include "fixture.hpp"
#include <map>

using namespace dynchat;
using namespace dynchat::testing;

namespace {
caf::behavior one_write(caf::event_based_actor* self, store_writer_actor writer, int i, std::shared_ptr<std::vector<std::uint64_t>> done) {
  store::write_batch batch{{store::table::meta, "k" + std::to_string(i), "v", false}};
  self->request(writer, caf::infinite, msg::write_atom::value, std::move(batch)).then([=](std::uint64_t commit) {
    done->push_back(commit);
    self->quit();
  });
  return {[](int) {}};
}
} // namespace

TEST_CASE("writes that arrive together share one durable commit", "[actors][store]") {
  actor_fixture f{true};
  auto done = std::make_shared<std::vector<std::uint64_t>>();
  for (int i = 0; i < 50; ++i) f.sys.spawn(one_write, f.ctx.writer, i, done);
  f.run();
  REQUIRE(done->size() == 50);
  CHECK(f.stats.store_commits == 1);
  for (auto c : *done) CHECK(c == 1);
  auto txn = f.ctx.db->read();
  CHECK(txn.entries(store::table::meta) == 50);
}

TEST_CASE("without group commit every write request is its own commit", "[actors][store]") {
  actor_fixture f{false};
  auto done = std::make_shared<std::vector<std::uint64_t>>();
  for (int i = 0; i < 20; ++i) f.sys.spawn(one_write, f.ctx.writer, i, done);
  f.run();
  REQUIRE(done->size() == 20);
  CHECK(f.stats.store_commits == 20);
}

TEST_CASE("a failed commit answers every request in it with store_failed", "[actors][store]") {
  actor_fixture f;
  f.ctx.db = store::database::open(f.dir / "tiny", {1 << 20, false});
  auto writer = spawn_store_writer(f.sys, f.ctx, false);
  caf::scoped_actor self{f.sys};
  store::write_batch huge;
  for (int i = 0; i < 50; ++i) huge.push_back({store::table::meta, "k" + std::to_string(i), std::string(100000, 'x'), false});
  self->send(writer, msg::write_atom::value, std::move(huge));
  f.run();
  bool failed = false;
  self->receive([](std::uint64_t) {}, [&](caf::error& e) { failed = from_caf_error(e) == protocol::error_code::store_failed; });
  CHECK(failed);
  CHECK(f.stats.store_failures == 1);
  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
}

TEST_CASE("bulk writes wait behind chat writes and are committed one at a time", "[actors][store]") {
  actor_fixture f{true};
  auto writer = f.ctx.writer;
  caf::scoped_actor self{f.sys};
  auto batch = [](std::string key) { return store::write_batch{{store::table::meta, std::move(key), "v", false}}; };
  // Two bulk batches first, then two chat writes, all in the mailbox at once.
  auto bulk_a = self->request(writer, caf::infinite, msg::bulk_write_atom::value, batch("bulk-a"));
  auto bulk_b = self->request(writer, caf::infinite, msg::bulk_write_atom::value, batch("bulk-b"));
  auto chat_c = self->request(writer, caf::infinite, msg::write_atom::value, batch("chat-c"));
  auto chat_d = self->request(writer, caf::infinite, msg::write_atom::value, batch("chat-d"));
  // The first flush: both chat writes in one commit, then bulk-a alone.
  f.sched.run_once(); // bulk-a (schedules the flush)
  f.sched.run_once(); // bulk-b
  f.sched.run_once(); // chat-c
  f.sched.run_once(); // chat-d
  f.sched.run_once(); // the flush
  CHECK(f.stats.store_commits == 2);
  // The flush sent itself another for bulk-b: a chat write that arrives now waits for
  // that one bulk commit, and no more.
  auto chat_e = self->request(writer, caf::infinite, msg::write_atom::value, batch("chat-e"));
  f.run();
  CHECK(f.stats.store_commits == 4);
  std::map<std::string, std::uint64_t> commit_of;
  auto take = [&](auto& handle, std::string key) {
    handle.receive([&](std::uint64_t n) { commit_of[key] = n; }, [&](caf::error&) { FAIL(key << " failed"); });
  };
  take(chat_c, "chat-c");
  take(chat_d, "chat-d");
  take(bulk_a, "bulk-a");
  take(chat_e, "chat-e");
  take(bulk_b, "bulk-b");
  CHECK(commit_of["chat-c"] == 1);
  CHECK(commit_of["chat-d"] == 1);
  CHECK(commit_of["bulk-a"] == 2);
  CHECK(commit_of["bulk-b"] == 3);
  CHECK(commit_of["chat-e"] == 4);
  auto txn = f.ctx.db->read();
  CHECK(txn.entries(store::table::meta) == 5);
}

namespace {
struct answered {
  std::uint64_t commits_at_send = 0; // commits done when the write was sent
  std::uint64_t commit = 0;          // the commit that holds it (0: not answered)
  int answers = 0;
  bool bulk = false;
};

// Sends one write on its lane when it runs, and records the answer.
caf::behavior lane_write(caf::event_based_actor* self, store_writer_actor writer, bool bulk, std::string key,
                         std::shared_ptr<answered> out, const metrics* stats) {
  out->bulk = bulk;
  out->commits_at_send = stats->store_commits;
  store::write_batch batch{{store::table::meta, key, "v", false}};
  auto on_commit = [=](std::uint64_t n) {
    out->commit = n;
    ++out->answers;
    self->quit();
  };
  if (bulk) self->request(writer, caf::infinite, msg::bulk_write_atom::value, std::move(batch)).then(on_commit);
  else self->request(writer, caf::infinite, msg::write_atom::value, std::move(batch)).then(on_commit);
  return {[](int) {}};
}
} // namespace

TEST_CASE("random schedules of chat and bulk writes: every write once, no chat write behind two bulk commits",
          "[actors][store][schedule]") {
  const auto seed = GENERATE(take(20, random(1u, 1000000u)));
  INFO("seed " << seed);
  std::mt19937 rng{seed};
  actor_fixture f{true};
  std::vector<std::shared_ptr<answered>> writes;
  for (int step = 0; step < 600; ++step) {
    // Half the time a new write arrives (a third of them bulk), else one job runs.
    if (writes.size() < 200 && rng() % 2 == 0) {
      auto out = std::make_shared<answered>();
      const bool bulk = rng() % 3 == 0;
      f.sys.spawn(lane_write, f.ctx.writer, bulk, "w" + std::to_string(writes.size()), out, &f.stats);
      writes.push_back(out);
    } else if (!f.sched.jobs.empty()) {
      std::swap(f.sched.jobs.front(), f.sched.jobs[rng() % f.sched.jobs.size()]);
      f.sched.run_once();
    }
  }
  f.run();
  std::map<std::uint64_t, int> chat_in, bulk_in;
  for (const auto& w : writes) {
    REQUIRE(w->answers == 1);
    (w->bulk ? bulk_in : chat_in)[w->commit]++;
    // A chat write waits for at most: the flush ahead of it (chat, then one bulk), its own.
    if (!w->bulk) CHECK(w->commit <= w->commits_at_send + 3);
  }
  for (const auto& [commit, n] : bulk_in) {
    CHECK(n == 1);                       // one bulk batch per commit
    CHECK(chat_in.count(commit) == 0);   // never with chat writes
  }
  auto txn = f.ctx.db->read();
  CHECK(txn.entries(store::table::meta) == writes.size());
}
