// The scheduler actor: a thin shell over src/calendar (slots, invites) and
// src/routing/meeting_turn (whose turn). It owns the agents' calendars and the meetings
// still ahead, keeps them in memory, and writes every change through the store writer
// before it answers. A booking takes its slot in memory before the write: a second
// booking of the same slot, even while the first commits, finds it gone; a failed write
// gives the slot back.
#include "actors/scheduler.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "dynchat/calendar/meeting_invite.hpp"
#include "dynchat/calendar/slots.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/routing/assignment.hpp"
#include "dynchat/routing/meeting_turn.hpp"
#include "dynchat/routing/stored_rules.hpp"
#include "dynchat/store/meetings.hpp"
#include "dynchat/store/writes.hpp"

namespace dynchat {
namespace {

constexpr const char* turn_key = "meetings.turn"; // who took the last round-robin meeting
constexpr const char* invite_host = "dynchat";

struct agent_calendar {
  store::agent_record agent;
  std::optional<calendar::settings> settings;
  store::calendar_record record;
  std::vector<store::meeting_record> meetings; // every one but the cancelled, ahead, in start order
  // The new times of meetings being moved, held until the move commits (by meeting id).
  std::vector<std::pair<std::string, calendar::interval>> moving;
  calendar::occupancy busy; // the calendar's events, the meetings and the times held
};

struct scheduler_state {
  actor_context ctx;
  std::map<std::string, agent_calendar> agents; // by id: creation order
  // Who took the last meeting of each turn (key "": round robin over everyone; else a
  // rule's id): the last one stored, unless bookings are in flight, whose turns count at
  // once (in booking order) and are dropped if they fail.
  std::map<std::string, std::string> committed_turns;
  struct turn_taken {
    std::string meeting_id, key, agent_id;
  };
  std::vector<turn_taken> turns_in_flight;
  std::string last_turn(const std::string& key = {}) const {
    for (auto it = turns_in_flight.rbegin(); it != turns_in_flight.rend(); ++it)
      if (it->key == key) return it->agent_id;
    auto c = committed_turns.find(key);
    return c == committed_turns.end() ? std::string{} : c->second;
  }
  std::map<std::string, std::string> rule_turns() const {
    auto out = committed_turns;
    out.erase("");
    for (const auto& t : turns_in_flight)
      if (!t.key.empty()) out[t.key] = t.agent_id;
    return out;
  }
  std::map<std::string, std::uint64_t> totals; // meetings each agent was given, cancelled ones included
  routing::rule_book book;       // as stored
  routing::compiled_rules rules; // the same, indexed
  // Meetings whose write is in flight (a booking or a change): another change waits for
  // it to settle, so the store and memory never disagree about what it replaces.
  std::set<std::string> changing;
  static inline const char* name = "scheduler";
};
using scheduler_ptr = scheduler_actor::stateful_pointer<scheduler_state>;

bool active(const store::meeting_record& m) { return m.status == "scheduled" || m.status == "rescheduled"; }
// Its time is taken: every meeting but a cancelled one (a completed one took place then).
bool occupies(const store::meeting_record& m) { return m.status != "cancelled"; }

void rebuild(agent_calendar& a) {
  std::vector<calendar::interval> busy;
  busy.reserve(a.record.busy.size() + a.meetings.size());
  for (const auto& [start, end] : a.record.busy) busy.push_back({start, end});
  for (const auto& m : a.meetings) busy.push_back({m.start_ms, m.end_ms});
  for (const auto& [id, held] : a.moving) busy.push_back(held);
  a.busy = calendar::occupancy{std::move(busy)};
}

void apply_calendar(agent_calendar& a, const store::calendar_record& r) {
  a.record = r;
  a.settings = calendar::settings_from_stored(r.settings_json);
  rebuild(a);
}

// Takes meetings, and has a connected calendar that has been read at least once (a
// failing feed keeps its last good busy times).
bool may_take_meetings(const agent_calendar& a) {
  return a.settings && a.settings->takes_meetings && !a.record.source.empty() && a.record.refreshed_ms > 0;
}

std::vector<calendar::interval> slots_of(const agent_calendar& a, std::int64_t now, std::int64_t from, std::int64_t to,
                                         std::size_t max) {
  if (!may_take_meetings(a)) return {};
  return calendar::free_slots(*a.settings, a.busy, {now, from, to, max});
}

std::string slot_id(const std::string& agent_id, std::int64_t start) { return agent_id + ":" + std::to_string(start); }

void insert_meeting(agent_calendar& a, store::meeting_record m) {
  auto at = std::upper_bound(a.meetings.begin(), a.meetings.end(), m.start_ms,
                             [](std::int64_t s, const store::meeting_record& x) { return s < x.start_ms; });
  a.meetings.insert(at, std::move(m));
  rebuild(a);
}

void remove_meeting(agent_calendar& a, const std::string& id) {
  a.meetings.erase(std::remove_if(a.meetings.begin(), a.meetings.end(), [&](const auto& m) { return m.id == id; }),
                   a.meetings.end());
  rebuild(a);
}

// The invites of a meeting as it stands now, one per recipient, for SMTP to deliver.
std::vector<store::invite_delivery> queue_invites(store::write_batch& batch, const store::meeting_record& m,
                                                  const agent_calendar& a) {
  std::vector<store::invite_delivery> queued;
  const auto inv = calendar::meeting_invite(m, a.agent, a.settings.value_or(calendar::settings{}), invite_host);
  const auto ics = calendar::invite_ics(inv);
  for (const auto& to : {a.agent.email, m.booker_email}) {
    if (to.empty()) continue;
    store::invite_delivery d;
    d.meeting_id = m.id;
    d.sequence = m.sequence;
    d.recipient = to;
    d.subject = (inv.cancelled ? "Cancelled: " : m.sequence > 0 ? "Updated: " : "Invitation: ") + inv.summary;
    d.ics = ics;
    d.next_attempt_ms = now_ms();
    store::writes::put_invite_delivery(batch, d);
    queued.push_back(std::move(d));
  }
  return queued;
}

// Committed invites go to the mailer; it finds them in the outbox after a restart too.
void hand_to_mailer(scheduler_ptr self, std::vector<store::invite_delivery> invites) {
  if (self->state.ctx.mailer && !invites.empty()) self->send(self->state.ctx.mailer, msg::mail_atom::value, std::move(invites));
}

// The lead's "scheduled meeting" activity for Marketo, rewritten with each change (its
// key is the conversation, the kind and the meeting).
void queue_activity(store::write_batch& batch, const store::meeting_record& m, const agent_calendar& a) {
  store::activity_record act;
  act.kind = "meeting_scheduled";
  act.name = m.id;
  act.ts_ms = m.created_ms;
  act.updated_ms = m.updated_ms;
  act.conversation_id = m.conversation_id;
  act.email = m.booker_email;
  act.page_url = m.page_url;
  act.dialogue_id = m.dialogue_id;
  act.status = m.status;
  act.agent_id = a.agent.id;
  act.agent_name = a.agent.name;
  act.agent_email = a.agent.email;
  store::writes::put_activity(batch, act);
}

// Whether [start, start + duration) is one of the agent's free slots now.
bool bookable(const agent_calendar& a, std::int64_t start, std::int64_t now) {
  if (!may_take_meetings(a)) return false;
  const auto duration = static_cast<std::int64_t>(a.settings->duration_min) * 60'000;
  const auto found = calendar::free_slots(*a.settings, a.busy, {now, start, start + duration, 1});
  return !found.empty() && found.front().start_ms == start;
}

void write_then(scheduler_ptr self, store::write_batch batch, std::function<void(bool)> done) {
  self->request(self->state.ctx.writer, caf::infinite, msg::write_atom::value, std::move(batch))
    .then([done](std::uint64_t) { done(true); }, [done](caf::error&) { done(false); });
}

void load(scheduler_ptr self) {
  auto& st = self->state;
  auto txn = st.ctx.db->read();
  const auto now = now_ms();
  for (auto& agent : store::load_agents(txn)) st.agents[agent.id].agent = std::move(agent);
  for (const auto& c : store::load_calendars(txn))
    if (auto it = st.agents.find(c.agent_id); it != st.agents.end()) apply_calendar(it->second, c);
  for (auto& [id, a] : st.agents) {
    for (auto& m : store::load_agent_meetings(txn, id, now))
      if (occupies(m)) a.meetings.push_back(std::move(m));
    rebuild(a);
  }
  st.committed_turns[""] = store::load_meta(txn, turn_key).value_or("");
  txn.scan_prefix(store::table::meta, routing::rule_turn_prefix, "", [&](std::string_view key, std::string_view agent) {
    st.committed_turns[std::string{key.substr(routing::rule_turn_prefix.size())}] = std::string{agent};
    return true;
  });
  st.book = routing::load_rule_book(txn);
  st.rules = routing::compiled_rules{st.book.rules, st.book.teams, st.book.accounts};
  store::scan_meetings(txn, {}, [&](const store::meeting_record& m) {
    ++st.totals[m.agent_id];
    return true;
  });
}

// A refresh of the connected calendar keeps the settings; a failing one keeps the last
// good busy times too, so a feed that is down never frees an agent's busy hours.
store::calendar_record merged(const store::calendar_record& before, store::calendar_record refresh) {
  refresh.settings_json = before.settings_json;
  if (refresh.status == "failing" && before.refreshed_ms > 0 && refresh.source == before.source &&
      refresh.feed_url == before.feed_url) {
    refresh.busy = before.busy;
    refresh.events = before.events;
    refresh.refreshed_ms = before.refreshed_ms;
  }
  return refresh;
}

caf::result<bool> store_calendar(scheduler_ptr self, store::calendar_record record) {
  auto promise = self->make_response_promise<bool>();
  store::write_batch batch;
  store::writes::put_calendar(batch, record);
  write_then(self, std::move(batch), [=](bool ok) mutable {
    if (!ok) {
      promise.deliver(to_caf_error(protocol::error_code::store_failed));
      return;
    }
    if (auto it = self->state.agents.find(record.agent_id); it != self->state.agents.end())
      apply_calendar(it->second, record);
    promise.deliver(true);
  });
  return promise;
}

// The agent, known here or stored: a REST call right after the agent was created can
// arrive before the directory's word of it does.
agent_calendar* known_agent(scheduler_ptr self, const std::string& agent_id) {
  auto& st = self->state;
  if (auto it = st.agents.find(agent_id); it != st.agents.end()) return &it->second;
  auto txn = st.ctx.db->read();
  auto agent = store::load_agent(txn, agent_id);
  if (!agent) return nullptr;
  auto& a = st.agents[agent_id];
  a.agent = std::move(*agent);
  if (auto c = store::load_calendar(txn, agent_id)) apply_calendar(a, *c);
  return &a;
}

std::string routing_snapshot(scheduler_ptr self) {
  auto& st = self->state;
  std::vector<std::string> ids;
  for (const auto& [id, a] : st.agents) ids.push_back(id);
  const auto now = now_ms();
  auto order = nlohmann::json::array();
  for (const auto& id : routing::meeting_turns(ids, st.last_turn())) {
    const auto& a = st.agents.at(id);
    const auto totals = st.totals.find(id);
    order.push_back({{"agent_id", id},
                     {"name", a.agent.name},
                     {"takes_meetings", a.settings && a.settings->takes_meetings},
                     {"calendar", a.record.source.empty() ? "none" : a.record.status},
                     {"eligible", !slots_of(a, now, 0, 0, 1).empty()},
                     {"meetings", totals == st.totals.end() ? 0 : totals->second},
                     {"upcoming", a.meetings.size()}});
  }
  // Each rule's own turn order (meetings), tried before round robin.
  auto rules = nlohmann::json::array();
  const auto turns = st.rule_turns();
  for (const auto& r : st.rules.rules()) {
    if (r.scope == routing::rule_scope::live_chat) continue;
    rules.push_back({{"rule_id", r.id},
                     {"name", r.name},
                     {"priority", r.priority},
                     {"last_agent_id", st.last_turn(r.id)},
                     {"next", routing::turn_order(st.rules, r, turns)}});
  }
  return nlohmann::json{{"last_agent_id", st.last_turn()}, {"next", order}, {"rules", rules},
                        {"accounts", st.rules.accounts()}}
    .dump();
}

// Account owners, then the rule that matched (routing "rule" only), for this lead.
routing::shortlist shortlist_for(scheduler_ptr self, const std::string& how, const std::map<std::string, std::string>& lead) {
  auto& st = self->state;
  if (how != "rule") return {};
  return routing::make_shortlist(st.rules, lead, routing::rule_scope::meetings, st.rule_turns(),
                                 st.ctx.cfg->routing.agents_tried_per_rule,
                                 [&st](const std::string& id) { return st.agents.count(id) != 0; });
}

msg::slot_offer offer(scheduler_ptr self, const msg::slot_request& req) {
  auto& st = self->state;
  const auto now = now_ms();
  // Eligible: takes meetings, a connected calendar, and a free slot in the range asked.
  auto eligible = [&](const std::string& id) {
    auto it = st.agents.find(id);
    return it != st.agents.end() && !slots_of(it->second, now, req.from_ms, req.to_ms, 1).empty();
  };
  std::string chosen, turn = "none";
  if (req.routing == "agent") {
    if (eligible(req.agent_id)) chosen = req.agent_id;
  } else {
    std::vector<std::string> ids;
    for (const auto& [id, a] : st.agents) ids.push_back(id);
    const auto turns = routing::meeting_turns(ids, st.last_turn());
    if (auto pick = routing::assign(shortlist_for(self, req.routing, req.lead), turns, eligible)) {
      chosen = pick->agent_id;
      if (pick->stage == routing::stage::rule) turn = "rule:" + pick->rule_id;
      else if (pick->stage == routing::stage::round_robin) turn = "round_robin";
    }
  }
  if (chosen.empty()) return {};
  const auto& a = st.agents.at(chosen);
  msg::slot_offer out{chosen, a.agent.name, a.settings->time_zone, {}, turn};
  for (const auto& s : slots_of(a, now, req.from_ms, req.to_ms, req.max_slots))
    out.slots.push_back({slot_id(chosen, s.start_ms), s.start_ms, s.end_ms});
  return out;
}

caf::result<msg::booking_reply> book(scheduler_ptr self, const msg::booking_request& req) {
  auto& st = self->state;
  std::string agent_id;
  std::int64_t start = 0;
  if (!parse_slot_id(req.slot_id, agent_id, start)) return msg::booking_reply{false, "that is not a slot", {}, {}, {}, {}};
  auto it = st.agents.find(agent_id);
  const auto now = now_ms();
  if (it == st.agents.end() || !bookable(it->second, start, now))
    return msg::booking_reply{false, "that time is no longer free", {}, {}, {}, {}};
  auto& a = it->second;
  store::meeting_record m;
  m.id = new_id();
  m.agent_id = agent_id;
  m.start_ms = start;
  m.end_ms = start + static_cast<std::int64_t>(a.settings->duration_min) * 60'000;
  m.time_zone = calendar::known_time_zone(req.time_zone) ? req.time_zone : a.settings->time_zone;
  m.booker_email = req.booker_email;
  m.booker_name = req.booker_name;
  m.conversation_id = req.conversation_id;
  m.dialogue_id = req.dialogue_id;
  m.page_url = req.page_url;
  m.created_ms = m.updated_ms = now;
  const auto token = new_secret();
  m.manage_token_hash = sha256_hex(token);
  insert_meeting(a, m); // taken now: a booking behind this one finds it gone
  st.changing.insert(m.id);

  store::write_batch batch;
  store::writes::put_meeting(batch, m, nullptr);
  auto invites = queue_invites(batch, m, a);
  queue_activity(batch, m, a);
  // The turn this booking moves on: round robin's, the rule's that shortlisted the agent,
  // or none (a named agent, an account's owner).
  // The offer said which (the turns may have moved since it was made); else it is worked
  // out from the lead now.
  std::string offered_turn = req.turn;
  if (offered_turn.empty() && req.routing != "agent") {
    const auto how = routing::classify(shortlist_for(self, req.routing, req.lead), agent_id);
    offered_turn = how.stage == routing::stage::rule      ? "rule:" + how.rule_id
                   : how.stage == routing::stage::account ? "none"
                                                          : "round_robin";
  }
  const bool takes_turn = offered_turn == "round_robin" || offered_turn.rfind("rule:", 0) == 0;
  const auto turn = offered_turn.rfind("rule:", 0) == 0 ? offered_turn.substr(5) : std::string{};
  if (takes_turn) {
    st.turns_in_flight.push_back({m.id, turn, agent_id});
    store::writes::put_meta(batch, turn.empty() ? std::string{turn_key} : routing::rule_turn_key(turn), agent_id);
  }
  auto promise = self->make_response_promise<msg::booking_reply>();
  write_then(self, std::move(batch), [=](bool ok) mutable {
    auto& s = self->state;
    s.changing.erase(m.id);
    if (takes_turn) { // the writer answers in order: a stored turn is the latest stored
      auto& flying = s.turns_in_flight;
      flying.erase(std::remove_if(flying.begin(), flying.end(), [&](const auto& t) { return t.meeting_id == m.id; }),
                   flying.end());
      if (ok) s.committed_turns[turn] = agent_id;
    }
    auto found = s.agents.find(agent_id);
    if (!ok) {
      if (found != s.agents.end()) remove_meeting(found->second, m.id);
      promise.deliver(to_caf_error(protocol::error_code::store_failed));
      return;
    }
    ++s.totals[agent_id];
    hand_to_mailer(self, std::move(invites));
    const auto& agent = found != s.agents.end() ? found->second.agent : store::agent_record{};
    promise.deliver(msg::booking_reply{true, {}, m, token, agent.name, agent.email});
  });
  return promise;
}

// A change to a stored meeting: cancelled, moved to `new_slot`, or marked completed or
// no_show (`new_status`). A cancellation or a move sends the invite again with the next
// SEQUENCE. Memory only ever gains busy time before the write commits: a move holds its
// new time at once, but its old time (or a cancelled meeting's) is freed once stored, so
// a failed write never leaves a time that was given away meanwhile booked twice.
caf::result<msg::booking_reply> change(scheduler_ptr self, const std::string& meeting_id, const std::string& new_slot,
                                       const std::string& new_status = {}) {
  auto& st = self->state;
  if (st.changing.count(meeting_id))
    return msg::booking_reply{false, "another change to this meeting is being stored; try again", {}, {}, {}, {}};
  auto before = store::load_meeting(st.ctx.db->read(), meeting_id);
  if (!before) return to_caf_error(protocol::error_code::not_found);
  if (!active(*before)) return msg::booking_reply{false, "the meeting is " + before->status, *before, {}, {}, {}};
  auto it = st.agents.find(before->agent_id);
  if (it == st.agents.end()) return msg::booking_reply{false, "the meeting's agent is gone", *before, {}, {}, {}};
  auto& a = it->second;
  auto m = *before;
  const auto now = now_ms();
  if (!new_status.empty()) {
    m.status = new_status; // completed or no_show: it keeps its time
  } else if (new_slot.empty()) {
    m.status = "cancelled";
  } else {
    std::string agent_id;
    std::int64_t start = 0;
    if (!parse_slot_id(new_slot, agent_id, start) || agent_id != m.agent_id)
      return msg::booking_reply{false, "a meeting moves to another slot of the same agent", *before, {}, {}, {}};
    remove_meeting(a, m.id); // its own time is free for itself, for this check only
    const bool free = bookable(a, start, now);
    insert_meeting(a, *before);
    if (!free) return msg::booking_reply{false, "that time is no longer free", *before, {}, {}, {}};
    m.status = "rescheduled";
    m.end_ms = start + (m.end_ms - m.start_ms);
    m.start_ms = start;
    a.moving.emplace_back(m.id, calendar::interval{m.start_ms, m.end_ms});
    rebuild(a);
  }
  if (new_status.empty()) m.sequence += 1;
  m.updated_ms = now;
  store::write_batch batch;
  store::writes::put_meeting(batch, m, &*before);
  std::vector<store::invite_delivery> invites;
  if (m.status != "completed" && m.status != "no_show") invites = queue_invites(batch, m, a); // what the invitees see changed
  queue_activity(batch, m, a);
  auto promise = self->make_response_promise<msg::booking_reply>();
  st.changing.insert(m.id);
  write_then(self, std::move(batch), [=](bool ok) mutable {
    auto& s = self->state;
    s.changing.erase(m.id);
    if (auto found = s.agents.find(m.agent_id); found != s.agents.end()) {
      auto& held = found->second.moving;
      held.erase(std::remove_if(held.begin(), held.end(), [&](const auto& h) { return h.first == m.id; }), held.end());
      if (ok) remove_meeting(found->second, m.id); // rebuilds: a failed move gives its new time back
      if (ok && occupies(m)) insert_meeting(found->second, m);
      if (!ok) rebuild(found->second);
    }
    if (!ok) {
      promise.deliver(to_caf_error(protocol::error_code::store_failed));
      return;
    }
    hand_to_mailer(self, std::move(invites));
    promise.deliver(msg::booking_reply{true, {}, m, {}, {}, {}});
  });
  return promise;
}

// A change that reads the store first: a store that cannot be read answers store_failed
// instead of ending the scheduler.
template <class Fn>
caf::result<msg::booking_reply> guarded(scheduler_ptr, Fn&& fn) {
  return guard_store(fn, [](const store::store_error& e) -> caf::result<msg::booking_reply> {
    spdlog::error("scheduler: the store could not be read: {}", e.what());
    return to_caf_error(protocol::error_code::store_failed);
  });
}

} // namespace

bool parse_slot_id(const std::string& id, std::string& agent_id, std::int64_t& start_ms) {
  const auto colon = id.find(':');
  if (colon == std::string::npos || !is_id(std::string_view{id}.substr(0, colon))) return false;
  const char* first = id.data() + colon + 1;
  const char* last = id.data() + id.size();
  auto [end, ec] = std::from_chars(first, last, start_ms);
  if (ec != std::errc{} || end != last || first == last || start_ms < 0) return false;
  agent_id = id.substr(0, colon);
  return true;
}

scheduler_actor spawn_scheduler(caf::actor_system& sys, const actor_context& ctx) {
  return sys.spawn([ctx](scheduler_ptr self) -> scheduler_actor::behavior_type {
    self->state.ctx = ctx;
    load(self);
    return {
      [=](msg::slots_atom, const msg::slot_request& req) { return offer(self, req); },
      [=](msg::book_atom, const msg::booking_request& req) { return book(self, req); },
      [=](msg::cancel_atom, const std::string& meeting_id) {
        return guarded(self, [&] { return change(self, meeting_id, {}); });
      },
      [=](msg::reschedule_atom, const std::string& meeting_id, const std::string& slot) {
        return guarded(self, [&] { return change(self, meeting_id, slot); });
      },
      [=](msg::meetings_atom, const std::string& meeting_id, const std::string& status) -> caf::result<msg::booking_reply> {
        if (status != "completed" && status != "no_show")
          return msg::booking_reply{false, "a meeting is marked completed or no_show", {}, {}, {}, {}};
        return guarded(self, [&] { return change(self, meeting_id, {}, status); });
      },
      [=](msg::calendar_atom, const std::string& agent_id, const std::string& settings_json) -> caf::result<bool> {
        auto* a = guard_store([&] { return known_agent(self, agent_id); }, [](const store::store_error&) -> agent_calendar* {
          return nullptr;
        });
        if (!a) return to_caf_error(protocol::error_code::not_found);
        auto record = a->record;
        record.agent_id = agent_id;
        record.settings_json = settings_json;
        return store_calendar(self, std::move(record));
      },
      [=](msg::calendar_atom, store::calendar_record refresh) -> caf::result<bool> {
        auto* a = guard_store([&] { return known_agent(self, refresh.agent_id); },
                              [](const store::store_error&) -> agent_calendar* { return nullptr; });
        if (!a) return to_caf_error(protocol::error_code::not_found);
        return store_calendar(self, merged(a->record, std::move(refresh)));
      },
      [=](msg::meetings_atom) { return routing_snapshot(self); },
      [=](msg::rules_atom, const std::string& part) {
        auto& st = self->state;
        const bool read = guard_store([&] { return routing::reload_part(st.book, st.ctx.db->read(), part); },
                                      [&](const store::store_error& e) {
                                        spdlog::error("scheduler: the rule book's {} could not be read: {}", part, e.what());
                                        return false;
                                      });
        if (read) st.rules = routing::compiled_rules{st.book.rules, st.book.teams, st.book.accounts};
      },
      [=](msg::aadded_atom, store::agent_record record) {
        auto& a = self->state.agents[record.id];
        a.agent = std::move(record);
      },
      [=](msg::aremoved_atom, const std::string& id) { self->state.agents.erase(id); },
      [=](msg::shutdown_atom) { self->quit(); },
    };
  });
}

} // namespace dynchat
