// The router actor is a thin shell over routing::dispatcher (src/routing), which holds
// every rule: it turns messages into dispatcher inputs, carries out the effects (send
// the offer, arm its timer, tell the session its place in line), and persists the
// round-robin cursor. Time is the actor clock's, so deterministic tests control it.
//
// At start-up it rebuilds its state from the store before any socket is served: agents
// in creation order, the cursor, each agent's open chats (they fill seats), and the line
// of waiting conversations in their original request order.
#include "actors/router.hpp"

#include <set>
#include <unordered_map>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "dynchat/store/writes.hpp"
#include "dynchat/routing/assignment.hpp"
#include "dynchat/routing/dispatcher.hpp"
#include "dynchat/routing/stored_rules.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat {
namespace {

constexpr const char* cursor_key = "routing.cursor";

struct agent_contact {
  std::string name;
  agent_actor handle;
  std::string status = "offline";
  bool connected = false;
};

struct router_state {
  actor_context ctx;
  std::unique_ptr<routing::dispatcher> policy;
  std::unordered_map<std::string, agent_contact> agents;
  std::unordered_map<std::string, msg::chat_request> routed; // waiting or offered: who to tell
  std::set<std::string> confirming; // accepted, the session not yet confirmed: its request is no news
  std::set<std::string> removed; // deleted agents: a late report must not bring one back
  std::string saved_cursor;
  std::int64_t wake_at = 0;      // the cool-down timer armed, 0: none
  // Live chat follows the same rule book as meetings: the lead's account owner and its
  // rule's agents are offered the chat first (docs/meetings.md, "Routing").
  routing::rule_book book;
  routing::compiled_rules rules;
  std::map<std::string, std::string> rule_turns;                 // rule id -> who got its last chat offer
  std::unordered_map<std::string, routing::shortlist> shortlists; // by conversation, while routed
  static inline const char* name = "router";
};

using router_ptr = router_actor::stateful_pointer<router_state>;

std::int64_t clock_ms(router_ptr self) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(self->clock().now().time_since_epoch()).count();
}

routing::dispatch_settings policy_settings(const settings& cfg) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  return {duration_cast<milliseconds>(cfg.chat.offer_timeout).count(),
          duration_cast<milliseconds>(cfg.chat.decline_cooldown).count(), cfg.chat.max_offer_attempts,
          cfg.chat.away_after_missed};
}

void save_cursor(router_ptr self) {
  auto& st = self->state;
  if (st.policy->cursor() == st.saved_cursor) return;
  st.saved_cursor = st.policy->cursor();
  store::write_batch batch;
  store::writes::put_meta(batch, cursor_key, st.saved_cursor);
  self->request(st.ctx.writer, caf::infinite, msg::write_atom::value, std::move(batch))
    .then([](std::uint64_t) {},
          [=](caf::error&) {
            // Unknown what the store holds now: the next change of the cursor writes it again.
            spdlog::warn("router: could not persist the round-robin cursor");
            self->state.saved_cursor.clear();
          });
}

agent_actor agent_handle(router_ptr self, const std::string& id) {
  auto it = self->state.agents.find(id);
  return it == self->state.agents.end() ? agent_actor{} : it->second.handle;
}

void after_change(router_ptr self);

// Who the lead's chat goes to first: its account's owner, then (at most
// routing.agents_tried_per_rule of) the agents of the first live-chat rule it matches.
std::vector<std::string> prefer(router_ptr self, const std::string& conversation_id,
                                const std::map<std::string, std::string>& lead) {
  auto& st = self->state;
  auto list = routing::make_shortlist(st.rules, lead, routing::rule_scope::live_chat, st.rule_turns,
                                      st.ctx.cfg->routing.agents_tried_per_rule,
                                      [&st](const std::string& id) { return st.agents.count(id) != 0; });
  std::vector<std::string> out;
  if (!list.account_owner.empty()) out.push_back(list.account_owner);
  out.insert(out.end(), list.rule_agents.begin(), list.rule_agents.end());
  if (out.empty()) st.shortlists.erase(conversation_id);
  else st.shortlists[conversation_id] = std::move(list);
  return out;
}

void carry_out(router_ptr self, const routing::effects& fx) {
  auto& st = self->state;
  const auto now = clock_ms(self);
  for (const auto& e : fx) {
    if (auto* o = std::get_if<routing::offer_made>(&e)) {
      // A rule's agent offered it as a preferred one moves the rule's turn (round robin's
      // pick of the same agent does not).
      if (auto s = st.shortlists.find(o->conversation_id); s != st.shortlists.end() && !o->by_turn) {
        if (routing::classify(s->second, o->agent_id).stage == routing::stage::rule) st.rule_turns[s->second.rule_id] = o->agent_id;
      }
      // The timer is armed whatever happens to the offer on its way: it must expire.
      self->delayed_send(self, std::chrono::milliseconds{std::max<std::int64_t>(0, o->expires_at_ms - now)},
                         msg::timeout_atom::value, o->conversation_id, o->offer_id);
      auto it = st.routed.find(o->conversation_id);
      if (auto agent = agent_handle(self, o->agent_id); agent && it != st.routed.end())
        self->send(agent, msg::offer_atom::value, it->second, o->expires_at_ms);
      st.ctx.stats->offers_made++;
    } else if (auto* w = std::get_if<routing::offer_withdrawn>(&e)) {
      if (w->reason == "missed") st.ctx.stats->offers_missed++;
      if (auto agent = agent_handle(self, w->agent_id))
        self->send(agent, msg::withdraw_atom::value, w->conversation_id, w->reason);
    } else if (auto* a = std::get_if<routing::set_away>(&e)) {
      if (auto agent = agent_handle(self, a->agent_id)) self->send(agent, msg::status_atom::value, std::string{"away"});
    } else if (auto* q = std::get_if<routing::queued>(&e)) {
      if (auto it = st.routed.find(q->conversation_id); it != st.routed.end() && it->second.session)
        self->send(it->second.session, msg::queued_atom::value, q->position);
    }
  }
  after_change(self);
}

// After any change: the cursor persisted, the cool-down timer, the gauges.
void after_change(router_ptr self) {
  auto& st = self->state;
  const auto now = clock_ms(self);
  save_cursor(self);
  // One timer for the earliest cool-down: when it ends, a waiting chat may go to its decliner.
  if (auto wake = st.policy->next_wake(now); wake && (st.wake_at <= now || *wake < st.wake_at)) {
    st.wake_at = *wake;
    self->delayed_send(self, std::chrono::milliseconds{*wake - now}, msg::wake_atom::value);
  }
  st.ctx.stats->queued_conversations = static_cast<std::int64_t>(st.policy->waiting());
  st.ctx.stats->pending_offers = static_cast<std::int64_t>(st.policy->pending_offers());
  if (st.ctx.agent_room) st.ctx.agent_room->store(st.policy->any_room(), std::memory_order_relaxed);
}

// The line and the seats as they were when the process stopped. Index rows that no
// longer agree with their conversation's record are skipped and deleted.
void restore(router_ptr self) {
  auto& st = self->state;
  store::write_batch stale;
  {
    auto txn = st.ctx.db->read();
    for (auto& a : store::load_agents(txn)) {
      st.policy->add_agent(a.id, a.max_chats, 0);
      st.agents[a.id].name = a.name;
      for (auto& conv : store::load_agent_chats(txn, a.id)) {
        auto c = store::load_conversation(txn, conv);
        if (c && c->phase == store::conversation_phase::live && c->agent_id == a.id) st.policy->restore_chat(conv, a.id);
        else store::writes::set_agent_chat(stale, a.id, conv, false);
      }
    }
    st.saved_cursor = store::load_meta(txn, cursor_key).value_or("");
    st.policy->set_cursor(st.saved_cursor);
    st.book = routing::load_rule_book(txn);
    st.rules = routing::compiled_rules{st.book.rules, st.book.teams, st.book.accounts};
    for (auto& w : store::load_waiting(txn)) {
      auto c = store::load_conversation(txn, w.conversation_id);
      if (!c || c->phase != store::conversation_phase::waiting || c->requested_ms != w.requested_ms) {
        store::writes::set_waiting(stale, w.requested_ms, w.conversation_id, false);
        continue;
      }
      st.policy->restore_waiting(c->id, w.requested_ms);
      st.routed[c->id] = msg::chat_request{c->id, {}, {c->visitor_id, c->id, c->page_url, c->referrer, c->email},
                                           w.requested_ms, {}}; // its lead's attributes come when its session asks
    }
  }
  if (!st.routed.empty()) spdlog::info("router: {} conversations back in line, in request order", st.routed.size());
  if (!stale.empty()) {
    spdlog::warn("router: {} index rows disagreed with their conversations; deleting them", stale.size());
    self->request(st.ctx.writer, caf::infinite, msg::write_atom::value, std::move(stale))
      .then([](std::uint64_t) {}, [](caf::error&) {});
  }
}

router_actor::behavior_type router(router_ptr self, actor_context ctx) {
  auto& st = self->state;
  st.ctx = ctx;
  st.policy = std::make_unique<routing::dispatcher>(policy_settings(*ctx.cfg));
  restore(self);
  return {
    [=](msg::directory_atom, directory_actor directory) { self->state.ctx.directory = std::move(directory); },
    [=](msg::request_atom, msg::chat_request& req) {
      auto& st = self->state;
      const auto id = req.conversation_id;
      auto preferred = prefer(self, id, req.lead);
      if (auto it = st.routed.find(id); it != st.routed.end()) {
        // Already routed (restored from the store): now it is known who to tell, and who
        // its lead prefers.
        it->second.session = req.session;
        it->second.visitor = std::move(req.visitor);
        carry_out(self, st.policy->request(id, it->second.requested_ms, clock_ms(self), std::move(preferred)));
        return;
      }
      // A session made from the store for an accept in progress asks as it starts; the
      // assign on its way answers it.
      if (st.confirming.count(id)) return;
      // A session asks only when no agent holds it: an assignment the router still has is stale.
      if (auto holder = st.policy->assigned_to(id)) carry_out(self, st.policy->release(id, *holder, clock_ms(self)));
      const auto requested = req.requested_ms;
      st.routed[id] = std::move(req);
      carry_out(self, st.policy->request(id, requested, clock_ms(self), std::move(preferred)));
    },
    [=](msg::cancel_atom, const std::string& conversation_id) {
      auto& st = self->state;
      auto fx = st.policy->cancel(conversation_id, clock_ms(self));
      carry_out(self, fx);
      st.routed.erase(conversation_id);
      st.shortlists.erase(conversation_id);
    },
    [=](msg::rules_atom, const std::string& part) {
      auto& st = self->state;
      const bool read = guard_store([&] { return routing::reload_part(st.book, st.ctx.db->read(), part); },
                                    [&](const store::store_error& e) {
                                      spdlog::error("router: the rule book's {} could not be read: {}", part, e.what());
                                      return false;
                                    });
      if (read) st.rules = routing::compiled_rules{st.book.rules, st.book.teams, st.book.accounts};
    },
    [=](msg::timeout_atom, const std::string& conversation_id, std::uint64_t offer_id) {
      carry_out(self, self->state.policy->offer_expired(conversation_id, offer_id, clock_ms(self)));
    },
    [=](msg::wake_atom) {
      self->state.wake_at = 0;
      carry_out(self, self->state.policy->drain(clock_ms(self)));
    },
    [=](msg::decline_atom, const std::string& conversation_id, const std::string& agent_id) {
      carry_out(self, self->state.policy->decline(conversation_id, agent_id, clock_ms(self)));
    },
    [=](msg::accept_atom, const std::string& conversation_id, const std::string& agent_id) -> caf::result<session_actor> {
      auto& st = self->state;
      auto r = st.policy->accept(conversation_id, agent_id, clock_ms(self));
      if (r.outcome == routing::accept_outcome::no_offer) return to_caf_error(protocol::error_code::offer_expired);
      if (r.outcome == routing::accept_outcome::at_capacity) {
        carry_out(self, r.follow_up);
        return to_caf_error(protocol::error_code::at_capacity);
      }
      auto request = std::move(st.routed[conversation_id]);
      st.routed.erase(conversation_id);
      st.shortlists.erase(conversation_id);
      after_change(self);
      // The seat is taken; the chat is the agent's once its session confirms. A session
      // that is no longer waiting (the visitor left meanwhile) or no longer there gives
      // the seat back, and the agent hears its offer is gone.
      const auto& contact = st.agents[agent_id];
      auto promise = self->make_response_promise<session_actor>();
      st.confirming.insert(conversation_id);
      auto refused = [=]() mutable {
        self->state.confirming.erase(conversation_id);
        carry_out(self, self->state.policy->release(conversation_id, agent_id, clock_ms(self)));
        promise.deliver(to_caf_error(protocol::error_code::offer_expired));
      };
      auto assign = [=, name = contact.name, handle = contact.handle](session_actor session) mutable {
        self->request(session, caf::infinite, msg::assign_atom::value, handle, agent_id, name)
          .then(
            [=](bool taken) mutable {
              if (!taken) return refused();
              self->state.confirming.erase(conversation_id);
              promise.deliver(session);
            },
            [=](caf::error&) mutable { refused(); });
      };
      if (request.session) {
        assign(request.session);
      } else {
        // Restored and not yet heard from: the directory has (or starts) its actor.
        self->request(st.ctx.directory, caf::infinite, msg::session_atom::value, conversation_id)
          .then([=](session_actor session) mutable { assign(session); }, [=](caf::error&) mutable { refused(); });
      }
      return promise;
    },
    [=](msg::release_atom, const std::string& agent_id, const std::string& conversation_id) {
      carry_out(self, self->state.policy->release(conversation_id, agent_id, clock_ms(self)));
    },
    [=](msg::aupdate_atom, msg::agent_state_report& r) {
      auto& st = self->state;
      if (st.removed.count(r.agent_id)) return;
      auto& contact = st.agents[r.agent_id];
      contact.name = r.name;
      contact.handle = r.handle;
      contact.status = r.status;
      contact.connected = r.connected;
      carry_out(self, st.policy->update_agent(r.agent_id, r.available(), r.max_chats, clock_ms(self)));
    },
    [=](msg::aadded_atom, const store::agent_record& record) {
      auto& st = self->state;
      st.agents[record.id].name = record.name;
      carry_out(self, st.policy->add_agent(record.id, record.max_chats, clock_ms(self)));
    },
    [=](msg::aremoved_atom, const std::string& agent_id) {
      auto& st = self->state;
      st.removed.insert(agent_id);
      carry_out(self, st.policy->remove_agent(agent_id, clock_ms(self)));
      st.agents.erase(agent_id);
    },
    [=](msg::snapshot_atom) -> std::string {
      auto& st = self->state;
      nlohmann::json agents = nlohmann::json::array();
      for (auto& a : st.policy->agents()) {
        const auto& contact = st.agents[a.id];
        agents.push_back({{"agent_id", a.id},
                          {"name", contact.name},
                          {"status", contact.status},
                          {"connected", contact.connected},
                          {"available", a.available},
                          {"active", a.chats},
                          {"offers", a.offers},
                          {"max_chats", a.max_chats}});
      }
      return nlohmann::json{{"order", std::move(agents)},
                            {"cursor", st.policy->cursor()},
                            {"queue", st.policy->waiting()},
                            {"offers", st.policy->pending_offers()}}
        .dump();
    },
    [=](msg::shutdown_atom) { self->quit(); },
  };
}

} // namespace

router_actor spawn_router(caf::actor_system& sys, const actor_context& ctx) {
  return sys.spawn(router, ctx);
}

} // namespace dynchat
