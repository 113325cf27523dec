// The real router, directory, agents and visitor sessions on CAF's deterministic
// coordinator, run in random schedules: at each step either one actor handles its next
// message (chosen at random, so every interleaving the mailboxes allow can happen) or
// something arrives from outside (a visitor says hello or leaves, an agent accepts,
// declines, goes away or back, ends a chat, time passes). After every step the
// invariants hold: no agent above max_chats, no chat held by two agents; at the end
// nobody waits while an agent has room, and every stored row agrees.
#include "fixture.hpp"
#include "flaky_writer.hpp"
#include "recording_sink.hpp"

#include <map>
#include <set>

#include "actors/directory.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/store/tables.hpp"

using namespace dynchat;
using namespace dynchat::testing;

namespace {

struct agent_seat {
  std::string id;
  std::uint32_t max_chats;
  std::shared_ptr<recording_sink> sink;
  agent_actor actor;
  std::size_t seen = 0; // frames of its sink already looked at
  std::set<std::string> offers, chats;
  bool available = true;
};

struct visitor_seat {
  std::shared_ptr<recording_sink> sink;
  session_actor session;
  std::string conversation;
  bool attached = true;
};

struct schedule_fixture : actor_fixture {
  std::mt19937 rng;
  std::vector<agent_seat> agents;
  std::vector<visitor_seat> visitors;
  std::uint64_t next_conn = 100;
  std::shared_ptr<int> failures = std::make_shared<int>(0); // write requests still to fail
  bool flaky = false;

  // flaky: every write goes through a writer that fails when the schedule says so.
  explicit schedule_fixture(unsigned seed, bool flaky_store = false) : rng(seed), flaky(flaky_store) {
    config.chat.decline_cooldown = std::chrono::seconds{30};
    config.chat.visitor_grace = std::chrono::seconds{120};
    config.chat.new_conversations_burst = 1e9;
    // Agents in the store, with tokens, before the router reads its order.
    auto txn = ctx.db->write();
    for (int i = 0; i < 3; ++i) {
      store::agent_record a{new_id(), "agent" + std::to_string(i), "", sha256_hex("token" + std::to_string(i)),
                            static_cast<std::uint32_t>(1 + i), i};
      txn.put(store::table::agents, a.id, store::encode(a));
      txn.put(store::table::agent_tokens, a.token_hash, a.id);
      agents.push_back({a.id, a.max_chats, std::make_shared<recording_sink>(ctx.db, next_conn++), {}, 0, {}, {}});
    }
    txn.commit();
    if (flaky) {
      own(ctx.writer);
      ctx.writer = caf::actor_cast<store_writer_actor>(sys.spawn(flaky_writer, ctx.writer, failures));
    }
    ctx.router = spawn_router(sys, ctx);
    ctx.directory = spawn_directory(sys, ctx);
    run();
    for (std::size_t i = 0; i < agents.size(); ++i) {
      auto& a = agents[i];
      msg::agent_bind bind{[this, i](agent_actor actor) { agents[i].actor = actor; }};
      caf::anon_send(ctx.directory, msg::ahello_atom::value, protocol::agent_hello{"token" + std::to_string(i), {}},
                     net::sink_ptr{a.sink}, bind);
      run();
      REQUIRE(a.actor);
      caf::anon_send(a.actor, msg::status_atom::value, std::string{"available"});
      own(a.actor);
    }
    run();
  }

  // One actor takes its next message; which one is the schedule's choice.
  bool step_one_actor() {
    if (sched.jobs.empty()) return false;
    std::swap(sched.jobs.front(), sched.jobs[rng() % sched.jobs.size()]);
    sched.run_once();
    return true;
  }

  void arrive() {
    visitors.push_back({std::make_shared<recording_sink>(ctx.db, next_conn++), {}, {}, true});
    const auto i = visitors.size() - 1;
    protocol::visitor_hello hello;
    hello.page_url = "https://example.com/" + std::to_string(i);
    msg::visitor_bind bind{[this, i](session_actor s) {
      visitors[i].session = s;
      own(s); // exited with the fixture, whatever the test did
    }};
    caf::anon_send(ctx.directory, msg::vhello_atom::value, hello, net::sink_ptr{visitors[i].sink}, bind);
  }

  // What each agent's socket showed since the last look: offers, chats, their ends.
  void read_agent_frames() {
    for (auto& a : agents) {
      for (; a.seen < a.sink->frames.size(); ++a.seen) {
        const auto& f = a.sink->frames[a.seen];
        const auto type = f["type"].get<std::string>();
        if (type == "offer") a.offers.insert(f["conversation_id"]);
        else if (type == "offer_withdrawn") a.offers.erase(f["conversation_id"]);
        else if (type == "chat") {
          a.offers.erase(f["conversation_id"]);
          a.chats.insert(f["conversation_id"]);
        } else if (type == "ended") a.chats.erase(f["conversation_id"]);
        else if (type == "status") a.available = f["status"] == "available";
      }
    }
  }

  template <class Set>
  std::string any_of(const Set& s) {
    auto it = s.begin();
    std::advance(it, static_cast<long>(rng() % s.size()));
    return *it;
  }

  void inject() {
    auto& a = agents[rng() % agents.size()];
    const auto conn = a.sink->id();
    switch (rng() % 9) {
      case 0:
      case 1: arrive(); break;
      case 2:
        if (!a.offers.empty()) caf::anon_send(a.actor, msg::accept_atom::value, conn, any_of(a.offers));
        break;
      case 3:
        if (!a.offers.empty()) caf::anon_send(a.actor, msg::decline_atom::value, conn, any_of(a.offers));
        break;
      case 4:
        if (!a.chats.empty()) caf::anon_send(a.actor, msg::end_atom::value, conn, any_of(a.chats));
        break;
      case 5:
        caf::anon_send(a.actor, msg::status_atom::value, std::string{rng() % 2 ? "available" : "away"});
        break;
      case 6: {
        std::vector<std::size_t> attached;
        for (std::size_t i = 0; i < visitors.size(); ++i)
          if (visitors[i].attached && visitors[i].session) attached.push_back(i);
        if (attached.empty()) break;
        auto& v = visitors[attached[rng() % attached.size()]];
        v.attached = false;
        caf::anon_send(v.session, msg::detach_atom::value, v.sink->id(), false);
        break;
      }
      case 7:
        if (flaky && rng() % 2) *failures = static_cast<int>(1 + rng() % 3); // the disk fills for a moment
        else sched.advance_time(std::chrono::seconds{rng() % 50});
        break;
      default: // an agent accepts everything it sees
        for (auto& c : a.offers) caf::anon_send(a.actor, msg::accept_atom::value, conn, c);
    }
  }

  void check_invariants() {
    read_agent_frames();
    std::map<std::string, int> holders;
    for (auto& a : agents) {
      INFO("agent " << a.id << " holds " << a.chats.size() << " of " << a.max_chats);
      REQUIRE(a.chats.size() <= a.max_chats);
      for (auto& c : a.chats) holders[c]++;
    }
    for (auto& [conv, n] : holders) {
      INFO("conversation " << conv);
      REQUIRE(n == 1);
    }
  }
};

} // namespace

TEST_CASE("random schedules of the live-chat actors keep capacity, exclusivity and the line", "[actors][schedule]") {
  const auto seed = GENERATE(take(25, random(1u, 1000000u)));
  // With a flaky store, batches fail now and then: retried, refused, never half applied.
  const bool flaky = GENERATE(false, true);
  INFO("seed " << seed << (flaky ? ", flaky store" : ""));
  schedule_fixture f{seed, flaky};
  for (int step = 0; step < 1500; ++step) {
    if (f.rng() % 4 == 0 || !f.step_one_actor()) f.inject();
    f.check_invariants();
  }
  // Quiesce: the store works again, everyone is back and taking what comes; cool-downs,
  // offers and write back-offs run out.
  *f.failures = 0;
  for (int round = 0; round < 30; ++round) {
    for (auto& a : f.agents) {
      caf::anon_send(a.actor, msg::status_atom::value, std::string{"available"});
      f.read_agent_frames();
      for (auto& c : a.offers) caf::anon_send(a.actor, msg::accept_atom::value, a.sink->id(), c);
    }
    for (int guard = 0; f.step_one_actor(); ++guard) {
      f.check_invariants();
      if (guard > 200000) {
        std::map<std::string, int> names;
        for (auto* j : f.sched.jobs) names[dynamic_cast<caf::abstract_actor*>(j) ? dynamic_cast<caf::local_actor*>(j)->name() : "?"]++;
        for (auto& [n, c] : names) WARN("busy: " << n << " x" << c);
        FAIL("no quiescence");
      }
    }
    f.sched.advance_time(std::chrono::seconds{10});
    f.run();
    f.check_invariants();
  }
  // Nobody waits while an agent has room; each live chat is held by its agent in the store too.
  auto txn = f.ctx.db->read();
  std::size_t free_seats = 0;
  for (auto& a : f.agents) free_seats += a.max_chats - a.chats.size();
  std::size_t waiting = 0;
  for (auto& v : f.visitors) {
    if (!v.session) continue;
    auto conv = store::load_conversation(txn, v.sink->of_type("welcome").at(0)["conversation_id"].get<std::string>());
    REQUIRE(conv);
    INFO("conversation " << conv->id << " " << store::to_string(conv->phase));
    if (conv->phase == store::conversation_phase::waiting) ++waiting;
    if (conv->phase == store::conversation_phase::live) {
      int held = 0;
      for (auto& a : f.agents) held += a.chats.count(conv->id) ? 1 : 0;
      CHECK(held == 1);
      CHECK(txn.get(store::table::agent_chats, store::agent_chat_key(conv->agent_id, conv->id)));
    }
    const bool open = conv->phase == store::conversation_phase::waiting || conv->phase == store::conversation_phase::live;
    CHECK(txn.get(store::table::open_conversations, conv->id).has_value() == open);
    CHECK(txn.get(store::table::waiting, store::waiting_key(conv->requested_ms, conv->id)).has_value() ==
          (conv->phase == store::conversation_phase::waiting));
  }
  if (waiting > 0 && free_seats != 0) {
    caf::scoped_actor self{f.sys};
    self->send(f.ctx.router, msg::snapshot_atom::value);
    f.run();
    self->receive([&](const std::string& snapshot) { WARN("router: " << snapshot); });
    for (auto& a : f.agents) WARN("agent " << a.id << " chats " << a.chats.size() << "/" << a.max_chats << " offers " << a.offers.size());
  }
  if (waiting > 0) CHECK(free_seats == 0);
}

TEST_CASE("after a restart the line is served in request order, whatever order visitors come back in",
          "[actors][schedule]") {
  const auto seed = GENERATE(take(10, random(1u, 1000000u)));
  // Without recovery the router alone restores the line, and each session is re-created
  // only when its chat is accepted (the directory looks it up from the store).
  const bool recover = GENERATE(true, false);
  INFO("seed " << seed << (recover ? ", sessions recovered at start" : ", sessions made on accept"));
  schedule_fixture f{seed};
  for (auto& a : f.agents) caf::anon_send(a.actor, msg::status_atom::value, std::string{"away"});
  f.run();
  for (int i = 0; i < 12; ++i) {
    f.arrive();
    f.run();
  }
  std::vector<std::string> order;
  for (auto& v : f.visitors) order.push_back(v.sink->of_type("welcome").at(0)["conversation_id"]);
  // The process dies: every actor gone, only the store remains.
  for (auto& a : f.agents) caf::anon_send_exit(a.actor, caf::exit_reason::kill);
  for (auto& v : f.visitors) caf::anon_send_exit(v.session, caf::exit_reason::kill);
  caf::anon_send_exit(f.ctx.router, caf::exit_reason::kill);
  caf::anon_send_exit(f.ctx.directory, caf::exit_reason::kill);
  f.run();
  f.ctx.router = spawn_router(f.sys, f.ctx);
  f.ctx.directory = spawn_directory(f.sys, f.ctx);
  f.run();
  if (recover) caf::anon_send(f.ctx.directory, msg::recover_atom::value);
  while (f.step_one_actor()) {}
  // One agent with room for everyone comes back and takes what it is offered, in order.
  store::agent_record big{new_id(), "big", "", sha256_hex("big"), 10, 99};
  {
    auto txn = f.ctx.db->write();
    txn.put(store::table::agents, big.id, store::encode(big));
    txn.put(store::table::agent_tokens, big.token_hash, big.id);
    txn.commit();
  }
  caf::anon_send(f.ctx.directory, msg::aadded_atom::value, big);
  auto sink = std::make_shared<recording_sink>(f.ctx.db, 999);
  agent_actor agent;
  caf::anon_send(f.ctx.directory, msg::ahello_atom::value, protocol::agent_hello{"big", {}}, net::sink_ptr{sink},
                 msg::agent_bind{[&](agent_actor a) { agent = a; }});
  while (f.step_one_actor()) {}
  REQUIRE(agent);
  f.own(agent);
  caf::anon_send(agent, msg::status_atom::value, std::string{"available"});
  while (f.step_one_actor()) {}
  std::vector<std::string> offered;
  for (auto& o : sink->of_type("offer")) offered.push_back(o["conversation_id"]);
  std::vector<std::string> first_ten{order.begin(), order.begin() + 10};
  CHECK(offered == first_ten);
  // Every accept gets its chat, the session found or made from the store.
  for (auto& id : offered) caf::anon_send(agent, msg::accept_atom::value, std::uint64_t{999}, id);
  while (f.step_one_actor()) {}
  std::set<std::string> chats;
  for (auto& c : sink->of_type("chat")) chats.insert(c["conversation_id"].get<std::string>());
  CHECK(chats == std::set<std::string>{first_ten.begin(), first_ten.end()});
  for (auto& e : sink->of_type("error")) FAIL_CHECK("error frame: " << e.dump());
  // Nobody was told their place again.
  auto txn = f.ctx.db->read();
  for (auto& id : order) {
    int notices = 0;
    for (auto& [seq, m] : store::load_messages(txn, id, 0, 100)) notices += m.text.find("in line") != std::string::npos;
    CHECK(notices == 1);
  }
}
