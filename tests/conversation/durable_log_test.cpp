#include <catch2/catch.hpp>

#include <algorithm>

#include "dynchat/conversation/durable_log.hpp"
#include "dynchat/store/tables.hpp"

using namespace dynchat;
using conversation::durable_log;
using conversation::pending_message;

namespace {

pending_message said(const std::string& client_id, std::vector<std::optional<std::uint64_t>>* acks = nullptr) {
  pending_message m;
  m.rec.from = "visitor";
  m.rec.text = "text " + client_id;
  m.rec.client_msg_id = client_id;
  m.sender = "visitor";
  if (acks) m.acks.push_back([acks](std::optional<std::uint64_t> seq) { acks->push_back(seq); });
  return m;
}

std::size_t count(const store::write_batch& b, store::table t) {
  return static_cast<std::size_t>(std::count_if(b.begin(), b.end(), [&](const auto& op) { return op.target == t; }));
}

struct log_fixture {
  store::conversation_record conv;
  log_fixture() { conv.id = "0123456789abcdef0123456789abcdef"; }
};

} // namespace

TEST_CASE("seqs are given when a batch forms, one batch in flight at a time", "[conversation]") {
  log_fixture f;
  durable_log log{4, true};
  log.append(said("a"));
  log.append(said("b"));
  auto first = log.next(f.conv, 100);
  REQUIRE(first.batch);
  CHECK(count(*first.batch, store::table::messages) == 2);
  CHECK(count(*first.batch, store::table::client_ids) == 2);
  CHECK((*first.batch)[0].key == store::message_key(f.conv.id, 5));
  // What arrives meanwhile waits for the next batch.
  log.append(said("c"));
  CHECK_FALSE(log.next(f.conv, 101).batch);
  CHECK(log.in_flight() == 3);
  auto done = log.settle(true);
  REQUIRE(done.messages.size() == 2);
  CHECK(done.messages[0].seq == 5);
  CHECK(done.messages[1].seq == 6);
  CHECK(log.committed_seq() == 6);
  auto second = log.next(f.conv, 102);
  REQUIRE(second.batch);
  CHECK((*second.batch)[0].key == store::message_key(f.conv.id, 7));
}

TEST_CASE("an abandoned log hands back what waits and writes nothing more", "[conversation]") {
  log_fixture f;
  durable_log log{0, true};
  log.mark_record_dirty();
  log.rows().push_back({store::table::open_conversations, f.conv.id, {}, false});
  REQUIRE(log.next(f.conv, 50).batch);
  std::vector<std::optional<std::uint64_t>> acks;
  log.append(said("late", &acks));
  int waited = 0;
  log.after_commit([&](bool ok) { waited += ok ? 100 : 1; });
  log.settle(false); // the record and its rows would go again with the next batch
  auto dropped = log.abandon();
  REQUIRE(dropped.messages.size() == 1);
  CHECK(dropped.messages[0].rec.client_msg_id == "late");
  REQUIRE(dropped.callbacks.size() == 1);
  dropped.callbacks[0](false);
  CHECK(waited == 1);
  CHECK(log.idle());
  auto next = log.next(f.conv, 60);
  CHECK_FALSE(next.batch);
  CHECK(next.ready.empty());
}

TEST_CASE("a failed batch gives its seqs out again and retries its record and rows", "[conversation]") {
  log_fixture f;
  durable_log log{0, true};
  log.mark_record_dirty();
  log.rows().push_back({store::table::open_conversations, f.conv.id, {}, false});
  log.append(said("a"));
  REQUIRE(log.next(f.conv, 50).batch);
  CHECK(f.conv.updated_ms == 50);
  log.append(said("b"));
  auto failed = log.settle(false);
  CHECK_FALSE(failed.ok);
  REQUIRE(failed.messages.size() == 1); // returned to be told "store failed"
  CHECK(log.committed_seq() == 0);
  auto retry = log.next(f.conv, 60);
  REQUIRE(retry.batch);
  // b takes seq 1, the seq a had: no gap.
  CHECK((*retry.batch)[0].key == store::message_key(f.conv.id, 1));
  CHECK(count(*retry.batch, store::table::conversations) == 1);
  CHECK(count(*retry.batch, store::table::open_conversations) == 1);
  CHECK(f.conv.updated_ms == 60);
}

TEST_CASE("a failed batch's record and rows keep the log from being idle until written", "[conversation]") {
  log_fixture f;
  durable_log log{0, true};
  log.mark_record_dirty();
  log.rows().push_back({store::table::open_conversations, f.conv.id, {}, false});
  REQUIRE(log.next(f.conv, 1).batch);
  log.settle(false);
  CHECK_FALSE(log.idle()); // stopping now would lose them
  REQUIRE(log.next(f.conv, 2).batch);
  log.settle(true);
  CHECK(log.idle());
}

TEST_CASE("a resend attaches to its copy still queued or in flight", "[conversation]") {
  log_fixture f;
  durable_log log{0, true};
  std::vector<std::optional<std::uint64_t>> acks;
  log.append(said("a", &acks));
  REQUIRE(log.next(f.conv, 1).batch);
  log.append(said("b", &acks));
  conversation::ack_fn again_a = [&](std::optional<std::uint64_t> s) { acks.push_back(s); };
  conversation::ack_fn again_b = [&](std::optional<std::uint64_t> s) { acks.push_back(s); };
  conversation::ack_fn other_sender = [&](std::optional<std::uint64_t> s) { acks.push_back(s); };
  CHECK(log.attach_duplicate("visitor", "a", again_a));  // in flight
  CHECK(log.attach_duplicate("visitor", "b", again_b));  // queued
  CHECK_FALSE(log.attach_duplicate("agent", "a", other_sender)); // another sender's namespace
  CHECK_FALSE(log.attach_duplicate("visitor", "z", other_sender));
  auto done = log.settle(true);
  REQUIRE(done.messages.size() == 1);
  CHECK(done.messages[0].acks.size() == 2);
  CHECK(log.in_flight() == 1);
}

TEST_CASE("callbacks wait for everything queued before them", "[conversation]") {
  log_fixture f;
  durable_log log{0, false}; // one message per batch: the callback must wait for both
  int called = 0;
  log.append(said("a"));
  log.append(said("b"));
  log.after_commit([&](bool ok) { called += ok ? 1 : 100; });
  REQUIRE(log.next(f.conv, 1).batch);
  CHECK(log.settle(true).callbacks.empty());
  REQUIRE(log.next(f.conv, 2).batch);
  auto second = log.settle(true);
  REQUIRE(second.callbacks.size() == 1);
  second.callbacks[0](true);
  CHECK(called == 1);
  // With nothing to write a callback is ready at once.
  log.after_commit([&](bool) { ++called; });
  auto idle = log.next(f.conv, 3);
  CHECK_FALSE(idle.batch);
  REQUIRE(idle.ready.size() == 1);
  CHECK(log.idle());
}

TEST_CASE("without group commit each message is its own batch", "[conversation]") {
  log_fixture f;
  durable_log log{0, false};
  for (auto id : {"a", "b", "c"}) log.append(said(id));
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    auto step = log.next(f.conv, 1);
    REQUIRE(step.batch);
    CHECK(count(*step.batch, store::table::messages) == 1);
    CHECK(log.settle(true).messages.at(0).seq == seq);
  }
}

TEST_CASE("the in-flight bound counts queued and writing messages", "[conversation]") {
  log_fixture f;
  durable_log log{0, true};
  log.append(said("a"));
  REQUIRE(log.next(f.conv, 1).batch);
  log.append(said("b"));
  CHECK(log.full(2));
  CHECK_FALSE(log.full(3));
  CHECK_FALSE(log.idle());
  log.settle(true);
  CHECK_FALSE(log.full(2));
}

TEST_CASE("a message without a sender or client id gets no dedup row", "[conversation]") {
  log_fixture f;
  durable_log log{0, true};
  pending_message system_line;
  system_line.rec.from = "system";
  system_line.rec.text = "Ann joined the chat.";
  log.append(std::move(system_line));
  auto step = log.next(f.conv, 1);
  REQUIRE(step.batch);
  CHECK(count(*step.batch, store::table::messages) == 1);
  CHECK(count(*step.batch, store::table::client_ids) == 0);
}

TEST_CASE("the committed-id filter answers 'certainly new' only once complete, and learns each commit", "[conversation]") {
  log_fixture f;
  durable_log log{0, true};
  CHECK(log.maybe_committed("visitor", "a")); // incomplete: the store must be asked
  log.committed_ids_complete();
  CHECK_FALSE(log.maybe_committed("visitor", "a"));
  log.append(said("a"));
  log.append(said("b"));
  REQUIRE(log.next(f.conv, 1).batch);
  CHECK_FALSE(log.maybe_committed("visitor", "a")); // in flight is attach_duplicate's
  log.settle(true);
  CHECK(log.maybe_committed("visitor", "a"));
  CHECK(log.maybe_committed("visitor", "b"));
  CHECK_FALSE(log.maybe_committed("agent", "a")); // each sender its own namespace
  // A failed batch committed nothing.
  log.append(said("c"));
  REQUIRE(log.next(f.conv, 2).batch);
  log.settle(false);
  CHECK_FALSE(log.maybe_committed("visitor", "c"));
}

TEST_CASE("a resumed log's filter starts from the ids the store holds", "[conversation]") {
  durable_log log{7, true};
  CHECK(log.maybe_committed("visitor", "anything"));
  log.load_committed_ids({{"visitor", "old-1"}, {"agent", "old-2"}});
  CHECK(log.maybe_committed("visitor", "old-1"));
  CHECK(log.maybe_committed("agent", "old-2"));
  CHECK_FALSE(log.maybe_committed("visitor", "old-2"));
  CHECK_FALSE(log.maybe_committed("visitor", "new"));
}
