#include "actors/router.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/routing/round_robin.hpp"
#include "dynchat/routing/waiting_line.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat {
namespace {

constexpr const char* cursor_key = "routing.cursor";

struct agent_entry {
  std::string id;
  std::string name;
  caf::actor handle;
  bool available = false;
  std::uint32_t active = 0;
  std::uint32_t max_chats = 5;
};

struct offer_state {
  msg::chat_request request;
  std::string agent_id;
  unsigned attempts = 0;
  std::vector<std::string> tried;
  std::uint64_t timer = 0;
};

struct router_state {
  actor_context ctx;
  std::vector<agent_entry> order; // fixed round-robin order: creation order
  std::string cursor;             // id of the agent who got the last offer
  routing::waiting_line<msg::chat_request> queue;
  std::map<std::string, offer_state> offers;
  std::set<std::string> removed; // deleted agents: a late report must not bring one back
  std::uint64_t timers = 0;
  static inline const char* name = "router";
};

using router_actor = caf::stateful_actor<router_state>;

agent_entry* find_agent(router_state& st, const std::string& id) {
  for (auto& a : st.order)
    if (a.id == id) return &a;
  return nullptr;
}

std::uint32_t pending_offers_for(const router_state& st, const std::string& agent_id) {
  return static_cast<std::uint32_t>(
    std::count_if(st.offers.begin(), st.offers.end(), [&](auto& kv) { return kv.second.agent_id == agent_id; }));
}

void update_gauges(router_state& st) {
  st.ctx.stats->queued_conversations = static_cast<std::int64_t>(st.queue.size());
  st.ctx.stats->pending_offers = static_cast<std::int64_t>(st.offers.size());
}

void save_cursor(router_actor* self) {
  store::write_batch batch{{store::table::meta, cursor_key, self->state.cursor, false}};
  self->request(self->state.ctx.writer, caf::infinite, msg::write_atom::value, std::move(batch))
    .then([](std::uint64_t) {}, [](caf::error&) { spdlog::warn("router: could not persist the round-robin cursor"); });
}

// Offers the conversation to the next eligible agent; false when there is none.
bool try_offer(router_actor* self, msg::chat_request req, unsigned attempts, std::vector<std::string> tried) {
  auto& st = self->state;
  std::vector<routing::agent_slot> slots;
  std::optional<std::size_t> last;
  slots.reserve(st.order.size());
  for (std::size_t i = 0; i < st.order.size(); ++i) {
    const auto& a = st.order[i];
    slots.push_back({a.id, a.available && a.handle, a.active + pending_offers_for(st, a.id), a.max_chats});
    if (a.id == st.cursor) last = i;
  }
  auto pick = routing::next_agent(slots, last, tried);
  if (!pick) return false;
  auto& agent = st.order[*pick];
  st.cursor = agent.id;
  save_cursor(self);
  const auto timeout = st.ctx.cfg->chat.offer_timeout;
  const auto expires_at = now_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  auto conv_id = req.conversation_id;
  auto timer = ++st.timers;
  self->send(agent.handle, msg::offer_atom::value, req, expires_at);
  st.offers[conv_id] = offer_state{std::move(req), agent.id, attempts + 1, std::move(tried), timer};
  self->delayed_send(self, timeout, msg::timeout_atom::value, conv_id, timer);
  st.ctx.stats->offers_made++;
  update_gauges(st);
  return true;
}

void enqueue(router_actor* self, msg::chat_request req) {
  auto& st = self->state;
  // FIFO by the time the conversation first asked: a conversation coming back after
  // missed offers keeps its place ahead of younger ones.
  auto session = req.session;
  const auto id = req.conversation_id;
  const auto requested_ms = req.requested_ms;
  const auto position = static_cast<std::uint32_t>(st.queue.push(id, requested_ms, std::move(req)));
  self->send(session, msg::queued_atom::value, position);
  update_gauges(st);
}

void drain_queue(router_actor* self) {
  auto& st = self->state;
  while (auto* next = st.queue.front()) {
    if (!try_offer(self, *next, 0, {})) break;
    st.queue.pop_front();
  }
  update_gauges(st);
}

// The current offer failed (missed, declined, agent gone): try the next agent or queue.
void reoffer(router_actor* self, const std::string& conversation_id) {
  auto& st = self->state;
  auto it = st.offers.find(conversation_id);
  if (it == st.offers.end()) return;
  offer_state failed = std::move(it->second);
  st.offers.erase(it);
  failed.tried.push_back(failed.agent_id);
  if (failed.attempts >= st.ctx.cfg->chat.max_offer_attempts ||
      !try_offer(self, failed.request, failed.attempts, failed.tried))
    enqueue(self, std::move(failed.request));
  update_gauges(st);
}

caf::behavior router(router_actor* self, actor_context ctx) {
  auto& st = self->state;
  st.ctx = ctx;
  {
    auto txn = ctx.db->read();
    for (auto& a : store::load_agents(txn)) st.order.push_back({a.id, a.name, nullptr, false, 0, a.max_chats});
    st.cursor = store::load_meta(txn, cursor_key).value_or("");
  }
  return {
    [=](msg::request_atom, msg::chat_request& req) {
      auto& st = self->state;
      const auto& id = req.conversation_id;
      if (st.offers.count(id) || st.queue.contains(id)) return;
      // Strict FIFO: nobody overtakes a conversation already waiting.
      if (!st.queue.empty() || !try_offer(self, req, 0, {})) enqueue(self, std::move(req));
    },
    [=](msg::cancel_atom, std::string conversation_id) {
      auto& st = self->state;
      auto it = st.offers.find(conversation_id);
      if (it != st.offers.end()) {
        if (auto* a = find_agent(st, it->second.agent_id); a && a->handle)
          self->send(a->handle, msg::withdraw_atom::value, conversation_id, std::string{"visitor_left"});
        st.offers.erase(it);
        drain_queue(self);
      }
      st.queue.remove(conversation_id);
      update_gauges(st);
    },
    [=](msg::timeout_atom, std::string conversation_id, std::uint64_t timer) {
      auto& st = self->state;
      auto it = st.offers.find(conversation_id);
      if (it == st.offers.end() || it->second.timer != timer) return;
      st.ctx.stats->offers_missed++;
      if (auto* a = find_agent(st, it->second.agent_id); a && a->handle) {
        self->send(a->handle, msg::withdraw_atom::value, conversation_id, std::string{"missed"});
        if (st.ctx.cfg->chat.away_after_missed) {
          // Someone who lets an offer lapse is probably not at the desk.
          a->available = false;
          self->send(a->handle, msg::status_atom::value, std::string{"away"});
        }
      }
      reoffer(self, conversation_id);
    },
    [=](msg::decline_atom, std::string conversation_id, std::string agent_id) {
      auto it = self->state.offers.find(conversation_id);
      if (it == self->state.offers.end() || it->second.agent_id != agent_id) return;
      reoffer(self, conversation_id);
    },
    [=](msg::accept_atom, std::string conversation_id, std::string agent_id) -> caf::result<caf::actor> {
      auto& st = self->state;
      auto it = st.offers.find(conversation_id);
      if (it == st.offers.end() || it->second.agent_id != agent_id)
        return to_caf_error(protocol::error_code::offer_expired);
      auto* a = find_agent(st, agent_id);
      if (!a) return to_caf_error(protocol::error_code::offer_expired);
      auto session = it->second.request.session;
      a->active++; // the agent's own report follows; count it now so nothing overfills it
      self->send(session, msg::assign_atom::value, a->handle, a->id, a->name);
      st.offers.erase(it);
      update_gauges(st);
      return session;
    },
    [=](msg::release_atom, std::string agent_id, std::string) {
      if (auto* a = find_agent(self->state, agent_id); a && a->active > 0) a->active--;
      drain_queue(self);
    },
    [=](msg::aupdate_atom, msg::agent_state_report& r) {
      auto& st = self->state;
      if (st.removed.count(r.agent_id)) return;
      auto* a = find_agent(st, r.agent_id);
      if (!a) {
        st.order.push_back({r.agent_id, r.name, nullptr, false, 0, r.max_chats});
        a = &st.order.back();
      }
      a->name = r.name;
      a->handle = r.handle;
      a->available = r.available;
      a->active = r.active;
      a->max_chats = r.max_chats;
      drain_queue(self);
    },
    [=](msg::aadded_atom, store::agent_record record) {
      auto& st = self->state;
      if (auto* a = find_agent(st, record.id)) {
        a->name = record.name;
        a->max_chats = record.max_chats;
      } else {
        st.order.push_back({record.id, record.name, nullptr, false, 0, record.max_chats});
      }
      drain_queue(self);
    },
    [=](msg::aremoved_atom, std::string agent_id) {
      auto& st = self->state;
      st.removed.insert(agent_id);
      std::vector<std::string> orphaned;
      for (auto& [conv, offer] : st.offers)
        if (offer.agent_id == agent_id) orphaned.push_back(conv);
      for (auto& conv : orphaned) reoffer(self, conv);
      st.order.erase(std::remove_if(st.order.begin(), st.order.end(), [&](auto& a) { return a.id == agent_id; }),
                     st.order.end());
    },
    [=](msg::snapshot_atom) -> std::string {
      auto& st = self->state;
      nlohmann::json agents = nlohmann::json::array();
      for (auto& a : st.order)
        agents.push_back({{"agent_id", a.id}, {"available", a.available}, {"active", a.active},
                          {"offers", pending_offers_for(st, a.id)}, {"connected", static_cast<bool>(a.handle)}});
      return nlohmann::json{{"order", std::move(agents)}, {"cursor", st.cursor}, {"queue", st.queue.size()},
                            {"offers", st.offers.size()}}.dump();
    },
    [=](msg::shutdown_atom) { self->quit(); },
  };
}

} // namespace

caf::actor spawn_router(caf::actor_system& sys, const actor_context& ctx) {
  return sys.spawn(router, ctx);
}

} // namespace dynchat
