#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "dynchat/routing/dispatcher.hpp"

using namespace dynchat::routing;

namespace {

constexpr std::int64_t second = 1000;

dispatch_settings defaults() { return dispatch_settings{100 * second, 30 * second, 2, true}; }

std::vector<offer_made> offers_in(const effects& fx) {
  std::vector<offer_made> out;
  for (auto& e : fx)
    if (auto* o = std::get_if<offer_made>(&e)) out.push_back(*o);
  return out;
}

std::vector<std::string> offered_agents(const effects& fx) {
  std::vector<std::string> out;
  for (auto& o : offers_in(fx)) out.push_back(o.agent_id);
  return out;
}

template <class T>
std::vector<T> of(const effects& fx) {
  std::vector<T> out;
  for (auto& e : fx)
    if (auto* x = std::get_if<T>(&e)) out.push_back(*x);
  return out;
}

// Agents a1..aN, all available, each with room for `max_chats`.
dispatcher with_agents(int n, std::uint32_t max_chats = 5, dispatch_settings s = defaults()) {
  dispatcher d{s};
  for (int i = 1; i <= n; ++i) {
    d.add_agent("a" + std::to_string(i), max_chats, 0);
    d.update_agent("a" + std::to_string(i), true, max_chats, 0);
  }
  return d;
}

const dispatcher::agent_view& view(const dispatcher& d, const std::string& id) {
  static std::vector<dispatcher::agent_view> views;
  views = d.agents();
  for (auto& v : views)
    if (v.id == id) return v;
  FAIL("no agent " << id);
  return views.front();
}

} // namespace

TEST_CASE("offers go in strict round-robin order, wrapping", "[routing][dispatcher]") {
  auto d = with_agents(3);
  std::vector<std::string> got;
  for (int i = 0; i < 5; ++i) {
    auto fx = d.request("c" + std::to_string(i), i, i);
    auto o = offered_agents(fx);
    REQUIRE(o.size() == 1);
    got.push_back(o[0]);
  }
  CHECK(got == std::vector<std::string>{"a1", "a2", "a3", "a1", "a2"});
  CHECK(d.cursor() == "a2");
}

TEST_CASE("unavailable agents and agents at capacity are skipped", "[routing][dispatcher]") {
  auto d = with_agents(3, 1);
  d.update_agent("a2", false, 1, 0);
  CHECK(offered_agents(d.request("c1", 1, 1)) == std::vector<std::string>{"a1"});
  CHECK(offered_agents(d.request("c2", 2, 2)) == std::vector<std::string>{"a3"});
  // a1 and a3 each hold a pending offer: that fills their one seat.
  auto fx = d.request("c3", 3, 3);
  CHECK(offers_in(fx).empty());
  REQUIRE(of<queued>(fx).size() == 1);
  CHECK(of<queued>(fx)[0].position == 1);
}

TEST_CASE("pending offers count against capacity: an instant accepter never exceeds max_chats", "[routing][dispatcher]") {
  auto d = with_agents(1, 2);
  int assigned = 0;
  for (int i = 0; i < 100; ++i) {
    auto fx = d.request("c" + std::to_string(i), i, i);
    for (auto& o : offers_in(fx)) {
      auto r = d.accept(o.conversation_id, o.agent_id, i);
      if (r.outcome == accept_outcome::assigned) ++assigned;
    }
  }
  CHECK(assigned == 2);
  CHECK(view(d, "a1").chats == 2);
  CHECK(d.waiting() == 98);
}

TEST_CASE("a decline passes the chat to the next agent at once and does not set the decliner away", "[routing][dispatcher]") {
  auto d = with_agents(2);
  auto first = offers_in(d.request("c1", 0, 0));
  REQUIRE(first.size() == 1);
  CHECK(first[0].agent_id == "a1");
  auto fx = d.decline("c1", "a1", 5 * second);
  CHECK(offered_agents(fx) == std::vector<std::string>{"a2"});
  CHECK(of<set_away>(fx).empty());
  CHECK(view(d, "a1").available);
  CHECK(view(d, "a1").offers == 0);
}

TEST_CASE("with nobody else the decliner gets the chat again only after the cool-down", "[routing][dispatcher]") {
  auto d = with_agents(1);
  REQUIRE(offered_agents(d.request("c1", 0, 0)) == std::vector<std::string>{"a1"});
  auto fx = d.decline("c1", "a1", 1 * second);
  CHECK(offers_in(fx).empty());
  CHECK(d.is_waiting("c1"));
  // A later visitor is not stuck behind it: the agent, free, gets the next one.
  auto later = d.request("c2", 2 * second, 2 * second);
  CHECK(offered_agents(later) == std::vector<std::string>{"a1"});
  d.accept("c2", "a1", 3 * second);
  REQUIRE(d.next_wake(3 * second) == 31 * second);
  CHECK(offers_in(d.drain(30 * second)).empty()); // still cooling
  auto again = d.drain(31 * second);
  CHECK(offered_agents(again) == std::vector<std::string>{"a1"});
  CHECK(offers_in(again)[0].conversation_id == "c1");
}

TEST_CASE("going away withdraws pending offers at once and routes them to whoever has room", "[routing][dispatcher]") {
  auto d = with_agents(1);
  d.add_agent("a2", 5, 0); // not available yet
  REQUIRE(offered_agents(d.request("c1", 0, 0)) == std::vector<std::string>{"a1"});
  auto fx = d.update_agent("a1", false, 5, 1 * second);
  auto withdrawn = of<offer_withdrawn>(fx);
  REQUIRE(withdrawn.size() == 1);
  CHECK(withdrawn[0].reason == "agent_unavailable");
  CHECK(d.is_waiting("c1"));
  CHECK(offered_agents(d.update_agent("a2", true, 5, 2 * second)) == std::vector<std::string>{"a2"});
}

TEST_CASE("a missed offer sets the agent away, withdraws its other offers and tries the next", "[routing][dispatcher]") {
  auto d = with_agents(2);
  auto o1 = offers_in(d.request("c1", 0, 0));
  auto o2 = offers_in(d.request("c2", 1, 1));
  auto o3 = offers_in(d.request("c3", 2, 2)); // back to a1
  REQUIRE(o3.size() == 1);
  REQUIRE(o3[0].agent_id == "a1");
  auto fx = d.offer_expired("c1", o1[0].offer_id, 100 * second);
  CHECK(of<set_away>(fx).size() == 1);
  auto withdrawn = of<offer_withdrawn>(fx);
  REQUIRE(withdrawn.size() == 2);
  CHECK(withdrawn[0].reason == "missed");
  CHECK(withdrawn[1].reason == "agent_unavailable");
  CHECK(offered_agents(fx) == std::vector<std::string>{"a2", "a2"});
  CHECK_FALSE(view(d, "a1").available);
  // A stale timeout (of an offer already gone) changes nothing.
  CHECK(d.offer_expired("c1", o1[0].offer_id, 200 * second).empty());
}

TEST_CASE("refused max_attempts times in a row, the visitor hears it waits", "[routing][dispatcher]") {
  auto d = with_agents(3);
  d.request("c1", 0, 0);
  auto first = d.decline("c1", "a1", 1 * second);
  CHECK(of<queued>(first).empty()); // passed straight on to a2
  auto second_refusal = d.decline("c1", "a2", 2 * second);
  auto told = of<queued>(second_refusal);
  REQUIRE(told.size() == 1);
  CHECK(told[0].position == 1);
  CHECK(offered_agents(second_refusal) == std::vector<std::string>{"a3"}); // and is still offered on
}

TEST_CASE("an accept that would exceed a lowered max_chats is refused and the chat re-routed", "[routing][dispatcher]") {
  auto d = with_agents(2, 2);
  d.request("c1", 0, 0);
  d.accept("c1", "a1", 0);
  d.request("c2", 1, 1); // a2
  d.request("c3", 2, 2); // a1 again, its second seat
  d.update_agent("a1", true, 1, 3);
  auto r = d.accept("c3", "a1", 4);
  CHECK(r.outcome == accept_outcome::at_capacity);
  CHECK(offered_agents(r.follow_up) == std::vector<std::string>{"a2"});
  CHECK(view(d, "a1").chats == 1);
}

TEST_CASE("the line is first come, first served by request time", "[routing][dispatcher]") {
  auto d = with_agents(0);
  d.add_agent("a1", 1, 0);
  auto q2 = of<queued>(d.request("second", 200, 200));
  auto q1 = of<queued>(d.request("first", 100, 300)); // asked earlier (returning after a restart)
  REQUIRE(q2.size() == 1);
  REQUIRE(q1.size() == 1);
  CHECK(q1[0].position == 1);
  CHECK(d.line() == std::vector<std::string>{"first", "second"});
  auto fx = d.update_agent("a1", true, 1, 400);
  REQUIRE(offers_in(fx).size() == 1);
  CHECK(offers_in(fx)[0].conversation_id == "first");
  d.accept("first", "a1", 500);
  auto freed = d.release("first", "a1", 600);
  REQUIRE(offers_in(freed).size() == 1);
  CHECK(offers_in(freed)[0].conversation_id == "second");
}

TEST_CASE("a cancelled conversation leaves the line and its offer is withdrawn", "[routing][dispatcher]") {
  auto d = with_agents(1, 1);
  d.request("c1", 0, 0);
  d.request("c2", 1, 1);
  auto fx = d.cancel("c1", 2);
  REQUIRE(of<offer_withdrawn>(fx).size() == 1);
  CHECK(of<offer_withdrawn>(fx)[0].reason == "visitor_left");
  REQUIRE(offers_in(fx).size() == 1); // the freed seat goes to c2
  CHECK(offers_in(fx)[0].conversation_id == "c2");
  CHECK(d.waiting() == 0);
}

TEST_CASE("restored waiting conversations keep their stored order, restored chats fill seats", "[routing][dispatcher]") {
  dispatcher d{defaults()};
  d.add_agent("a1", 2, 0);
  d.restore_chat("live", "a1");
  d.restore_waiting("w3", 300);
  d.restore_waiting("w1", 100);
  d.restore_waiting("w2", 200);
  CHECK(d.line() == std::vector<std::string>{"w1", "w2", "w3"});
  auto fx = d.update_agent("a1", true, 2, 1000);
  REQUIRE(offers_in(fx).size() == 1); // one seat left
  CHECK(offers_in(fx)[0].conversation_id == "w1");
}

TEST_CASE("a removed agent's offers go to others", "[routing][dispatcher]") {
  auto d = with_agents(2);
  d.request("c1", 0, 0);
  auto fx = d.remove_agent("a1", 1);
  CHECK(of<offer_withdrawn>(fx).at(0).reason == "agent_removed");
  CHECK(offered_agents(fx) == std::vector<std::string>{"a2"});
  CHECK(d.agents().size() == 1);
}

// Random interleavings of everything that can happen, checked after every step against
// the rules: no agent above max_chats, no conversation lost, none offered to two agents,
// and nobody left waiting while an agent with room could take them.
// Half the requests name preferred agents (some unknown, some repeated): offers to them
// keep every invariant below, like round robin's.
TEST_CASE("random interleavings keep the routing invariants", "[routing][dispatcher][property]") {
  const auto seed = GENERATE(take(40, random(1u, 1000000u)));
  INFO("seed " << seed);
  std::mt19937 rng{seed};
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>{0, n - 1}(rng); };
  dispatch_settings s{100 * second, 30 * second, 2, pick(2) == 0};
  dispatcher d{s};
  const int agents = 1 + static_cast<int>(pick(4));
  std::map<std::string, std::uint32_t> max_chats;
  std::map<std::string, bool> available;
  for (int i = 1; i <= agents; ++i) {
    const auto id = "a" + std::to_string(i);
    max_chats[id] = 1 + static_cast<std::uint32_t>(pick(3));
    available[id] = false;
    d.add_agent(id, max_chats[id], 0);
  }

  // The model: what the effects said.
  std::map<std::string, offer_made> open_offers;                    // conversation -> its live offer
  std::map<std::string, std::string> assigned;                       // conversation -> agent
  std::set<std::string> known, gone;                                 // requested; cancelled or ended
  std::map<std::string, std::map<std::string, std::int64_t>> refused; // conv -> agent -> cool-down end
  std::map<std::string, std::size_t> grandfathered; // chats open when max_chats was lowered under them
  std::set<std::string> offered_this_step;
  std::int64_t now = 0;
  int next_conv = 0;

  auto apply = [&](const effects& fx) {
    for (auto& e : fx) {
      if (auto* o = std::get_if<offer_made>(&e)) {
        INFO("offer of " << o->conversation_id << " to " << o->agent_id);
        REQUIRE(open_offers.count(o->conversation_id) == 0); // never offered to two agents at once
        REQUIRE(assigned.count(o->conversation_id) == 0);
        REQUIRE(available[o->agent_id]);
        auto it = refused[o->conversation_id].find(o->agent_id);
        REQUIRE((it == refused[o->conversation_id].end() || it->second <= now));
        open_offers[o->conversation_id] = *o;
        offered_this_step.insert(o->agent_id);
      } else if (auto* w = std::get_if<offer_withdrawn>(&e)) {
        REQUIRE(open_offers.count(w->conversation_id));
        REQUIRE(open_offers[w->conversation_id].agent_id == w->agent_id);
        if (w->reason == "missed") refused[w->conversation_id][w->agent_id] = now + s.refusal_cooldown_ms;
        open_offers.erase(w->conversation_id);
      } else if (auto* a = std::get_if<set_away>(&e)) {
        available[a->agent_id] = false;
      }
    }
  };
  auto random_key = [&](const auto& m) {
    auto it = m.begin();
    std::advance(it, static_cast<long>(pick(m.size())));
    return it->first;
  };

  for (int step = 0; step < 400; ++step) {
    offered_this_step.clear();
    const auto op = pick(9);
    if (op == 0 || op == 1) { // a visitor asks, half of them preferring agents (its account's, its rule's)
      const auto conv = "c" + std::to_string(next_conv++);
      known.insert(conv);
      std::vector<std::string> preferred;
      if (pick(2) == 0)
        for (auto n = pick(3) + 1; n > 0; --n) preferred.push_back("a" + std::to_string(1 + pick(5))); // a5: no such agent
      apply(d.request(conv, now, now, preferred));
      if (!open_offers.count(conv) && pick(4) == 0) // asks again while routed: only its preference changes
        apply(d.request(conv, now, now, {"a" + std::to_string(1 + pick(agents))}));
    } else if (op == 2 && !open_offers.empty()) { // an agent accepts
      const auto conv = random_key(open_offers);
      const auto agent = open_offers[conv].agent_id;
      auto r = d.accept(conv, agent, now);
      REQUIRE(r.outcome != accept_outcome::no_offer);
      if (r.outcome == accept_outcome::assigned) {
        open_offers.erase(conv);
        assigned[conv] = agent;
      } else {
        open_offers.erase(conv); // refused: re-routed within follow_up
      }
      apply(r.follow_up);
    } else if (op == 3 && !open_offers.empty()) { // an agent declines
      const auto conv = random_key(open_offers);
      const auto agent = open_offers[conv].agent_id;
      open_offers.erase(conv);
      refused[conv][agent] = now + s.refusal_cooldown_ms;
      apply(d.decline(conv, agent, now));
    } else if (op == 4 && !open_offers.empty()) { // an offer times out
      const auto conv = random_key(open_offers);
      apply(d.offer_expired(conv, open_offers[conv].offer_id, now));
    } else if (op == 5 && !assigned.empty()) { // a chat ends
      const auto conv = random_key(assigned);
      const auto agent = assigned[conv];
      assigned.erase(conv);
      gone.insert(conv);
      apply(d.release(conv, agent, now));
    } else if (op == 6) { // an agent changes status or capacity
      const auto agent = "a" + std::to_string(1 + pick(static_cast<std::size_t>(agents)));
      available[agent] = pick(3) != 0;
      if (pick(4) == 0) {
        max_chats[agent] = 1 + static_cast<std::uint32_t>(pick(3));
        for (auto& v : d.agents())
          if (v.id == agent && v.chats > max_chats[agent]) grandfathered[agent] = v.chats;
      }
      apply(d.update_agent(agent, available[agent], max_chats[agent], now));
    } else if (op == 7) { // a waiting visitor leaves
      std::vector<std::string> candidates;
      for (auto& c : known)
        if (!gone.count(c) && !assigned.count(c)) candidates.push_back(c);
      if (!candidates.empty()) {
        const auto conv = candidates[pick(candidates.size())];
        gone.insert(conv);
        auto fx = d.cancel(conv, now);
        open_offers.erase(conv);
        for (auto& e : fx)
          if (std::holds_alternative<offer_withdrawn>(e)) continue;
          else apply({e});
      }
    } else { // time passes; the router's timer fires at the earliest cool-down's end
      const auto wake = d.next_wake(now);
      now += static_cast<std::int64_t>(pick(40)) * second;
      if (wake && *wake <= now) apply(d.drain(now));
    }

    // Invariants after every step.
    std::map<std::string, std::size_t> chats_of, offers_of;
    for (auto& [conv, agent] : assigned) chats_of[agent]++;
    for (auto& [conv, o] : open_offers) offers_of[o.agent_id]++;
    for (auto& v : d.agents()) {
      INFO("agent " << v.id);
      CHECK(v.chats == chats_of[v.id]);
      CHECK(v.offers == offers_of[v.id]);
      // Chats above max_chats only when the capacity was lowered under chats already open,
      // and never more than were open then.
      auto& held = grandfathered[v.id];
      held = std::min(held, v.chats);
      CHECK(v.chats <= std::max<std::size_t>(v.max_chats, held));
      if (offered_this_step.count(v.id)) CHECK(v.chats + v.offers <= v.max_chats);
    }
    for (auto& c : known) {
      if (gone.count(c)) {
        CHECK_FALSE(d.is_waiting(c));
        CHECK_FALSE(d.offered_to(c));
        continue;
      }
      const int states = int(d.is_waiting(c)) + int(d.offered_to(c).has_value()) + int(d.assigned_to(c).has_value());
      INFO("conversation " << c);
      REQUIRE(states == 1); // nothing lost, nothing in two places
      if (auto o = d.offered_to(c)) CHECK(open_offers.at(c).agent_id == *o);
      if (auto a = d.assigned_to(c)) CHECK(assigned.at(c) == *a);
    }
    // Nobody waits while an agent with room could take them.
    for (auto& c : d.line())
      for (auto& v : d.agents())
        if (v.available && v.chats + v.offers < v.max_chats) {
          INFO("waiting " << c << " while " << v.id << " has room");
          auto it = refused[c].find(v.id);
          CHECK((it != refused[c].end() && it->second > now));
        }
  }
}

TEST_CASE("preferred agents are offered a chat first without moving the round-robin cursor", "[routing][dispatcher]") {
  auto d = with_agents(4, 1);
  CHECK(offered_agents(d.request("c1", 1, 1)) == std::vector<std::string>{"a1"});
  CHECK(d.cursor() == "a1");
  // the lead's account owner (a3) and its rule's agents (a4, a2) come first, in that order
  CHECK(offered_agents(d.request("c2", 2, 2, {"a3", "a4", "a2"})) == std::vector<std::string>{"a3"});
  CHECK(d.cursor() == "a1"); // not round robin's turn
  CHECK(offered_agents(d.request("c3", 3, 3, {"a3", "a4", "a2"})) == std::vector<std::string>{"a4"}); // a3 is full
  // nobody preferred has room (a2 is the next preferred, free): a2; then round robin takes the rest
  CHECK(offered_agents(d.request("c4", 4, 4, {"a3", "a4"})) == std::vector<std::string>{"a2"});
  CHECK(d.cursor() == "a2");
  // every seat is taken: a preferred chat waits in line like any other
  auto fx = d.request("c5", 5, 5, {"a1"});
  CHECK(offers_in(fx).empty());
  CHECK(d.is_waiting("c5"));
  // a declined preferred offer goes on to round robin, not back to the decliner
  auto e = with_agents(3);
  CHECK(offered_agents(e.request("x", 1, 1, {"a2"})) == std::vector<std::string>{"a2"});
  CHECK(offered_agents(e.decline("x", "a2", 2)) == std::vector<std::string>{"a1"});
}

TEST_CASE("asking again while routed only replaces the preferred agents", "[routing][dispatcher]") {
  dispatcher d{defaults()};
  d.add_agent("a1", 1, 0);
  d.add_agent("a2", 1, 0);
  d.restore_waiting("c1", 1); // restored at start-up, before its session asked
  CHECK(d.request("c1", 1, 2, {"a2"}).empty());
  CHECK(d.is_waiting("c1"));
  CHECK(offered_agents(d.update_agent("a1", true, 1, 3)).empty() == false);
  // a1 is the only one available: the preference is a first choice, never a wait
  CHECK(d.offered_to("c1") == std::optional<std::string>{"a1"});
}
