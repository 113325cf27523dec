#include "fixture.hpp"

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
    [=](msg::assign_atom, caf::actor, std::string agent_id, std::string) { in->assigned.push_back(agent_id); },
  };
}

struct router_fixture : actor_fixture {
  router_fixture() { ctx.router = spawn_router(sys, ctx); run(); }

  std::pair<caf::actor, std::shared_ptr<inbox>> peer() {
    auto in = std::make_shared<inbox>();
    return {sys.spawn(fake_peer, in), in};
  }
  void agent_state(const std::string& id, const caf::actor& handle, bool available, std::uint32_t active,
                   std::uint32_t max_chats = 5) {
    caf::anon_send(ctx.router, msg::aupdate_atom::value, msg::agent_state_report{id, id, handle, available, active, max_chats});
    run();
  }
  void request(const std::string& conv, const caf::actor& session, std::int64_t at = 0) {
    msg::chat_request r{conv, session, {}, {}, at};
    caf::anon_send(ctx.router, msg::request_atom::value, std::move(r));
    run();
  }
  void accept(const std::string& conv, const std::string& agent_id) {
    caf::anon_send(ctx.router, msg::accept_atom::value, conv, agent_id);
    run();
  }
  // A fresh router (as after a process restart) that the two agents report to again.
  void restart_with(const caf::actor& a, const caf::actor& b) {
    caf::anon_send_exit(ctx.router, caf::exit_reason::user_shutdown);
    run();
    ctx.router = spawn_router(sys, ctx);
    run();
    agent_state("a", a, true, 0);
    agent_state("b", b, true, 0);
  }
  void pass(std::chrono::seconds d) {
    sched.advance_time(d);
    run();
  }
};

} // namespace

TEST_CASE("router offers in strict round-robin order", "[actors][router]") {
  router_fixture f;
  auto [a, ia] = f.peer();
  auto [b, ib] = f.peer();
  auto [c, ic] = f.peer();
  auto [s, is] = f.peer();
  f.agent_state("a", a, true, 0);
  f.agent_state("b", b, true, 0);
  f.agent_state("c", c, true, 0);
  for (auto conv : {"c1", "c2", "c3", "c4"}) f.request(conv, s);
  CHECK(ia->offers == std::vector<std::string>{"c1", "c4"});
  CHECK(ib->offers == std::vector<std::string>{"c2"});
  CHECK(ic->offers == std::vector<std::string>{"c3"});
  CHECK(f.stats.offers_made == 4);
  CHECK(f.stats.pending_offers == 4);
}

TEST_CASE("router skips agents at capacity or not available", "[actors][router]") {
  router_fixture f;
  auto [a, ia] = f.peer();
  auto [b, ib] = f.peer();
  auto [s, is] = f.peer();
  f.agent_state("a", a, true, 0, 1);
  f.agent_state("b", b, false, 0);
  f.request("c1", s);
  f.accept("c1", "a");
  CHECK(is->assigned == std::vector<std::string>{"a"});
  f.request("c2", s); // a is full (1 of 1), b is away
  CHECK(ia->offers.size() == 1);
  CHECK(ib->offers.empty());
  CHECK(is->queued == std::vector<std::uint32_t>{1});
  f.agent_state("b", b, true, 0); // b comes back: the queue drains to b
  CHECK(ib->offers == std::vector<std::string>{"c2"});
  CHECK(f.stats.queued_conversations == 0);
}

TEST_CASE("the queue is FIFO and freed capacity goes to the oldest", "[actors][router]") {
  router_fixture f;
  auto [a, ia] = f.peer();
  auto [s, is] = f.peer();
  f.request("old", s, 100);
  f.request("new", s, 200);
  CHECK(is->queued == std::vector<std::uint32_t>{1, 2});
  f.agent_state("a", a, true, 0, 1);
  CHECK(ia->offers == std::vector<std::string>{"old"});
  f.accept("old", "a");
  f.agent_state("a", a, true, 1, 1);
  CHECK(ia->offers.size() == 1); // full: "new" waits
  caf::anon_send(f.ctx.router, msg::release_atom::value, std::string{"a"}, std::string{"old"});
  f.run();
  f.agent_state("a", a, true, 0, 1);
  CHECK(ia->offers == std::vector<std::string>{"old", "new"});
}

TEST_CASE("a missed offer goes to the next agent, then back to the queue", "[actors][router]") {
  router_fixture f; // offer_timeout 100 s, 2 attempts
  auto [a, ia] = f.peer();
  auto [b, ib] = f.peer();
  auto [s, is] = f.peer();
  f.agent_state("a", a, true, 0);
  f.agent_state("b", b, true, 0);
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
  CHECK(is->queued == std::vector<std::uint32_t>{1}); // both tried: it waits
  CHECK(f.stats.offers_missed == 2);
  // An accept that comes too late is refused.
  caf::scoped_actor self{f.sys};
  bool refused = false;
  self->send(f.ctx.router, msg::accept_atom::value, std::string{"c1"}, std::string{"b"});
  f.run();
  self->receive([&](caf::actor) {}, [&](caf::error& e) { refused = from_caf_error(e) == protocol::error_code::offer_expired; });
  CHECK(refused);
}

TEST_CASE("a cancelled request leaves the queue and withdraws its offer", "[actors][router]") {
  router_fixture f;
  auto [a, ia] = f.peer();
  auto [s, is] = f.peer();
  f.agent_state("a", a, true, 0, 1);
  f.request("c1", s);
  f.request("c2", s);
  caf::anon_send(f.ctx.router, msg::cancel_atom::value, std::string{"c1"});
  f.run();
  CHECK(ia->withdrawn == std::vector<std::string>{"c1:visitor_left"});
  CHECK(ia->offers == std::vector<std::string>{"c1", "c2"}); // the freed slot goes to c2
}

TEST_CASE("the round-robin cursor survives a restart of the router", "[actors][router]") {
  router_fixture f;
  auto [a, ia] = f.peer();
  auto [b, ib] = f.peer();
  auto [s, is] = f.peer();
  // Agents must exist in the store for a restarted router to know the order.
  {
    auto txn = f.ctx.db->write();
    txn.put(store::table::agents, "a", store::encode(store::agent_record{"a", "a", "", "", 5, 1}));
    txn.put(store::table::agents, "b", store::encode(store::agent_record{"b", "b", "", "", 5, 2}));
    txn.commit();
  }
  f.restart_with(a, b);
  f.request("c1", s);
  CHECK(ia->offers == std::vector<std::string>{"c1"});
  f.restart_with(a, b);
  f.request("c2", s);
  CHECK(ib->offers == std::vector<std::string>{"c2"}); // a had the last one before the restart
}

TEST_CASE("a deleted agent is not brought back by a late state report", "[actors][router]") {
  router_fixture f;
  auto [a, ia] = f.peer();
  auto [s, is] = f.peer();
  f.agent_state("a", a, true, 0);
  caf::anon_send(f.ctx.router, msg::aremoved_atom::value, std::string{"a"});
  f.run();
  f.agent_state("a", a, true, 0); // sent before the removal, handled after it
  f.request("c1", s);
  CHECK(ia->offers.empty());
  CHECK(is->queued == std::vector<std::uint32_t>{1});
}
