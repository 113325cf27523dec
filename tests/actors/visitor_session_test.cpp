#include "fixture.hpp"
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
  caf::actor session;
  session_fixture() {
    ctx.router = spawn_router(sys, ctx);
    ctx.directory = spawn_directory(sys, ctx);
    run();
    sink = std::make_shared<recording_sink>(ctx.db, 7);
    protocol::visitor_hello hello;
    hello.page_url = "https://example.com";
    msg::bind_fn bind{[this](caf::actor a) { session = a; }};
    caf::anon_send(ctx.directory, msg::vhello_atom::value, hello, net::sink_ptr{sink}, bind);
    run();
    owned.push_back(session);
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
