#include "dynchat/routing/dispatcher.hpp"

#include <algorithm>

namespace dynchat::routing {

dispatcher::agent* dispatcher::find(const std::string& id) {
  for (auto& a : order_)
    if (a.id == id) return &a;
  return nullptr;
}

const dispatcher::agent* dispatcher::find(const std::string& id) const {
  for (const auto& a : order_)
    if (a.id == id) return &a;
  return nullptr;
}

bool dispatcher::any_room() const {
  return std::any_of(order_.begin(), order_.end(), [](const agent& a) { return a.has_room(); });
}

bool dispatcher::may_take(const agent& a, const routed& r, std::int64_t now) const {
  if (!a.has_room()) return false;
  auto it = r.refused_until.find(a.id);
  return it == r.refused_until.end() || it->second <= now;
}

// The conversation's preferred agents first (its account owner, its rule's), in their
// order; else strict round robin: the first agent after the cursor (wrapping) who may.
std::optional<dispatcher::choice> dispatcher::pick(const routed& r, std::int64_t now) const {
  const std::size_t n = order_.size();
  if (n == 0) return std::nullopt;
  for (const auto& id : r.preferred)
    for (std::size_t i = 0; i < n; ++i)
      if (order_[i].id == id && may_take(order_[i], r, now)) return choice{i, false};
  std::size_t start = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (order_[i].id == cursor_) start = i + 1;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (start + k) % n;
    if (may_take(order_[i], r, now)) return choice{i, true};
  }
  return std::nullopt;
}

void dispatcher::make_offer(const std::string& conversation_id, routed& r, choice c, std::int64_t now, effects& out) {
  auto& a = order_[c.index];
  const auto id = ++next_offer_id_;
  r.current = offer{a.id, id};
  a.offers.insert(conversation_id);
  if (c.by_turn) cursor_ = a.id; // an offer to a preferred agent is not round robin's turn
  out.push_back(offer_made{conversation_id, a.id, id, now + settings_.offer_timeout_ms, r.attempts + 1, c.by_turn});
}

void dispatcher::enqueue(const std::string& conversation_id, routed& r, bool tell_now, std::int64_t now, effects& out) {
  r.current.reset();
  const auto position = line_.push(conversation_id, r.requested_ms, 0);
  // Cool-downs still running wake the line when they end (next_wake forgot those of
  // conversations that were out on offer meanwhile).
  for (const auto& [agent, until] : r.refused_until)
    if (until > now) cooldowns_.emplace(until, conversation_id);
  // Position 0: told once this input is done, if it is still waiting then.
  out.push_back(queued{conversation_id, tell_now ? static_cast<std::uint32_t>(position) : 0u});
}

void dispatcher::route_on(const std::string& conversation_id, bool refused, std::int64_t now, effects& out) {
  auto& r = routed_.at(conversation_id);
  const auto failed = *r.current;
  r.current.reset();
  if (auto* a = find(failed.agent_id)) a->offers.erase(conversation_id);
  bool tell_now = false;
  if (refused) {
    r.refused_until[failed.agent_id] = now + settings_.refusal_cooldown_ms;
    if (++r.attempts >= settings_.max_attempts) {
      // Refused that often in a row: the visitor hears it is waiting, even if the next
      // agent is tried at once.
      r.attempts = 0;
      tell_now = true;
    }
  }
  // Back to its place in line (it keeps its request time); the caller's drain offers it
  // to the next agent with room, oldest conversation first.
  enqueue(conversation_id, r, tell_now, now, out);
}

void dispatcher::drain_into(std::int64_t now, effects& out) {
  if (line_.empty() || !any_room()) return;
  std::vector<std::string> offered;
  line_.for_each([&](const std::string& id) {
    auto& r = routed_.at(id);
    if (auto next = pick(r, now)) {
      make_offer(id, r, *next, now, out);
      offered.push_back(id);
      return any_room();
    }
    return true; // everyone with room refused this one lately: the next may go first
  });
  for (const auto& id : offered) line_.remove(id);
}

namespace {

// Resolves the placeholder `queued` effects (position 0): a conversation that entered
// the line during this input and still waits at its end learns its position; one
// offered meanwhile is not told. A conversation is told at most once per input.
template <class Line>
effects finish(effects out, const Line& line) {
  effects done;
  done.reserve(out.size());
  std::set<std::string> told;
  for (auto& e : out) {
    if (auto* q = std::get_if<queued>(&e)) {
      if (told.count(q->conversation_id)) continue;
      if (q->position == 0) {
        if (!line.contains(q->conversation_id)) continue;
        q->position = static_cast<std::uint32_t>(line.position(q->conversation_id));
      }
      told.insert(q->conversation_id);
    }
    done.push_back(std::move(e));
  }
  return done;
}

} // namespace

effects dispatcher::add_agent(const std::string& id, std::uint32_t max_chats, std::int64_t now) {
  if (auto* a = find(id)) {
    a->max_chats = max_chats;
  } else {
    order_.push_back(agent{id, false, max_chats, {}, {}});
  }
  return drain(now);
}

effects dispatcher::update_agent(const std::string& id, bool available, std::uint32_t max_chats, std::int64_t now) {
  effects out;
  auto* a = find(id);
  if (!a) {
    order_.push_back(agent{id, false, max_chats, {}, {}});
    a = &order_.back();
  }
  a->max_chats = max_chats;
  a->available = available;
  if (!available) {
    // Nobody is there to answer them: hand them on now rather than at their timeout.
    const std::vector<std::string> pending{a->offers.begin(), a->offers.end()};
    for (const auto& conv : pending) {
      out.push_back(offer_withdrawn{conv, id, "agent_unavailable"});
      route_on(conv, false, now, out);
    }
  }
  drain_into(now, out);
  return finish(std::move(out), line_);
}

effects dispatcher::remove_agent(const std::string& id, std::int64_t now) {
  effects out;
  auto* a = find(id);
  if (!a) return out;
  a->available = false;
  const std::vector<std::string> pending{a->offers.begin(), a->offers.end()};
  for (const auto& conv : pending) {
    out.push_back(offer_withdrawn{conv, id, "agent_removed"});
    route_on(conv, false, now, out);
  }
  for (const auto& conv : a->chats) assigned_.erase(conv);
  order_.erase(std::remove_if(order_.begin(), order_.end(), [&](const agent& x) { return x.id == id; }), order_.end());
  drain_into(now, out);
  return finish(std::move(out), line_);
}

effects dispatcher::request(const std::string& conversation_id, std::int64_t requested_ms, std::int64_t now,
                            std::vector<std::string> preferred) {
  effects out;
  if (assigned_.count(conversation_id)) return out;
  if (auto known = routed_.find(conversation_id); known != routed_.end()) {
    known->second.preferred = std::move(preferred); // asked again (restored, say): who it prefers now
    return out;
  }
  auto& r = routed_[conversation_id];
  r.requested_ms = requested_ms;
  r.preferred = std::move(preferred);
  // Strict FIFO: nobody overtakes a conversation already waiting.
  if (line_.empty()) {
    if (auto next = pick(r, now)) {
      make_offer(conversation_id, r, *next, now, out);
      return out;
    }
  }
  enqueue(conversation_id, r, false, now, out);
  drain_into(now, out);
  return finish(std::move(out), line_);
}

void dispatcher::restore_waiting(const std::string& conversation_id, std::int64_t requested_ms) {
  if (routed_.count(conversation_id) || assigned_.count(conversation_id)) return;
  routed_[conversation_id].requested_ms = requested_ms;
  line_.push(conversation_id, requested_ms, 0);
}

void dispatcher::restore_chat(const std::string& conversation_id, const std::string& agent_id) {
  auto* a = find(agent_id);
  if (!a || routed_.count(conversation_id)) return;
  a->chats.insert(conversation_id);
  assigned_[conversation_id] = agent_id;
}

effects dispatcher::cancel(const std::string& conversation_id, std::int64_t now) {
  effects out;
  auto it = routed_.find(conversation_id);
  if (it == routed_.end()) return out;
  if (it->second.current) {
    const auto agent_id = it->second.current->agent_id;
    if (auto* a = find(agent_id)) a->offers.erase(conversation_id);
    out.push_back(offer_withdrawn{conversation_id, agent_id, "visitor_left"});
  }
  line_.remove(conversation_id);
  routed_.erase(it);
  drain_into(now, out);
  return finish(std::move(out), line_);
}

accept_result dispatcher::accept(const std::string& conversation_id, const std::string& agent_id, std::int64_t now) {
  auto it = routed_.find(conversation_id);
  auto* a = find(agent_id);
  if (it == routed_.end() || !a || !it->second.current || it->second.current->agent_id != agent_id)
    return {accept_outcome::no_offer, {}};
  if (a->chats.size() + 1 > a->max_chats) {
    // Capacity was lowered after the offer: the chat goes to someone with room.
    effects out;
    route_on(conversation_id, false, now, out);
    drain_into(now, out);
    return {accept_outcome::at_capacity, finish(std::move(out), line_)};
  }
  a->offers.erase(conversation_id);
  a->chats.insert(conversation_id);
  assigned_[conversation_id] = agent_id;
  routed_.erase(it);
  return {accept_outcome::assigned, {}};
}

effects dispatcher::decline(const std::string& conversation_id, const std::string& agent_id, std::int64_t now) {
  effects out;
  auto it = routed_.find(conversation_id);
  if (it == routed_.end() || !it->second.current || it->second.current->agent_id != agent_id) return out;
  route_on(conversation_id, true, now, out);
  drain_into(now, out);
  return finish(std::move(out), line_);
}

effects dispatcher::offer_expired(const std::string& conversation_id, std::uint64_t offer_id, std::int64_t now) {
  effects out;
  auto it = routed_.find(conversation_id);
  if (it == routed_.end() || !it->second.current || it->second.current->id != offer_id) return out;
  const auto agent_id = it->second.current->agent_id;
  out.push_back(offer_withdrawn{conversation_id, agent_id, "missed"});
  if (settings_.away_after_missed) {
    // Someone who lets an offer lapse is probably not at the desk.
    if (auto* a = find(agent_id); a && a->available) {
      out.push_back(set_away{agent_id});
      a->available = false;
      const std::vector<std::string> others{a->offers.begin(), a->offers.end()};
      route_on(conversation_id, true, now, out);
      for (const auto& conv : others) {
        if (conv == conversation_id) continue;
        out.push_back(offer_withdrawn{conv, agent_id, "agent_unavailable"});
        route_on(conv, false, now, out);
      }
      drain_into(now, out);
      return finish(std::move(out), line_);
    }
  }
  route_on(conversation_id, true, now, out);
  drain_into(now, out);
  return finish(std::move(out), line_);
}

effects dispatcher::release(const std::string& conversation_id, const std::string& agent_id, std::int64_t now) {
  auto it = assigned_.find(conversation_id);
  if (it == assigned_.end() || it->second != agent_id) return {};
  if (auto* a = find(agent_id)) a->chats.erase(conversation_id);
  assigned_.erase(it);
  return drain(now);
}

effects dispatcher::drain(std::int64_t now) {
  effects out;
  drain_into(now, out);
  return finish(std::move(out), line_);
}

std::optional<std::int64_t> dispatcher::next_wake(std::int64_t now) {
  while (!cooldowns_.empty()) {
    const auto& [until, conv] = *cooldowns_.begin();
    if (until > now && line_.contains(conv)) return until;
    cooldowns_.erase(cooldowns_.begin()); // passed, or the conversation is no longer waiting
  }
  return std::nullopt;
}

std::size_t dispatcher::pending_offers() const {
  std::size_t n = 0;
  for (const auto& a : order_) n += a.offers.size();
  return n;
}

std::vector<dispatcher::agent_view> dispatcher::agents() const {
  std::vector<agent_view> out;
  out.reserve(order_.size());
  for (const auto& a : order_) out.push_back({a.id, a.available, a.max_chats, a.chats.size(), a.offers.size()});
  return out;
}

std::optional<std::string> dispatcher::offered_to(const std::string& conversation_id) const {
  auto it = routed_.find(conversation_id);
  if (it == routed_.end() || !it->second.current) return std::nullopt;
  return it->second.current->agent_id;
}

std::optional<std::string> dispatcher::assigned_to(const std::string& conversation_id) const {
  auto it = assigned_.find(conversation_id);
  if (it == assigned_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> dispatcher::line() const {
  std::vector<std::string> out;
  line_.for_each([&](const std::string& id) {
    out.push_back(id);
    return true;
  });
  return out;
}

} // namespace dynchat::routing
