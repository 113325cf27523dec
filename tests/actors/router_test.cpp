// The router actor on the deterministic coordinator, with fake agents and sessions
// that record what they are told. The rules themselves are tested in
// tests/routing/dispatcher_test.cpp; these check the shell: messages, timers on the
// actor clock, the cursor and the line restored from the store.
#include "fixture.hpp"

#include "dynchat/store/tables.hpp"

using namespace dynchat;
using namespace dynchat::testing;

namespace {

// What a fake agent or session was told by the router.
struct inbox {
  std::vector<std::string> offers;     // conversation ids
  std::vector<std::string> withdrawn;  // "conv:reason"
  std::vector<std::string> statuses;
  std::vector<std::uint32_t> queued;   // positions
  std::vector<std::string> assigned;   // agent ids
};

caf::behavior fake_peer(caf::event_based_actor*, std::shared_ptr<inbox> in) {
  return {
    [=](msg::offer_atom, msg::chat_request& r, std::int64_t) { in->offers.push_back(r.conversation_id); },
    [=](msg::withdraw_atom, std::string c, std::string reason) { in->withdrawn.push_back(c + ":" + reason); },
    [=](msg::status_atom, std::string s) { in->statuses.push_back(s); },
    [=](msg::queued_atom, std::uint32_t pos) { in->queued.push_back(pos); },
    [=](msg::assign_atom, agent_actor, std::string agent_id, std::string) {
      in->assigned.push_back(agent_id);
      return true;
    },
  };
}

struct router_fixture : actor_fixture {
  router_fixture() { ctx.router = spawn_router(sys, ctx); run(); }

  std::pair<caf::actor, std::shared_ptr<inbox>> peer() {
    auto in = std::make_shared<inbox>();
    auto a = sys.spawn(fake_peer, in);
    owned.push_back(a);
    return {a, in};
  }
  void agent_state(const std::string& id, const caf::actor& handle, bool available, std::uint32_t max_chats = 5) {
    caf::anon_send(ctx.router, msg::aupdate_atom::value,
                   msg::agent_state_report{id, id, caf::actor_cast<agent_actor>(handle), available ? "available" : "away",
                                           true, max_chats});
    run();
  }
  void request(const std::string& conv, const caf::actor& session, std::int64_t at = 0) {
    caf::anon_send(ctx.router, msg::request_atom::value, msg::chat_request{conv, caf::actor_cast<session_actor>(session), {}, at, {}});
    run();
  }
  // Accepts through a scoped actor and says whether the router agreed.
  protocol::error_code accept(const std::string& conv, const std::string& agent_id) {
    caf::scoped_actor self{sys};
    self->send(ctx.router, msg::accept_atom::value, conv, agent_id);
    run();
    protocol::error_code result = protocol::error_code::internal;
    self->receive([&](session_actor) { result = protocol::error_code::bad_frame; /* stands for "assigned" */ },
                  [&](caf::error& e) { result = from_caf_error(e); });
    return result;
  }
  void decline(const std::string& conv, const std::string& agent_id) {
    caf::anon_send(ctx.router, msg::decline_atom::value, conv, agent_id);
    run();
  }
  void release(const std::string& agent_id, const std::string& conv) {
    caf::anon_send(ctx.router, msg::release_atom::value, agent_id, conv);
    run();
  }
  void pass(std::chrono::seconds d) {
    sched.advance_time(d);
    run();
  }
};

constexpr auto assigned = protocol::error_code::bad_frame; // what accept() returns on success

} // namespace

TEST_CASE("router offers in strict round-robin order", "[actors][router]") {
  router_fixture f;
  auto [a, ia] = f.peer();
  auto [b, ib] = f.peer();
  auto [c, ic] = f.peer();
  auto [s, is] = f.peer();
  f.agent_state("a", a, true);
  f.agent_state("b", b, true);
  f.agent_state("c", c, true);
  for (auto conv : {"c1", "c2", "c3", "c4"}) f.request(conv, s);
  CHECK(ia->offers == std::vector<std::string>{"c1", "c4"});
  CHECK(ib->offers == std::vector<std::string>{"c2"});
  CHECK(ic->offers == std::vector<std::string>{"c3"});
  CHECK(f.stats.offers_made == 4);
  CHECK(f.stats.pending_offers == 4);
}

TEST_CASE("the router counts seats itself: a report cannot overfill an agent", "[actors][router]") {
  router_fixture f;
  auto [a, ia] = f.peer();
  auto [s, is] = f.peer();
  f.agent_state("a", a, true, 1);
  f.request("c1", s);
  REQUIRE(f.accept("c1", "a") == assigned);
  CHECK(is->assigned == std::vector<std::string>{"a"});
  f.agent_state("a", a, true, 1); // a report, as after the accept: says nothing about seats
  f.request("c2", s);
  CHECK(ia->offers == std::vector<std::string>{"c1"}); // full: c2 waits
  CHECK(is->queued == std::vector<std::uint32_t>{1});
  f.release("a", "c1");
  CHECK(ia->offers == std::vector<std::string>{"c1", "c2"});
}

TEST_CASE("a decline goes to the next agent at once, alone, the decliner gets it back after the cool-down", "[actors][router]") {
  router_fixture f; // decline_cooldown 30 s
  auto [a, ia] = f.peer();
  auto [b, ib] = f.peer();
  auto [s, is] = f.peer();
  f.agent_state("a", a, true);
  f.agent_state("b", b, false);
  f.request("c1", s);
  REQUIRE(ia->offers == std::vector<std::string>{"c1"});
  f.decline("c1", "a");
  CHECK(ia->statuses.empty()); // not set away
  CHECK(ia->offers.size() == 1);
  f.pass(std::chrono::seconds{29});
  CHECK(ia->offers.size() == 1);
  f.pass(std::chrono::seconds{1});
  CHECK(ia->offers == std::vector<std::string>{"c1", "c1"});
  // b becomes available while a holds it again; a declines: b gets it at once.
  f.agent_state("b", b, true);
  f.decline("c1", "a");
  CHECK(ib->offers == std::vector<std::string>{"c1"});
}

TEST_CASE("an agent going away hands its pending offers on at once", "[actors][router]") {
  router_fixture f;
  auto [a, ia] = f.peer();
  auto [b, ib] = f.peer();
  auto [s, is] = f.peer();
  f.agent_state("a", a, true);
  f.request("c1", s);
  REQUIRE(ia->offers == std::vector<std::string>{"c1"});
  f.agent_state("a", a, false);
  CHECK(ia->withdrawn == std::vector<std::string>{"c1:agent_unavailable"});
  f.agent_state("b", b, true); // no 100 s wait
  CHECK(ib->offers == std::vector<std::string>{"c1"});
}

TEST_CASE("a missed offer is withdrawn, the agent set away, and the next tried", "[actors][router]") {
  router_fixture f; // offer_timeout 100 s
  auto [a, ia] = f.peer();
  auto [b, ib] = f.peer();
  auto [s, is] = f.peer();
  f.agent_state("a", a, true);
  f.agent_state("b", b, true);
  f.request("c1", s);
  REQUIRE(ia->offers == std::vector<std::string>{"c1"});
  f.pass(std::chrono::seconds{99});
  CHECK(ia->withdrawn.empty());
  f.pass(std::chrono::seconds{1});
  CHECK(ia->withdrawn == std::vector<std::string>{"c1:missed"});
  CHECK(ia->statuses == std::vector<std::string>{"away"});
  CHECK(ib->offers == std::vector<std::string>{"c1"});
  CHECK(f.stats.offers_missed == 1);
  f.pass(std::chrono::seconds{100});
  CHECK(ib->withdrawn == std::vector<std::string>{"c1:missed"});
  CHECK(is->queued == std::vector<std::uint32_t>{1}); // refused twice: the visitor hears it waits
  CHECK(f.stats.offers_missed == 2);
  CHECK(f.accept("c1", "b") == protocol::error_code::offer_expired); // too late
}

TEST_CASE("an accept past a lowered max_chats is refused and the chat offered elsewhere", "[actors][router]") {
  router_fixture f;
  auto [a, ia] = f.peer();
  auto [b, ib] = f.peer();
  auto [s, is] = f.peer();
  f.agent_state("a", a, true, 2);
  f.request("c1", s);
  REQUIRE(f.accept("c1", "a") == assigned);
  f.request("c2", s); // a's second seat
  REQUIRE(ia->offers.size() == 2);
  f.agent_state("a", a, true, 1);
  f.agent_state("b", b, true);
  CHECK(f.accept("c2", "a") == protocol::error_code::at_capacity);
  CHECK(ib->offers == std::vector<std::string>{"c2"});
}

TEST_CASE("a cancelled request leaves the queue and withdraws its offer", "[actors][router]") {
  router_fixture f;
  auto [a, ia] = f.peer();
  auto [s, is] = f.peer();
  f.agent_state("a", a, true, 1);
  f.request("c1", s);
  f.request("c2", s);
  caf::anon_send(f.ctx.router, msg::cancel_atom::value, std::string{"c1"});
  f.run();
  CHECK(ia->withdrawn == std::vector<std::string>{"c1:visitor_left"});
  CHECK(ia->offers == std::vector<std::string>{"c1", "c2"}); // the freed slot goes to c2
}

TEST_CASE("after a restart the line comes back from the store in request order, seats stay taken", "[actors][router]") {
  router_fixture f;
  auto [a, ia] = f.peer();
  auto [s, is] = f.peer();
  {
    auto txn = f.ctx.db->write();
    txn.put(store::table::agents, "a", store::encode(store::agent_record{"a", "a", "", "", 2, 1}));
    store::conversation_record live;
    live.id = "live";
    live.phase = store::conversation_phase::live;
    live.agent_id = "a";
    txn.put(store::table::conversations, "live", store::encode(live));
    txn.put(store::table::agent_chats, store::agent_chat_key("a", "live"), "");
    // A row left by a failed write: its conversation ended. It must not take a seat.
    store::conversation_record gone;
    gone.id = "gone";
    gone.phase = store::conversation_phase::ended;
    gone.agent_id = "a";
    txn.put(store::table::conversations, "gone", store::encode(gone));
    txn.put(store::table::agent_chats, store::agent_chat_key("a", "gone"), "");
    // Stored in the order visitors asked, not the order they will come back in.
    for (auto [conv, at] : {std::pair{"v3", 300}, std::pair{"v1", 100}, std::pair{"v2", 200}}) {
      store::conversation_record c;
      c.id = conv;
      c.phase = store::conversation_phase::waiting;
      c.requested_ms = at;
      txn.put(store::table::conversations, conv, store::encode(c));
      txn.put(store::table::waiting, store::waiting_key(at, conv), "");
    }
    txn.commit();
  }
  caf::anon_send_exit(f.ctx.router, caf::exit_reason::user_shutdown);
  f.run();
  f.ctx.router = spawn_router(f.sys, f.ctx);
  f.run();
  // The visitors resume in reverse order: the line does not follow them.
  for (auto conv : {"v3", "v2", "v1"}) f.request(conv, s);
  CHECK(is->queued.empty()); // no new "number N in line" for anyone
  f.agent_state("a", a, true, 2);
  CHECK(ia->offers == std::vector<std::string>{"v1"}); // one seat is the live chat's
  REQUIRE(f.accept("v1", "a") == assigned);
  f.release("a", "live");
  CHECK(ia->offers == std::vector<std::string>{"v1", "v2"});
  CHECK_FALSE(f.ctx.db->read().get(store::table::agent_chats, store::agent_chat_key("a", "gone"))); // and it was deleted
}

TEST_CASE("the round-robin cursor survives a restart of the router", "[actors][router]") {
  router_fixture f;
  auto [a, ia] = f.peer();
  auto [b, ib] = f.peer();
  auto [s, is] = f.peer();
  {
    auto txn = f.ctx.db->write();
    txn.put(store::table::agents, "a", store::encode(store::agent_record{"a", "a", "", "", 5, 1}));
    txn.put(store::table::agents, "b", store::encode(store::agent_record{"b", "b", "", "", 5, 2}));
    txn.commit();
  }
  auto restart = [&] {
    caf::anon_send_exit(f.ctx.router, caf::exit_reason::user_shutdown);
    f.run();
    f.ctx.router = spawn_router(f.sys, f.ctx);
    f.run();
    f.agent_state("a", a, true);
    f.agent_state("b", b, true);
  };
  restart();
  f.request("c1", s);
  CHECK(ia->offers == std::vector<std::string>{"c1"});
  restart();
  f.request("c2", s);
  CHECK(ib->offers == std::vector<std::string>{"c2"}); // a had the last one before the restart
}

TEST_CASE("a deleted agent is not brought back by a late state report", "[actors][router]") {
  router_fixture f;
  auto [a, ia] = f.peer();
  auto [s, is] = f.peer();
  f.agent_state("a", a, true);
  caf::anon_send(f.ctx.router, msg::aremoved_atom::value, std::string{"a"});
  f.run();
  f.agent_state("a", a, true); // sent before the removal, handled after it
  f.request("c1", s);
  CHECK(ia->offers.empty());
  CHECK(is->queued == std::vector<std::uint32_t>{1});
}
