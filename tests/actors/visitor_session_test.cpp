#include "fixture.hpp"
#include "flaky_writer.hpp"
#include "recording_sink.hpp"

#include <mutex>

#include "actors/directory.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/store/tables.hpp"

using namespace dynchat;
using namespace dynchat::testing;

namespace {

struct session_fixture : actor_fixture {
  std::shared_ptr<recording_sink> sink;
  session_actor session;
  session_fixture() {
    ctx.router = spawn_router(sys, ctx);
    ctx.directory = spawn_directory(sys, ctx);
    run();
    sink = std::make_shared<recording_sink>(ctx.db, 7);
    protocol::visitor_hello hello;
    hello.page_url = "https://example.com";
    msg::visitor_bind bind{[this](session_actor a) { session = a; }};
    caf::anon_send(ctx.directory, msg::vhello_atom::value, hello, net::sink_ptr{sink}, bind);
    run();
    own(session);
  }
  void say(const std::string& id, const std::string& text) {
    caf::anon_send(session, msg::say_atom::value, std::uint64_t{7}, protocol::visitor_say{{id}, text});
  }
};

} // namespace

TEST_CASE("a new conversation is durable before its welcome", "[actors][session]") {
  session_fixture f;
  REQUIRE(f.session);
  CHECK(f.sink->hello_done);
  auto welcome = f.sink->of_type("welcome");
  REQUIRE(welcome.size() == 1);
  const std::string conv = welcome[0]["conversation_id"];
  auto txn = f.ctx.db->read();
  auto record = store::load_conversation(txn, conv);
  REQUIRE(record);
  CHECK(record->phase == store::conversation_phase::waiting); // live chat flow: straight to the router
  CHECK(store::find_conversation_by_resume_hash(txn, sha256_hex(welcome[0]["resume_token"].get<std::string>())) == conv);
}

TEST_CASE("acks come only after the commit, with gapless seqs, in order", "[actors][session]") {
  session_fixture f;
  for (int i = 0; i < 10; ++i) f.say("m" + std::to_string(i), "text " + std::to_string(i));
  f.run();
  auto acks = f.sink->of_type("ack");
  REQUIRE(acks.size() == 10);
  CHECK(f.sink->acked_before_commit == 0);
  // seq 1 is the "in line" notice from the queue; visitor messages follow without gaps.
  std::uint64_t first = acks[0]["seq"];
  for (std::size_t i = 0; i < acks.size(); ++i) {
    CHECK(acks[i]["client_msg_id"] == "m" + std::to_string(i));
    CHECK(acks[i]["seq"] == first + i);
  }
  // Ten messages folded into few commits: one batch per conversation in flight at a time.
  CHECK(f.stats.store_commits < 10);
}

TEST_CASE("a repeated client_msg_id is answered from memory or the store, stored once", "[actors][session]") {
  session_fixture f;
  f.say("dup", "first");
  f.say("dup", "first again, in flight");
  f.run();
  f.say("dup", "after the commit");
  f.run();
  auto acks = f.sink->of_type("ack");
  REQUIRE(acks.size() == 3);
  CHECK(acks[0]["seq"] == acks[1]["seq"]);
  CHECK(acks[0]["seq"] == acks[2]["seq"]);
  CHECK(f.stats.duplicate_messages == 2);
  auto txn = f.ctx.db->read();
  auto conv = f.sink->of_type("welcome")[0]["conversation_id"].get<std::string>();
  int stored = 0;
  for (auto& [seq, m] : store::load_messages(txn, conv, 0, 100)) stored += m.client_msg_id == "dup";
  CHECK(stored == 1);
}

TEST_CASE("more than max_in_flight unacked messages are refused with busy", "[actors][session]") {
  session_fixture f;
  f.config.chat.max_in_flight = 3;
  for (int i = 0; i < 6; ++i) f.say("m" + std::to_string(i), "x");
  f.run();
  auto errors = f.sink->of_type("error");
  REQUIRE_FALSE(errors.empty());
  CHECK(errors[0]["code"] == "busy");
  CHECK(f.sink->of_type("ack").size() + errors.size() == 6);
}

TEST_CASE("a detached conversation ends after the grace period", "[actors][session]") {
  session_fixture f;
  caf::anon_send(f.session, msg::detach_atom::value, std::uint64_t{7}, false);
  f.run();
  CHECK(f.stats.live_visitor_sessions == 1);
  f.sched.advance_time(f.config.chat.visitor_grace);
  f.run();
  CHECK(f.stats.live_visitor_sessions == 0);
  auto conv = f.sink->of_type("welcome")[0]["conversation_id"].get<std::string>();
  auto record = store::load_conversation(f.ctx.db->read(), conv);
  REQUIRE(record);
  CHECK(record->phase == store::conversation_phase::ended);
  CHECK(record->end_reason == "visitor_left");
}

TEST_CASE("a resume is replayed a page at a time, each page only once the socket has drained", "[actors][session]") {
  session_fixture f;
  f.config.websocket.max_outbound_frames = 40; // pages of 10 frames
  f.config.chat.max_in_flight = 16;
  for (int i = 0; i < 95; ++i) {
    f.say("m" + std::to_string(i), "text " + std::to_string(i));
    if (i % 10 == 9) f.run();
  }
  f.run();
  REQUIRE(f.sink->of_type("ack").size() == 95);
  const auto welcome = f.sink->of_type("welcome")[0];
  const auto conv = welcome["conversation_id"].get<std::string>();
  const auto newest = store::last_seq(f.ctx.db->read(), conv);

  auto tab = std::make_shared<recording_sink>(f.ctx.db, 8);
  tab->hold = true; // its client reads only when the test says so
  protocol::visitor_hello hello;
  hello.resume_token = welcome["resume_token"].get<std::string>();
  hello.last_seq = 0;
  caf::anon_send(f.ctx.directory, msg::vhello_atom::value, hello, net::sink_ptr{tab}, msg::visitor_bind{[](session_actor) {}});
  f.run();
  std::vector<std::uint64_t> seqs;
  int pages = 0;
  while (true) {
    // Never more than a page between two drains, however long the conversation is.
    CHECK(tab->since_drain <= 10 + 1); // a page, and the welcome before the first
    for (auto& m : tab->of_type("message")) seqs.push_back(m["seq"]);
    tab->frames.clear();
    if (!tab->waiter) break;
    ++pages;
    tab->release();
    f.run();
  }
  CHECK(pages >= static_cast<int>(newest / 10));
  // Every stored message once, in order, and then the socket is live: a new one arrives.
  REQUIRE(seqs.size() == newest);
  for (std::size_t i = 0; i < seqs.size(); ++i) CHECK(seqs[i] == i + 1);
  tab->hold = false;
  f.say("late", "after the replay");
  f.run();
  auto late = tab->of_type("message");
  REQUIRE(late.size() == 1);
  CHECK(late[0]["seq"] == newest + 1);
}

namespace {

// A conversation whose writes go through a flaky_writer: `*failures` write requests fail.
struct flaky_session_fixture : actor_fixture {
  std::shared_ptr<int> failures = std::make_shared<int>(0);
  std::shared_ptr<recording_sink> sink = std::make_shared<recording_sink>(ctx.db, 7);
  session_actor session;
  // initial_failures: how many writes fail from the start, the new conversation's first among them.
  explicit flaky_session_fixture(int initial_failures = 0) {
    *failures = initial_failures;
    own(ctx.writer);
    ctx.writer = caf::actor_cast<store_writer_actor>(sys.spawn(flaky_writer, ctx.writer, failures));
    ctx.router = spawn_router(sys, ctx);
    ctx.directory = spawn_directory(sys, ctx);
    run();
    protocol::visitor_hello hello;
    hello.page_url = "https://example.com";
    caf::anon_send(ctx.directory, msg::vhello_atom::value, hello, net::sink_ptr{sink},
                   msg::visitor_bind{[this](session_actor a) { session = a; }});
    run();
    own(session);
  }
};

} // namespace

TEST_CASE("a batch that fails is written again: an ended conversation leaves no row behind for the next start",
          "[actors][session]") {
  flaky_session_fixture f;
  REQUIRE(f.session);
  auto& failures = f.failures;
  auto& sink = f.sink;
  auto& session = f.session;
  const auto conv = sink->of_type("welcome").at(0)["conversation_id"].get<std::string>();
  auto rows = [&] {
    auto txn = f.ctx.db->read();
    int n = 0;
    for (auto& w : store::load_waiting(txn)) n += w.conversation_id == conv;
    for (auto& id : store::load_open_conversations(txn)) n += id == conv;
    return n;
  };
  REQUIRE(rows() == 2); // in line, and open
  // The visitor leaves; the batch that ends the conversation fails once.
  caf::anon_send(session, msg::detach_atom::value, std::uint64_t{7}, false);
  f.run();
  *failures = 1;
  f.sched.advance_time(f.config.chat.visitor_grace);
  f.run();
  CHECK(*failures == 0); // it did fail
  f.sched.advance_time(std::chrono::milliseconds{50}); // the first back-off
  f.run();
  auto record = store::load_conversation(f.ctx.db->read(), conv);
  REQUIRE(record);
  CHECK(record->phase == store::conversation_phase::ended);
  CHECK(rows() == 0);
}

TEST_CASE("a store that keeps failing is written again after a growing back-off, never in a loop", "[actors][session]") {
  flaky_session_fixture f;
  REQUIRE(f.session);
  auto& failures = f.failures;
  auto& sink = f.sink;
  auto& session = f.session;
  caf::anon_send(session, msg::detach_atom::value, std::uint64_t{7}, false);
  f.run();
  constexpr int plenty = 1000000;
  *failures = plenty;
  f.sched.advance_time(f.config.chat.visitor_grace);
  f.sched.run(10000); // bounded: a retry loop would spend it all on failing writes
  auto attempts = [&] { return plenty - *failures; };
  CHECK(attempts() == 1);
  // 50, 100, 200, 400 ms: four more within 750 ms, whatever runs meanwhile.
  for (int ms = 0; ms < 750; ms += 10) {
    f.sched.advance_time(std::chrono::milliseconds{10});
    f.sched.run(10000);
  }
  CHECK(attempts() == 5);
  // The store recovers: the next retry writes the ended conversation.
  *failures = 0;
  f.sched.advance_time(std::chrono::milliseconds{800});
  f.run();
  auto record = store::load_conversation(f.ctx.db->read(), sink->of_type("welcome").at(0)["conversation_id"].get<std::string>());
  REQUIRE(record);
  CHECK(record->phase == store::conversation_phase::ended);
}

TEST_CASE("a history page the store cannot read is answered store_failed, and the next one works", "[actors][session]") {
  session_fixture f;
  f.say("m1", "hello");
  f.run();
  {
    std::vector<store::read_txn> readers; // every reader slot taken: the next read fails
    try {
      while (readers.size() < 10000) readers.push_back(f.ctx.db->read());
    } catch (const store::store_error&) {
    }
    REQUIRE(readers.size() < 10000);
    caf::anon_send(f.session, msg::history_atom::value, std::uint64_t{7}, protocol::history_request{});
    f.run();
  }
  auto errors = f.sink->of_type("error");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0]["code"] == "store_failed");
  CHECK(f.sink->of_type("history").empty());
  caf::anon_send(f.session, msg::history_atom::value, std::uint64_t{7}, protocol::history_request{});
  f.run();
  REQUIRE(f.sink->of_type("history").size() == 1);
}


TEST_CASE("a session told to stop writes what its log still holds before it quits", "[actors][session]") {
  session_fixture f;
  // The fixture's one session has ended (its counter goes down as it terminates).
  auto gone = [&] { return f.stats.live_visitor_sessions == 0; };
  f.run();
  f.say("a", "first");
  f.say("b", "second: queued behind the first batch");
  caf::anon_send(f.session, msg::shutdown_atom::value);
  // The session takes all three before the writer answers: "b" is still in its log.
  for (int i = 0; i < 3; ++i) {
    REQUIRE(f.sched.prioritize(f.session));
    f.sched.run_once();
  }
  CHECK_FALSE(gone());
  f.run();
  CHECK(gone());
  auto acks = f.sink->of_type("ack");
  REQUIRE(acks.size() == 2);
  CHECK(acks[1]["client_msg_id"] == "b");
  auto conv = f.sink->of_type("welcome")[0]["conversation_id"].get<std::string>();
  std::vector<std::string> stored;
  for (auto& [seq, m] : store::load_messages(f.ctx.db->read(), conv, 0, 100))
    if (m.from == "visitor") stored.push_back(m.text);
  CHECK(stored == std::vector<std::string>{"first", "second: queued behind the first batch"});
}

TEST_CASE("a session told to stop while the store fails quits without a back-off, acking nothing", "[actors][session]") {
  flaky_session_fixture f;
  REQUIRE(f.session);
  auto gone = [&] { return f.stats.live_visitor_sessions == 0; };
  f.run();
  *f.failures = 1000000;
  caf::anon_send(f.session, msg::say_atom::value, std::uint64_t{7}, protocol::visitor_say{{"a"}, "lost"});
  caf::anon_send(f.session, msg::shutdown_atom::value);
  f.sched.run(10000); // no timer advanced: a session waiting out a back-off would stay
  CHECK(gone());
  CHECK(f.sink->of_type("ack").empty());
  auto errors = f.sink->of_type("error");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0]["code"] == "store_failed");
}

TEST_CASE("a new conversation whose first write fails is refused and leaves nothing behind, later neither",
          "[actors][session]") {
  flaky_session_fixture f{1};
  CHECK_FALSE(f.session); // never bound: no welcome
  CHECK(f.sink->of_type("welcome").empty());
  auto errors = f.sink->of_type("error");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0]["code"] == "store_failed");
  CHECK(f.sink->closed_with == net::close_code::internal);
  CHECK(f.stats.live_visitor_sessions == 0); // the session ended
  // No retry writes it after its back-off: the router is not left offering it either.
  f.sched.advance_time(std::chrono::seconds{10});
  f.run();
  auto txn = f.ctx.db->read();
  CHECK(txn.entries(store::table::conversations) == 0);
  CHECK(store::load_waiting(txn).empty());
  CHECK(store::load_open_conversations(txn).empty());
  caf::scoped_actor self{f.sys};
  self->send(f.ctx.router, msg::snapshot_atom::value);
  f.run();
  self->receive([&](const std::string& snapshot) { CHECK(nlohmann::json::parse(snapshot)["queue"] == 0); });
}
