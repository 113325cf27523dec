// Data flow of one conversation:
//
//   socket frame ──► log.append ──► flush(): the durable log forms one write batch
//                                     │  (seqs assigned there, so a failed batch
//                                     │   leaves no gap: its seqs are reused)
//   store writer commit ◄─────────────┘
//        │
//        └──► on_batch_done(): ack the senders, send `message` to the visitor's other
//             sockets and to the agent, then run the callbacks queued with the batch.
//
// What the conversation does next is the engine's: every event becomes an engine input,
// and this actor carries out the outputs (messages, hand-over, end, errors) in order.
#include "actors/visitor_session.hpp"

#include <algorithm>
#include <deque>
#include <set>

#include <caf/all.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actors/meeting_messages.hpp"
#include "actors/messages.hpp"
#include "actors/replay.hpp"
#include "dynchat/conversation/durable_log.hpp"
#include "dynchat/conversation/output_pacer.hpp"
#include "dynchat/store/leads.hpp"
#include "dynchat/calendar/settings.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/dialogue/tokens.hpp"
#include "dynchat/engine/start_flow.hpp"
#include "dynchat/engine/step.hpp"
#include "dynchat/protocol/server_frames.hpp"
#include "dynchat/site/config.hpp"
#include "dynchat/store/tables.hpp"
#include "dynchat/store/writes.hpp"

namespace dynchat {
namespace {

// In a flow's cursor: when this run was triggered (its report row's key).
constexpr std::string_view flow_run_key = "run:triggered_ms";

using protocol::error_code;
using store::conversation_phase;

// One of the visitor's sockets (several tabs may be open) and what it has been sent.
struct visitor_socket {
  net::sink_ptr sink;
  delivery_cursor cursor = delivery_cursor::live_after(0);
  bool awaiting_drain = false; // a replay page is out; the next waits for the queue
};

// Who an output answers: the socket and message id that get the error of a `reject`.
struct output_origin {
  net::sink_ptr sender;
  protocol::client_msg_id id;
};

struct visitor_session_state {
  actor_context ctx;
  store::conversation_record conv;
  std::unique_ptr<conversation::durable_log> log;
  engine::cursor cursor;
  dialogue::definition_ptr dialogue;          // the pinned version, for a dialogue cursor
  std::optional<store::dialogue_visit> visit; // the dialogue's row, rewritten when a fact changes
  engine::lead lead;                          // what the flow knows of the visitor
  std::map<std::string, std::string> captured; // what the visitor told the flow: written back to Marketo
  std::shared_ptr<const site::config> site;   // the configuration of the latest step
  std::string agent_email;                    // the agent's, for the outbox
  std::string time_zone;                      // the visitor's, as their client said when booking
  // The turn each agent's last offered times move on when booked (slot_offer::turn): a
  // turn that moved since the offer does not change which one a booking takes.
  std::map<std::string, std::string> offer_turns;
  bool dropped = false;                       // engaged, and left before completing
  std::set<std::string> opened;               // documents whose opening is recorded
  std::int64_t last_run_ms = 0;               // a flow run's trigger time, unique in this conversation
  std::optional<store::live_chat_visit> live; // the current request for an agent, for the reports
  std::string fresh_token;
  std::vector<visitor_socket> sockets;
  agent_actor agent;
  std::string agent_name;
  conversation::output_pacer<output_origin> pacer; // the engine's outputs, paced by typing delays
  bool quitting = false;
  bool stopping = false; // the process is shutting down: write what is held, then quit
  bool never_stored = false; // new, and its first batch not committed yet
  std::uint64_t grace_gen = 0;
  std::uint64_t idle_gen = 0;
  std::int64_t last_activity_ms = 0;
  std::chrono::milliseconds write_backoff{0}; // after failed batches: doubles, up to a cap
  bool write_retry_armed = false;
  static inline const char* name = "visitor_session";
};

using session_ptr = session_actor::stateful_pointer<visitor_session_state>;

msg::visitor_summary summary(const store::conversation_record& c) {
  return {c.visitor_id, c.id, c.page_url, c.referrer, c.email};
}

void send_to_visitors(session_ptr self, const protocol::outbound_frame& frame) {
  for (auto& s : self->state.sockets) s.sink->send(frame);
}

void send_error(session_ptr self, const net::sink_ptr& sink, error_code code, std::string_view text,
                const protocol::client_msg_id& id = {}) {
  if (!sink) return;
  sink->send(protocol::make_error(code, text, id));
  self->state.ctx.stats->errors_sent++;
}

visitor_socket* socket_of(session_ptr self, std::uint64_t conn) {
  for (auto& s : self->state.sockets)
    if (s.sink->id() == conn) return &s;
  return nullptr;
}

net::sink_ptr sink_of(session_ptr self, std::uint64_t conn) {
  auto* s = socket_of(self, conn);
  return s ? s->sink : nullptr;
}

page_budget budget(session_ptr self) { return replay_budget(*self->state.ctx.cfg, net::endpoint::visitor); }

// Sends the next replay page to a socket that is behind, then waits for its queue to
// drain before the next: a long absence never overflows it.
void pump(session_ptr self, std::uint64_t conn) {
  auto* s = socket_of(self, conn);
  if (!s || s->awaiting_drain || s->cursor.live()) return;
  if (send_next_page(*self->state.ctx.db, s->sink, self->state.conv.id, s->cursor, budget(self))) return;
  s->awaiting_drain = true;
  s->sink->when_drained([me = caf::actor_cast<session_actor>(self), conn] { caf::anon_send(me, msg::drained_atom::value, conn); });
}

void flush(session_ptr self);
void retry_later(session_ptr self);

void maybe_quit(session_ptr self) {
  // Outputs held back by a typing delay go out first.
  if (self->state.quitting && self->state.log->idle() && self->state.pacer.idle()) self->quit();
}

void on_batch_done(session_ptr self, bool ok) {
  auto& st = self->state;
  auto done = st.log->settle(ok);
  for (auto& m : done.messages) {
    if (!ok) {
      for (auto& ack : m.acks) ack(std::nullopt);
      continue;
    }
    st.ctx.stats->messages_stored++;
    for (auto& ack : m.acks) {
      st.ctx.stats->acks_sent++;
      ack(m.seq);
    }
    const protocol::outbound_frame frame =
      protocol::outbound_frame::message(
        {st.conv.id, m.seq, m.rec.from, m.rec.text, m.rec.ts_ms, m.rec.agent_name, &m.rec.prompt});
    for (auto& s : st.sockets) {
      switch (s.cursor.on_live(m.seq)) {
        case delivery_cursor::verdict::send:
          if (s.sink->id() != m.origin_conn) s.sink->send(frame); // the sender has its ack
          break;
        case delivery_cursor::verdict::catch_up: pump(self, s.sink->id()); break;
        case delivery_cursor::verdict::skip: break;
      }
    }
    if (st.agent) self->send(st.agent, msg::deliver_atom::value, msg::to_chat_message(st.conv.id, m.seq, m.rec), m.origin_conn);
  }
  for (auto& cb : done.callbacks) cb(ok);
  if (ok) st.never_stored = false;
  if (!ok && st.never_stored) {
    // Nobody was told of it (its welcome waited for this batch): it ends here, and
    // nothing of it is written later, so no agent is offered a visitor who is gone.
    spdlog::warn("conversation {}: its first write failed; the conversation is dropped", st.conv.id);
    if (st.conv.phase == conversation_phase::waiting) self->send(st.ctx.router, msg::cancel_atom::value, st.conv.id);
    if (st.conv.phase == conversation_phase::live) { // accepted before the failure came back: the seat goes back
      self->send(st.ctx.router, msg::release_atom::value, st.conv.agent_id, st.conv.id);
      if (st.agent) self->send(st.agent, msg::ended_atom::value, st.conv.id, std::string{"store_failed"});
    }
    auto dropped = st.log->abandon();
    for (auto& m : dropped.messages)
      for (auto& ack : m.acks) ack(std::nullopt);
    for (auto& cb : dropped.callbacks) cb(false); // the socket waiting for its welcome hears why
    self->quit();
    return;
  }
  if (!ok && st.stopping) {
    // No back-off at shutdown: what failed was never acked, and the process must end.
    spdlog::error("conversation {}: the store failed while stopping; its unacked changes are not written", st.conv.id);
    self->quit();
    return;
  }
  if (ok) {
    st.write_backoff = std::chrono::milliseconds{0};
    flush(self);
  } else {
    retry_later(self);
  }
  maybe_quit(self);
}

// What a failed batch leaves (the record, its index rows) is written again after a
// back-off, not at once: a store that keeps failing must not spin the session and the
// writer. A message sent meanwhile writes at once (its sender is told if it fails).
void retry_later(session_ptr self) {
  auto& st = self->state;
  constexpr std::chrono::milliseconds first{50}, cap{5000};
  st.write_backoff = st.write_backoff.count() == 0 ? first : std::min(cap, st.write_backoff * 2);
  if (st.write_retry_armed) return;
  st.write_retry_armed = true;
  self->delayed_send(self, st.write_backoff, msg::write_retry_atom::value);
}

void flush(session_ptr self) {
  auto& st = self->state;
  auto next = st.log->next(st.conv, now_ms());
  for (auto& cb : next.ready) cb(true);
  if (!next.batch) return;
  self->request(st.ctx.writer, caf::infinite, msg::write_atom::value, std::move(*next.batch))
    .then([=](std::uint64_t) { on_batch_done(self, true); },
          [=](caf::error& err) {
            spdlog::warn("conversation {}: write failed: {}", self->state.conv.id, to_string(err));
            on_batch_done(self, false);
          });
}

void after_commit(session_ptr self, conversation::commit_fn cb) { self->state.log->after_commit(std::move(cb)); }

void mark_dirty(session_ptr self) { self->state.log->mark_record_dirty(); }

// The sender's ack: a frame on its socket, or the agent's response.
conversation::ack_fn socket_ack(session_ptr self, net::sink_ptr sink, protocol::client_msg_id id) {
  return [self, sink = std::move(sink), id = std::move(id)](std::optional<std::uint64_t> seq) {
    if (!sink) return;
    if (seq) sink->send(protocol::outbound_frame::ack(self->state.conv.id, id, *seq));
    else send_error(self, sink, error_code::store_failed, "the message could not be stored; send it again", id);
  };
}
conversation::ack_fn promise_ack(caf::typed_response_promise<std::uint64_t> promise) {
  return [promise](std::optional<std::uint64_t> seq) mutable {
    if (seq) promise.deliver(*seq);
    else promise.deliver(to_caf_error(error_code::store_failed));
  };
}

// agent_name: set on notices about an agent, so clients can tell who joined.
void enqueue_line(session_ptr self, std::string from, std::string text, std::string agent_name = {},
                  protocol::bot_prompt prompt = {}) {
  store::message_record rec;
  rec.from = std::move(from);
  rec.text = std::move(text);
  rec.agent_name = std::move(agent_name);
  rec.prompt = std::move(prompt);
  rec.ts_ms = now_ms();
  self->state.log->append({std::move(rec), {}, {}, 0, 0});
}

// A repeated client_msg_id: attach to the in-flight copy or answer from the store.
bool absorb_duplicate(session_ptr self, const std::string& sender, const std::string& client_msg_id,
                      conversation::ack_fn ack) {
  auto& st = self->state;
  if (st.log->attach_duplicate(sender, client_msg_id, ack)) {
    st.ctx.stats->duplicate_messages++;
    return true;
  }
  if (!st.log->maybe_committed(sender, client_msg_id)) return false; // certainly new: no store read
  // The store could not be read: the sender hears its message was not stored (it sends
  // it again), rather than risking a second copy.
  auto seq = guard_store(
    [&]() -> std::optional<std::uint64_t> {
      auto txn = st.ctx.db->read();
      return store::find_client_msg(txn, st.conv.id, sender, client_msg_id);
    },
    [&](const store::store_error& e) -> std::optional<std::uint64_t> {
      spdlog::error("conversation {}: the duplicate check could not read the store: {}", st.conv.id, e.what());
      ack(std::nullopt);
      return 0;
    });
  if (!seq) return false;
  if (*seq == 0) return true; // answered with the failure
  st.ctx.stats->duplicate_messages++;
  st.ctx.stats->acks_sent++;
  ack(*seq);
  return true;
}

void schedule_idle_check(session_ptr self, std::chrono::milliseconds after) {
  self->delayed_send(self, after, msg::idle_atom::value, ++self->state.idle_gen);
}

void touch(session_ptr self) { self->state.last_activity_ms = now_ms(); }

// The router (again, after a restart, it has the conversation from the store) learns
// this actor is the one to tell.
void send_request(session_ptr self) {
  auto& st = self->state;
  self->send(st.ctx.router, msg::request_atom::value,
             msg::chat_request{st.conv.id, caf::actor_cast<session_actor>(self), summary(st.conv), st.conv.requested_ms,
                               st.lead.attributes});
}

// The rows that let a restart find this conversation again: `open_conversations` while
// it waits or is live, `waiting` (in request order) while it waits.
void set_open(session_ptr self, bool open) {
  store::writes::set_open(self->state.log->rows(), self->state.conv.id, open);
}
void set_waiting(session_ptr self, bool waiting) {
  auto& st = self->state;
  store::writes::set_waiting(st.log->rows(), st.conv.requested_ms, st.conv.id, waiting);
}

// The request's row follows it: asked, taken, the agent's first answer, the end.
void record_live_chat(session_ptr self, const std::function<void(store::live_chat_visit&)>& change) {
  auto& st = self->state;
  if (!st.live) return;
  auto v = *st.live;
  change(v);
  if (v == *st.live) return;
  st.live = std::move(v);
  store::writes::put_live_chat(st.log->rows(), *st.live);
}

void request_agent(session_ptr self) {
  auto& st = self->state;
  if (st.conv.phase == conversation_phase::waiting || st.conv.phase == conversation_phase::live) return;
  // A hand-over held by a typing delay and let out as the session quits (its visitor gone,
  // or the process stopping) would leave a request nobody answers.
  if (st.quitting || st.stopping) return;
  st.conv.phase = conversation_phase::waiting;
  st.conv.requested_ms = now_ms();
  st.live = store::live_chat_visit{st.conv.id, st.conv.requested_ms, 0, 0, 0, {}, {}, !st.conv.email.empty()};
  if (st.dialogue) st.live->dialogue_id = st.cursor.flow_id;
  store::writes::put_live_chat(st.log->rows(), *st.live);
  st.conv.end_reason.clear();
  st.conv.queue_notice = 0;
  mark_dirty(self);
  set_open(self, true);
  set_waiting(self, true);
  send_request(self);
}

// The flow takes its request back while it waits (a live chat card's fallback): the
// conversation is the bot's again. Once an agent holds it, it stays theirs.
void withdraw_request(session_ptr self) {
  auto& st = self->state;
  if (st.conv.phase != conversation_phase::waiting) return;
  self->send(st.ctx.router, msg::cancel_atom::value, st.conv.id);
  set_waiting(self, false);
  set_open(self, false);
  st.conv.phase = conversation_phase::bot;
  mark_dirty(self);
  record_live_chat(self, [](auto& v) { v.ended_ms = now_ms(); }); // never taken: missed
}

void end_chat(session_ptr self, const std::string& reason);

// ---- the engine ----

// Sets off the flow's timers the cursor did not have before (on the actor clock).
void arm_timers(session_ptr self, const std::vector<engine::pending_timer>& before) {
  for (const auto& t : self->state.cursor.timers) {
    if (std::find(before.begin(), before.end(), t) != before.end()) continue;
    const auto wait = std::max<std::int64_t>(0, t.due_ms - now_ms());
    self->delayed_send(self, std::chrono::milliseconds{wait}, msg::flow_timer_atom::value, t.name, t.due_ms);
  }
}

void carry_out(session_ptr self, std::vector<engine::output> outputs, const net::sink_ptr& sender,
               const protocol::client_msg_id& id);

// The configuration as it is now: a PUT /v1/config reaches conversations at their next step.
engine::context engine_context(session_ptr self) {
  auto& st = self->state;
  if (st.ctx.site) st.site = st.ctx.site->current();
  engine::context c;
  c.visitor_lead = &st.lead;
  c.now_ms = now_ms();
  c.dialogue = st.dialogue.get();
  c.response_delay_ms = st.site ? st.site->response_delay_ms : st.ctx.cfg->chat.bot_response_delay_ms;
  c.blocked_email_domains = st.site ? &st.site->blocked_email_domains : nullptr;
  c.time_zone = st.time_zone;
  if (st.ctx.agent_room) // as the router last saw it: a hint, the router still decides who takes a chat
    c.agents = st.ctx.agent_room->load(std::memory_order_relaxed) ? engine::agent_availability::some_available
                                                                  : engine::agent_availability::none_available;
  return c;
}

// ---- the Marketo outbox ----

std::string conversation_status(session_ptr self) {
  const auto& st = self->state;
  if (st.cursor.completed) return "completed";
  return st.dropped ? "dropped" : "initiated";
}

// One row of the outbox, with what the conversation knows now; its kind and name are its
// key, so writing it again updates it.
void record_activity(session_ptr self, std::string kind, std::string name = {}, std::int64_t first_ms = 0,
                     std::uint8_t score = 0) {
  auto& st = self->state;
  store::activity_record a;
  a.kind = std::move(kind);
  a.name = std::move(name);
  a.updated_ms = now_ms();
  a.ts_ms = first_ms ? first_ms : a.updated_ms;
  a.conversation_id = st.conv.id;
  a.visitor_id = st.conv.visitor_id;
  a.email = st.conv.email;
  a.page_url = st.conv.page_url;
  if (st.dialogue) {
    a.dialogue_id = st.cursor.flow_id;
    a.dialogue_name = st.dialogue->name;
  }
  a.status = conversation_status(self);
  a.score = score ? score : st.conv.score;
  a.agent_id = st.conv.agent_id;
  a.agent_name = st.agent_name;
  a.agent_email = st.agent_email;
  store::writes::put_activity(st.log->rows(), a);
}

// The dialogue's engagement row: written at the first answer, rewritten as the status moves.
void record_engagement(session_ptr self) {
  const auto& st = self->state;
  if (!st.visit || st.visit->engaged_ms == 0) return;
  // A flow has its own activity, once per flow in a conversation however often it runs.
  if (st.cursor.flow == engine::flow_kind::conversational_flow)
    record_activity(self, "flow_engaged", st.cursor.flow_id, st.visit->engaged_ms);
  else
    record_activity(self, "dialogue_engaged", {}, st.visit->engaged_ms);
}

// The dialogue's row follows the cursor: engaged at the first answer, completed at a
// goal, an end or a hand-over, acquired at a valid email, goals as they are reached.
void record_visit(session_ptr self) {
  auto& st = self->state;
  if (!st.visit) return;
  auto v = *st.visit;
  const auto& c = st.cursor;
  if (v.triggered_ms == 0) { // a dialogue waiting for the page's events triggers when it shows
    if (!c.started_shown) return;
    v.triggered_ms = now_ms();
  }
  if (c.engaged && v.engaged_ms == 0) v.engaged_ms = now_ms();
  if (c.completed && v.completed_ms == 0) v.completed_ms = now_ms();
  v.acquired = c.answers.count("acquired:email") > 0;
  v.goals = static_cast<std::uint32_t>(std::count_if(c.answers.begin(), c.answers.end(),
                                                     [](const auto& a) { return a.first.rfind("goal:", 0) == 0; }));
  if (v == *st.visit) return;
  const bool status_moved = (v.engaged_ms != 0) != (st.visit->engaged_ms != 0) ||
                            (v.completed_ms != 0) != (st.visit->completed_ms != 0);
  st.visit = std::move(v);
  if (c.flow == engine::flow_kind::conversational_flow) store::writes::put_flow_run(st.log->rows(), *st.visit);
  else store::writes::put_dialogue_visit(st.log->rows(), *st.visit);
  if (status_moved) record_engagement(self);
}

// Feeds one input to the engine and carries out what it answers. `sender` and `id`
// are who gets an error when the engine refuses the input.
void feed(session_ptr self, const engine::input& input, const net::sink_ptr& sender = nullptr,
          const protocol::client_msg_id& id = {}) {
  auto& st = self->state;
  auto result = engine::step(st.cursor, input, engine_context(self));
  if (!(result.cursor == st.cursor)) {
    auto before = std::move(st.cursor.timers);
    st.cursor = std::move(result.cursor);
    st.conv.flow_cursor = engine::encode(st.cursor);
    mark_dirty(self);
    arm_timers(self, before);
    record_visit(self);
  }
  carry_out(self, std::move(result.outputs), sender, id);
}

// What a bot message asks, as stored and sent.
protocol::bot_prompt prompt_of(const engine::out::bot_message& m) {
  protocol::bot_prompt prompt;
  for (const auto& o : m.options) prompt.options.push_back({o.label, o.value});
  prompt.input = m.input_kind;
  prompt.placeholder = m.placeholder;
  prompt.link = m.link;
  for (const auto& slot : m.slots) prompt.slots.push_back({slot.id, slot.start_ms, slot.end_ms});
  prompt.slots_agent = m.slots_agent;
  return prompt;
}

// A button pressed or a meeting time chosen: stored as the visitor's line (`label`, what
// they saw), acked, and fed to the flow once stored, as a typed answer is. Not offered
// now (no label): the engine says so, and asks again.
void take_pick(session_ptr self, std::uint64_t conn, const net::sink_ptr& sink, const protocol::client_msg_id& id,
               const engine::in::choice& pick, std::optional<std::string> label) {
  auto& st = self->state;
  if (!label) {
    feed(self, pick, sink, id);
    flush(self);
    return;
  }
  touch(self);
  store::message_record rec{"visitor", std::move(*label), now_ms(), id.text, {}, {}, {}};
  st.log->append({std::move(rec), "visitor", {socket_ack(self, sink, id)}, conn, 0});
  after_commit(self, [=](bool ok) {
    if (!ok) return;
    feed(self, pick, sink, id);
    flush(self);
  });
  flush(self);
}

// ---- meetings: the scheduler finds the times and books them ----

// Free times, fed back to the flow as slots_found: none when nobody is eligible or the
// scheduler cannot say.
void find_slots(session_ptr self, msg::slot_request req, bool shared) {
  auto& st = self->state;
  if (!st.ctx.scheduler) return feed(self, engine::in::slots_found{{}, {}, {}, shared});
  req.lead = st.lead.attributes; // account routing and rules read the lead
  req.max_slots = st.ctx.cfg->chat.meeting_slots_shown;
  self->request(st.ctx.scheduler, std::chrono::seconds{10}, msg::slots_atom::value, req)
    .then(
      [=](const msg::slot_offer& offer) {
        if (!offer.agent_id.empty()) self->state.offer_turns[offer.agent_id] = offer.turn;
        engine::in::slots_found found{offer.agent_id, offer.agent_name, {}, shared};
        for (const auto& s : offer.slots) found.slots.push_back({s.id, s.start_ms, s.end_ms});
        feed(self, found);
        flush(self);
      },
      [=](caf::error& e) {
        spdlog::warn("conversation {}: no meeting times: {}", self->state.conv.id, caf::to_string(e));
        feed(self, engine::in::slots_found{{}, {}, {}, shared});
        flush(self);
      });
}

void book_slot(session_ptr self, const engine::out::book& b) {
  auto& st = self->state;
  if (!st.ctx.scheduler) return feed(self, engine::in::booking_result{false, {}, "meetings are not booked here", {}, {}, 0});
  msg::booking_request req;
  req.slot_id = b.slot_id;
  req.routing = b.routing_hint == "agent" || b.routing_hint == "rule" ? b.routing_hint : "round_robin";
  req.lead = st.lead.attributes;
  if (auto colon = b.slot_id.find(':'); colon != std::string::npos)
    if (auto it = st.offer_turns.find(b.slot_id.substr(0, colon)); it != st.offer_turns.end()) req.turn = it->second;
  req.booker_email = st.conv.email;
  if (auto it = st.lead.attributes.find("firstName"); it != st.lead.attributes.end()) req.booker_name = it->second;
  req.time_zone = st.time_zone;
  req.conversation_id = st.conv.id;
  if (st.cursor.flow != engine::flow_kind::live_chat) req.dialogue_id = st.cursor.flow_id;
  req.page_url = st.conv.page_url;
  self->request(st.ctx.scheduler, std::chrono::seconds{10}, msg::book_atom::value, req)
    .then(
      [=](const msg::booking_reply& r) {
        feed(self, engine::in::booking_result{r.booked, r.meeting.id, r.problem, r.agent_name, r.agent_email,
                                              r.meeting.start_ms});
        flush(self);
      },
      [=](caf::error& e) {
        spdlog::warn("conversation {}: a booking failed: {}", self->state.conv.id, caf::to_string(e));
        feed(self, engine::in::booking_result{false, {}, "the booking could not be stored", {}, {}, 0});
        flush(self);
      });
}

// An attribute the visitor gave, for Marketo: written with the conversation's next batch,
// delivered by the Marketo sync (createOrUpdate by email).
void queue_lead_update(session_ptr self, const std::string& name, const std::string& value) {
  auto& st = self->state;
  if (!st.ctx.marketo || st.conv.email.empty()) return;
  store::writes::put_lead_update(st.log->rows(), {st.conv.email, name, value, now_ms(), st.conv.id});
}

// The synced lead's fields join what the flow knows; what the visitor said in this chat
// stays on top (it is newer than any sync).
void merge_lead(session_ptr self, const std::map<std::string, std::string>& fields) {
  auto& st = self->state;
  for (const auto& [k, v] : fields)
    if (!st.captured.count(k)) st.lead.attributes[k] = v;
  if (auto it = fields.find("email"); it != fields.end() && st.conv.email.empty() && !it->second.empty()) {
    st.conv.email = it->second; // known by the tracking cookie
    mark_dirty(self);
  }
  st.lead.known = !st.conv.email.empty();
}

// The local copy first; a lead missing here is looked up in Marketo, without holding the
// conversation up (its fields arrive for the steps after the answer).
void look_up_lead(session_ptr self, const std::string& email, const std::string& cookie) {
  auto& st = self->state;
  if (!email.empty()) {
    auto txn = st.ctx.db->read();
    if (auto lead = store::find_lead_by_email(txn, email)) {
      auto schema = store::load_lead_schema(txn, lead->schema);
      merge_lead(self, store::lead_attributes(*lead, schema ? *schema : store::lead_schema{}));
      return;
    }
  }
  if (!st.ctx.marketo || (email.empty() && cookie.empty())) return;
  self->request(st.ctx.marketo, std::chrono::milliseconds{st.ctx.cfg->marketo.lookup_timeout_ms}, msg::mlead_atom::value,
                email, cookie)
    .then([self](const msg::lead_found& found) {
            if (!found.found || self->state.quitting) return;
            merge_lead(self, found.attributes);
            flush(self); // a visitor known by the cookie: its email is the conversation's now
          },
          [](caf::error&) {}); // not found in time: the conversation goes on with what it knows
}

struct output_interpreter {
  session_ptr self;
  const net::sink_ptr& sender;
  const protocol::client_msg_id& id;

  void operator()(const engine::out::bot_message& m) { enqueue_line(self, "bot", m.text, {}, prompt_of(m)); }
  void operator()(const engine::out::notice& n) { enqueue_line(self, "system", n.text, n.agent_name); }
  void operator()(const engine::out::hand_over&) { request_agent(self); }
  void operator()(const engine::out::withdraw&) { withdraw_request(self); }
  void operator()(const engine::out::end&) { end_chat(self, "flow"); }
  void operator()(const engine::out::reject& r) { send_error(self, sender, r.code, r.text, id); }
  void operator()(const engine::out::typing&) {} // carry_out paces these
  // What the visitor told the flow is theirs from the next card on; an email also shows
  // to agents, and makes the visitor known.
  void operator()(const engine::out::set_attribute& a) {
    auto& st = self->state;
    st.lead.attributes[a.name] = a.value;
    st.captured[a.name] = a.value;
    if (a.name == "email" && st.conv.email != a.value) {
      st.conv.email = a.value;
      st.lead.known = true;
      mark_dirty(self);
      // Known from now on: what was captured before goes to Marketo with the email, and
      // the lead Marketo may have for it joins what the flow knows.
      for (const auto& [name, value] : st.captured) queue_lead_update(self, name, value);
      look_up_lead(self, a.value, {});
    } else if (!st.conv.email.empty()) {
      queue_lead_update(self, a.name, a.value);
    }
  }
  // Counted in the dialogue's row (record_visit); an activity, and the conversation score.
  void operator()(const engine::out::goal& g) {
    auto& st = self->state;
    if (g.score > 0 && g.score != st.conv.score) {
      st.conv.score = g.score;
      mark_dirty(self);
    }
    record_activity(self, "goal_reached", g.name, 0, g.score);
  }
  // Activities go to the Marketo outbox, which the Marketo issue adds.
  void operator()(const engine::out::activity& a) {
    spdlog::debug("conversation {}: activity {} {}", self->state.conv.id, a.kind, a.detail);
  }
  void operator()(const engine::out::ask_slots& a) {
    find_slots(self, msg::slot_request{a.routing_hint, a.agent_id, 0, 0, 0, {}}, false);
  }
  void operator()(const engine::out::book& b) { book_slot(self, b); }
};

// Outputs in order, through the pacer: a `typing` shows the indicator and holds the
// rest back for its delay, on the actor clock.
void carry_out(session_ptr self, std::vector<engine::output> outputs, const net::sink_ptr& sender,
               const protocol::client_msg_id& id) {
  auto& st = self->state;
  st.pacer.push(std::move(outputs), {sender, id});
  st.pacer.run([&](const auto& next) {
    if (const auto* t = std::get_if<engine::out::typing>(&next.output); t && t->delay_ms > 0) {
      send_to_visitors(self, protocol::make_typing(st.conv.id, "bot"));
      self->delayed_send(self, std::chrono::milliseconds{t->delay_ms}, msg::paced_atom::value, st.pacer.generation());
      return;
    }
    std::visit(output_interpreter{self, next.origin.sender, next.origin.id}, next.output);
  });
}

void end_chat(session_ptr self, const std::string& reason) {
  auto& st = self->state;
  const auto phase = st.conv.phase;
  if (phase != conversation_phase::waiting && phase != conversation_phase::live) return;
  if (phase == conversation_phase::waiting) {
    self->send(st.ctx.router, msg::cancel_atom::value, st.conv.id);
    set_waiting(self, false);
  }
  set_open(self, false);
  if (phase == conversation_phase::live) {
    self->send(st.ctx.router, msg::release_atom::value, st.conv.agent_id, st.conv.id);
    if (st.agent) {
      self->send(st.agent, msg::ended_atom::value, st.conv.id, reason);
    } else {
      // Restored from the store and its agent not found yet: the agent must still hear it.
      self->request(st.ctx.directory, caf::infinite, msg::agent_atom::value, st.conv.agent_id)
        .then([=, id = st.conv.id](agent_actor agent) { self->send(agent, msg::ended_atom::value, id, reason); },
              [](caf::error&) {});
    }
    store::writes::set_agent_chat(st.log->rows(), st.conv.agent_id, st.conv.id, false);
    st.ctx.stats->chats_ended++;
  }
  st.conv.phase = conversation_phase::ended;
  st.conv.ended_ms = now_ms();
  st.conv.end_reason = reason;
  record_live_chat(self, [&](auto& v) { v.ended_ms = st.conv.ended_ms; });
  mark_dirty(self);
  ++st.idle_gen; // cancels the idle check
  st.pacer.drop_held(); // held back from before the end: a held hand-over would reopen it
  feed(self, engine::in::chat_ended{reason, st.agent_name});
  st.agent = agent_actor{};
  after_commit(self, [=](bool) { send_to_visitors(self, protocol::make_ended(self->state.conv.id, reason)); });
}

void begin_quit(session_ptr self) {
  self->state.quitting = true;
  flush(self);
  maybe_quit(self);
}

void start_grace(session_ptr self) {
  self->delayed_send(self, self->state.ctx.cfg->chat.visitor_grace, msg::grace_atom::value, ++self->state.grace_gen);
}

// A trigger from the page: the flow replaces what led the conversation so far (whose row
// stays as it stands, dropped if it was engaged and not completed), and starts.
void start_flow(session_ptr self, const net::sink_ptr& sender, const std::string& flow_id) {
  auto& st = self->state;
  if (st.quitting || st.stopping) return;
  if (st.ctx.site && !st.ctx.site->current()->chat_enabled)
    return send_error(self, sender, error_code::unavailable, "the chat is switched off");
  if (st.conv.phase == conversation_phase::waiting || st.conv.phase == conversation_phase::live)
    return send_error(self, sender, error_code::conflict, "a live chat is going on; a flow can start after it ends");
  const auto published = st.ctx.dialogues ? st.ctx.dialogues->published() : nullptr;
  const auto* flow = published ? published->flow(flow_id) : nullptr;
  if (!flow) return send_error(self, sender, error_code::not_found, "no published conversational flow has that id");
  auto start = engine::start_flow(st.cursor, flow->id, flow->version);
  if (start.what == engine::flow_start::outcome::refused) return send_error(self, sender, error_code::conflict, start.reason);
  if (start.what == engine::flow_start::outcome::running) return feed(self, engine::in::resumed{}, sender, {});
  if (st.visit && st.visit->engaged_ms != 0 && !st.cursor.completed && !st.dropped) {
    st.dropped = true; // the dialogue it leaves behind
    record_engagement(self);
  }
  // What the flow it replaces still holds back behind a typing delay is not said.
  st.pacer.drop_held();
  // Each run is a row of its own: its key holds the trigger time, kept unique here.
  st.last_run_ms = std::max(now_ms(), st.last_run_ms + 1);
  auto before = std::move(st.cursor.timers);
  st.cursor = std::move(start.started);
  st.cursor.answers[std::string{flow_run_key}] = std::to_string(st.last_run_ms);
  arm_timers(self, before);
  st.dialogue = flow->def;
  st.dropped = false;
  st.opened.clear();
  st.visit = store::dialogue_visit{};
  st.visit->dialogue_id = flow->id;
  st.visit->version = flow->version;
  st.visit->conversation_id = st.conv.id;
  st.visit->visitor_id = st.conv.visitor_id;
  st.visit->triggered_ms = st.last_run_ms;
  st.visit->known = !st.conv.email.empty();
  store::writes::put_flow_run(st.log->rows(), *st.visit);
  if (st.conv.phase == conversation_phase::ended) st.conv.phase = conversation_phase::bot;
  st.conv.flow_cursor = engine::encode(st.cursor);
  mark_dirty(self);
  feed(self, engine::in::started{}, sender, {});
}

protocol::outbound_frame welcome_frame(session_ptr self, const protocol::visitor_hello& h) {
  auto& st = self->state;
  const auto& cfg = *st.ctx.cfg;
  protocol::visitor_welcome w{
    st.conv.visitor_id,
    st.conv.id,
    h.resume_token.empty() ? st.fresh_token : h.resume_token,
    !st.conv.email.empty(),
    store::to_string(st.conv.phase),
    st.log->committed_seq(),
    {cfg.limits.max_text_bytes, cfg.websocket.max_frame_bytes, cfg.websocket.rate_per_second},
  };
  if (st.dialogue) {
    w.dialogue_id = st.cursor.flow_id;
    w.dialogue_name = st.dialogue->name;
    w.dialogue_version = st.cursor.flow_version;
    w.dialogue_finished = st.cursor.finished;
  }
  auto frame = protocol::make_visitor_welcome(w);
  const bool flow = st.cursor.flow == engine::flow_kind::conversational_flow;
  if (st.dialogue) frame["dialogue"]["type"] = flow ? "flow" : "dialogue";
  if (st.dialogue && !flow && !st.cursor.engaged && !st.cursor.finished) {
    auto& d = frame["dialogue"];
    // The first card's text, for the widget to show beside its launcher before it opens.
    const auto& cards = st.dialogue->cards;
    auto first = std::find_if(cards.begin(), cards.end(), [&](const auto& c) { return c.id == st.dialogue->start; });
    if (first != cards.end() && !first->text.empty()) {
      auto poke = dialogue::render_tokens(first->text, st.lead.attributes);
      dialogue::cut_utf8(poke, 4000);
      d["poke"] = std::move(poke);
    }
    // What the page must report (event frames) before the dialogue shows.
    const auto& e = st.dialogue->audience.events;
    if (e.any() && !st.cursor.started_shown) {
      auto& ev = d["events"] = nlohmann::json::object();
      if (e.time_on_page_s) ev["time_on_page_s"] = e.time_on_page_s;
      if (e.time_on_site_s) ev["time_on_site_s"] = e.time_on_site_s;
      if (e.scroll_pct) ev["scroll_pct"] = e.scroll_pct;
    }
  }
  // What the widget shows: branding, the bot, the chat switch (docs/configuration.md).
  if (st.ctx.site) frame["config"].update(site::widget_json(*st.ctx.site->current()));
  return frame;
}

template <class Rep, class Period>
std::int64_t ms(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// A conversation started from the store (at start-up, or when a visitor or agent comes
// back to it): its deadlines run from the stored times, and any already past is acted
// on at once.
// The dedup filter starts from every id the conversation has stored. Unread, it stays
// incomplete, and every message is looked up in the store instead.
void load_committed_ids(session_ptr self) {
  auto& st = self->state;
  if (st.log->committed_seq() == 0) return st.log->committed_ids_complete();
  guard_store(
    [&] {
      auto txn = st.ctx.db->read();
      st.log->load_committed_ids(store::load_client_msg_ids(txn, st.conv.id));
    },
    [&](const store::store_error& e) {
      spdlog::error("conversation {}: its message ids could not be read, so each message is checked in the store: {}",
                    st.conv.id, e.what());
    });
}

// A dialogue conversation from the store: its pinned version and its row. A version that
// cannot be read leaves the cursor without a dialogue, and the engine leads it as a live
// chat: the visitor still reaches a person.
void load_dialogue(session_ptr self) {
  auto& st = self->state;
  if (st.cursor.flow == engine::flow_kind::live_chat || !st.ctx.dialogues) return;
  guard_store(
    [&] {
      st.dialogue = st.ctx.dialogues->version(st.cursor.flow_id, st.cursor.flow_version);
      auto txn = st.ctx.db->read();
      if (st.cursor.flow == engine::flow_kind::conversational_flow) { // its run, by its trigger time
        auto at = st.cursor.answers.find(std::string{flow_run_key});
        if (at == st.cursor.answers.end()) return;
        st.last_run_ms = std::stoll(at->second);
        store::scan_dialogue_visits(txn, st.cursor.flow_id, st.last_run_ms, st.last_run_ms + 1, [&](const auto& v) {
          if (v.conversation_id == st.conv.id) st.visit = v;
          return true;
        });
        return;
      }
      for (auto& v : store::load_visitor_dialogues(txn, st.conv.visitor_id))
        if (v.dialogue_id == st.cursor.flow_id && v.conversation_id == st.conv.id) st.visit = std::move(v);
      // One waiting for the page's events has no row until it shows: it is written then.
      if (!st.visit && !st.cursor.started_shown) {
        st.visit = store::dialogue_visit{};
        st.visit->dialogue_id = st.cursor.flow_id;
        st.visit->version = st.cursor.flow_version;
        st.visit->conversation_id = st.conv.id;
        st.visit->visitor_id = st.conv.visitor_id;
        st.visit->known = !st.conv.email.empty();
      }
    },
    [&](const store::store_error& e) {
      spdlog::error("conversation {}: its dialogue could not be read: {}", st.conv.id, e.what());
    });
  if (!st.dialogue)
    spdlog::warn("conversation {}: dialogue {} version {} is not runnable; it continues as a live chat", st.conv.id,
                 st.cursor.flow_id, st.cursor.flow_version);
}

// A crash between a step and the bot's reply to it leaves the cursor at a card whose
// question was never stored: asked again, so the visitor is never left without one.
void prompt_again_if_lost(session_ptr self) {
  auto& st = self->state;
  if (st.conv.phase != conversation_phase::bot) return;
  // At a booking card: its times are found again unless they were shown (docs/meetings.md).
  if (engine::waits_for_booking(st.cursor, engine_context(self))) return feed(self, engine::in::resumed{});
  if (!engine::waits_for_answer(st.cursor, engine_context(self))) return;
  // The card's question as the engine would ask it now, against the newest stored line.
  const engine::out::bot_message* asked = nullptr;
  auto again = engine::step(st.cursor, engine::in::resumed{}, engine_context(self));
  for (const auto& o : again.outputs)
    if (const auto* m = std::get_if<engine::out::bot_message>(&o)) asked = m;
  if (!asked) return;
  auto last_is_prompt = guard_store(
    [&] {
      auto txn = st.ctx.db->read();
      auto last = store::load_page_before(txn, st.conv.id, 0, 1, ~std::size_t{0});
      if (last.messages.empty()) return false;
      const auto& m = last.messages.back().second;
      return m.from == "bot" && m.text == asked->text && m.prompt == prompt_of(*asked);
    },
    [&](const store::store_error& e) {
      spdlog::error("conversation {}: its last message could not be read: {}", st.conv.id, e.what());
      return true; // unknown: not asked twice
    });
  if (!last_is_prompt) feed(self, engine::in::resumed{});
}

void resume_from_store(session_ptr self) {
  auto& st = self->state;
  arm_timers(self, {});
  if (st.conv.phase == conversation_phase::waiting || st.conv.phase == conversation_phase::live)
    st.live = guard_store(
      [&] {
        auto txn = st.ctx.db->read();
        return store::load_live_chat(txn, st.conv.requested_ms, st.conv.id);
      },
      [](const store::store_error&) { return std::optional<store::live_chat_visit>{}; }); // its figures stop here
  prompt_again_if_lost(self);
  const auto now = now_ms();
  const auto grace = ms(st.ctx.cfg->chat.visitor_grace);
  // Away since it was stored, or since the restart when the visitor was still connected then.
  const auto away_for = st.conv.visitor_left_ms > 0 ? std::max<std::int64_t>(0, now - st.conv.visitor_left_ms) : 0;
  self->delayed_send(self, std::chrono::milliseconds{std::max<std::int64_t>(0, grace - away_for)}, msg::grace_atom::value,
                     ++st.grace_gen);
  if (st.conv.phase == conversation_phase::waiting) {
    send_request(self);
  } else if (st.conv.phase == conversation_phase::live) {
    // Unread, the idle clock counts from the record's last update instead.
    st.last_activity_ms = guard_store(
      [&] {
        auto txn = st.ctx.db->read();
        auto last = store::load_page_before(txn, st.conv.id, 0, 1, ~std::size_t{0});
        return last.messages.empty() ? st.conv.updated_ms : last.messages.back().second.ts_ms;
      },
      [&](const store::store_error& e) {
        spdlog::error("conversation {}: its last message could not be read: {}", st.conv.id, e.what());
        return st.conv.updated_ms;
      });
    const auto silent = std::max<std::int64_t>(0, now - st.last_activity_ms);
    schedule_idle_check(self, std::chrono::milliseconds{std::max<std::int64_t>(0, ms(st.ctx.cfg->chat.chat_idle_timeout) - silent)});
    self->request(st.ctx.directory, caf::infinite, msg::agent_atom::value, st.conv.agent_id)
      .then(
        [=, agent_id = st.conv.agent_id](agent_actor agent) {
          auto& st = self->state;
          // A deadline already past may have ended it meanwhile (and told the agent).
          if (st.conv.phase != conversation_phase::live || st.conv.agent_id != agent_id) return;
          st.agent = agent;
          self->send(agent, msg::rejoin_atom::value, st.conv.id, summary(st.conv));
        },
        [=](caf::error&) {
          end_chat(self, "agent_removed");
          flush(self);
        });
  }
}

void attach_visitor(session_ptr self, const protocol::visitor_hello& hello, const net::sink_ptr& sink,
                    const msg::bind_now& bind) {
  auto& st = self->state;
  if (st.stopping) {
    // The process stops: a socket bound now would keep this session from quitting.
    send_error(self, sink, error_code::unavailable, "the server is shutting down; reconnect in a moment");
    sink->close(net::close_code::going_away, "server shutting down");
    return;
  }
  const auto committed = st.log->committed_seq();
  if (hello.last_seq > committed) {
    // The client claims messages that were never sent: it holds another conversation's
    // state, or a bug. Say so rather than replay nothing.
    send_error(self, sink, error_code::bad_value,
               fmt::format("last_seq {} is past the newest message of this conversation ({})", hello.last_seq,
                           committed));
    sink->close(net::close_code::policy, "bad_value");
    return;
  }
  if (st.sockets.size() >= st.ctx.cfg->chat.max_sockets_per_conversation) {
    send_error(self, sink, error_code::busy, "this conversation is open in too many tabs already");
    sink->close(net::close_code::policy, "busy");
    return;
  }
  st.sockets.push_back(visitor_socket{sink, delivery_cursor::live_after(0), false});
  ++st.grace_gen;
  st.quitting = false;
  if (st.conv.visitor_left_ms != 0) {
    st.conv.visitor_left_ms = 0;
    mark_dirty(self);
    flush(self);
  }
  bind.fn();
  sink->hello_completed();
  sink->send(welcome_frame(self, hello));
  // Everything after last_seq (the newest max_replay at most), paced as the socket drains.
  const auto max_replay = static_cast<std::uint64_t>(st.ctx.cfg->chat.max_replay);
  const auto from = std::max<std::uint64_t>(hello.last_seq, committed > max_replay ? committed - max_replay : 0);
  auto& s = st.sockets.back();
  s.cursor = from == committed ? delivery_cursor::live_after(from) : delivery_cursor::behind(from);
  pump(self, sink->id());
}

session_actor::behavior_type visitor_session(session_ptr self, actor_context ctx, session_seed seed) {
  auto& st = self->state;
  st.ctx = ctx;
  st.conv = std::move(seed.conv);
  st.log = std::make_unique<conversation::durable_log>(seed.last_seq, ctx.cfg->store.group_commit);
  st.fresh_token = std::move(seed.fresh_token);
  if (auto stored = engine::decode_cursor(st.conv.flow_cursor)) {
    st.cursor = std::move(*stored);
  } else {
    // A cursor this build cannot read: the conversation carries on as a live chat.
    spdlog::warn("conversation {}: its flow cursor is unreadable; it continues as a live chat", st.conv.id);
    st.cursor = engine::cursor{};
    st.cursor.handed_over = st.conv.phase == conversation_phase::waiting || st.conv.phase == conversation_phase::live;
  }
  st.dialogue = std::move(seed.dialogue);
  st.visit = std::move(seed.visit);
  if (!seed.is_new) load_dialogue(self);
  st.lead.known = !st.conv.email.empty();
  if (st.lead.known) st.lead.attributes["email"] = st.conv.email;
  guard_store(
    [&] {
      if (seed.lead_found) merge_lead(self, seed.lead);
      else if (!st.conv.email.empty() || !seed.tracking_cookie.empty()) look_up_lead(self, st.conv.email, seed.tracking_cookie);
    },
    [&](const store::store_error& e) { spdlog::warn("conversation {}: its lead could not be read: {}", st.conv.id, e.what()); });
  touch(self);
  ctx.stats->live_visitor_sessions++;
  self->attach_functor([stats = ctx.stats] { stats->live_visitor_sessions--; });

  if (seed.is_new) {
    st.never_stored = true;
    st.log->committed_ids_complete();
    mark_dirty(self);
    st.log->rows() = std::move(seed.initial_ops);
    feed(self, engine::in::started{});
    flush(self);
    // A conversation nobody is attached to yet lives only for the grace period.
    start_grace(self);
  } else {
    load_committed_ids(self);
    resume_from_store(self);
  }

  return {
    [=](msg::attach_atom, protocol::visitor_hello& hello, net::sink_ptr sink, msg::bind_now bind) {
      after_commit(self, [=](bool ok) {
        if (!ok) {
          send_error(self, sink, error_code::store_failed, "the conversation could not be stored");
          sink->close(net::close_code::internal, "store failed");
          return;
        }
        attach_visitor(self, hello, sink, bind);
      });
      flush(self);
    },
    [=](msg::detach_atom, std::uint64_t conn, bool by_shutdown) {
      auto& st = self->state;
      auto& sockets = st.sockets;
      sockets.erase(std::remove_if(sockets.begin(), sockets.end(), [&](auto& s) { return s.sink->id() == conn; }),
                    sockets.end());
      if (!sockets.empty()) return;
      // Stored, so that after a restart the grace period still counts from now. A socket
      // the stopping server closed is not the visitor leaving: after the restart the grace
      // period starts again, as after a crash.
      if (!by_shutdown && (st.conv.phase == conversation_phase::waiting || st.conv.phase == conversation_phase::live)) {
        st.conv.visitor_left_ms = now_ms();
        mark_dirty(self);
        flush(self);
      }
      start_grace(self);
    },
    [=](msg::drained_atom, std::uint64_t conn) {
      if (auto* s = socket_of(self, conn)) {
        s->awaiting_drain = false;
        pump(self, conn);
      }
    },
    [=](msg::grace_atom, std::uint64_t gen) {
      auto& st = self->state;
      if (gen != st.grace_gen || !st.sockets.empty()) return;
      // Engaged and gone before completing: the outbox says so (a return may still complete it).
      if (st.visit && st.visit->engaged_ms != 0 && !st.cursor.completed && !st.dropped) {
        st.dropped = true;
        record_engagement(self);
      }
      end_chat(self, "visitor_left");
      begin_quit(self);
    },
    [=](msg::say_atom, std::uint64_t conn, protocol::visitor_say& say) {
      auto& st = self->state;
      auto sink = sink_of(self, conn);
      if (absorb_duplicate(self, "visitor", say.id.text, socket_ack(self, sink, say.id))) return;
      if (st.log->full(st.ctx.cfg->chat.max_in_flight)) {
        send_error(self, sink, error_code::busy, "too many messages waiting to be stored", say.id);
        return;
      }
      touch(self);
      store::message_record rec{"visitor", std::move(say.text), now_ms(), say.id.text, {}, {}, {}};
      st.log->append({std::move(rec), "visitor", {socket_ack(self, sink, say.id)}, conn, 0});
      // The flow takes the answer once it is stored: a line that fails is sent again by the
      // client, and must find the flow where it was.
      if (st.conv.phase == conversation_phase::bot || st.conv.phase == conversation_phase::ended)
        after_commit(self, [=, text = st.log->last_queued().rec.text](bool ok) {
          if (!ok) return;
          feed(self, engine::in::visitor_text{text}, sink, say.id);
          flush(self);
        });
      flush(self);
    },
    [=](msg::history_atom, std::uint64_t conn, const protocol::history_request& h) {
      auto& st = self->state;
      if (auto sink = sink_of(self, conn)) {
        const auto limit = h.limit ? h.limit : st.ctx.cfg->chat.history_page;
        auto page = build_page(*st.ctx.db, "history", st.conv.id, h.before_seq, limit, budget(self));
        if (page.read_failed) send_error(self, sink, error_code::store_failed, "the history could not be read; ask again");
        else sink->send(page.frame);
      }
    },
    // A button pressed: stored as the visitor's line (its label, as they saw it), acked,
    // and deduplicated like a message, so a choice sent again after a reconnect is taken once.
    [=](msg::choose_atom, std::uint64_t conn, const protocol::client_msg_id& id, const std::string& value) {
      auto& st = self->state;
      auto sink = sink_of(self, conn);
      if (absorb_duplicate(self, "visitor", id.text, socket_ack(self, sink, id))) return;
      // Counted like a message either way: a refused option is answered with the prompt again.
      if (st.log->full(st.ctx.cfg->chat.max_in_flight)) {
        send_error(self, sink, error_code::busy, "too many messages waiting to be stored", id);
        return;
      }
      take_pick(self, conn, sink, id, engine::in::choice{value, false},
                engine::choice_label(st.cursor, value, engine_context(self)));
    },
    // A document card's link, opened: an activity, once per document. Only links the
    // dialogue offers count.
    [=](msg::opened_atom, std::uint64_t conn, const std::string& link) {
      auto& st = self->state;
      const bool offered = st.dialogue && std::any_of(st.dialogue->cards.begin(), st.dialogue->cards.end(), [&](const auto& c) {
                             return c.kind == dialogue::card_kind::document && c.url == link;
                           });
      if (!offered) return send_error(self, sink_of(self, conn), error_code::bad_value, "no document of this conversation has that link");
      if (!st.opened.insert(link).second) return; // once per document
      record_activity(self, "document_opened", link);
      flush(self);
    },
    // The page's events (time on page, on site, scroll): a dialogue that waits for them
    // starts once its thresholds are met.
    [=](msg::event_atom, std::uint64_t conn, const std::string& kind, std::int64_t value) {
      feed(self, engine::in::page_event{kind, value}, sink_of(self, conn), {});
      flush(self);
    },
    // The page starts a conversational flow (a link, a form): docs/dialogues.md, "Flows".
    [=](msg::trigger_atom, std::uint64_t conn, const std::string& flow_id) {
      start_flow(self, sink_of(self, conn), flow_id);
      flush(self);
    },
    // The conversation score, from an agent (0..3): answered once stored.
    [=](msg::score_atom, std::uint8_t score) -> caf::result<bool> {
      auto& st = self->state;
      auto promise = self->make_response_promise<bool>();
      st.conv.score = score;
      mark_dirty(self);
      record_engagement(self); // its row carries the score
      after_commit(self, [promise](bool ok) mutable {
        if (ok) promise.deliver(true);
        else promise.deliver(to_caf_error(error_code::store_failed));
      });
      flush(self);
      return promise;
    },
    // A meeting time chosen: stored as the visitor's line (the time, in their zone), acked
    // and deduplicated like a choice, then booked.
    [=](msg::book_atom, std::uint64_t conn, const protocol::client_msg_id& id, const std::string& slot,
        const std::string& time_zone) {
      auto& st = self->state;
      auto sink = sink_of(self, conn);
      if (absorb_duplicate(self, "visitor", id.text, socket_ack(self, sink, id))) return;
      if (!time_zone.empty() && !calendar::known_time_zone(time_zone))
        return send_error(self, sink, error_code::bad_value, "time_zone is not a known IANA time zone", id);
      if (st.log->full(st.ctx.cfg->chat.max_in_flight))
        return send_error(self, sink, error_code::busy, "too many messages waiting to be stored", id);
      if (!time_zone.empty()) st.time_zone = time_zone;
      take_pick(self, conn, sink, id, engine::in::choice{slot, true}, engine::slot_label(st.cursor, slot, engine_context(self)));
    },
    // ---- the flow's clock ----
    [=](msg::flow_timer_atom, const std::string& name, std::int64_t due_ms) {
      const auto& timers = self->state.cursor.timers;
      // A timer the flow dropped or moved since it was armed is stale.
      if (std::find(timers.begin(), timers.end(), engine::pending_timer{name, due_ms}) == timers.end()) return;
      feed(self, engine::in::timer_due{name});
      flush(self);
    },
    [=](msg::paced_atom, std::uint64_t gen) {
      auto& st = self->state;
      if (!st.pacer.resume(gen)) return;
      carry_out(self, {}, nullptr, {});
      flush(self);
      maybe_quit(self);
    },
    [=](msg::typing_atom, std::uint64_t) {
      if (self->state.agent)
        self->send(self->state.agent, msg::visitor_typing_atom::value, self->state.conv.id);
    },
    // ---- from the router ----
    [=](msg::queued_atom, std::uint32_t position) {
      auto& st = self->state;
      // Told once per request, and again only if the place got worse: a restart that
      // puts everyone back at their place says nothing. The place told is stored.
      if (st.conv.phase != conversation_phase::waiting) return;
      if (st.conv.queue_notice != 0 && position <= st.conv.queue_notice) return;
      st.conv.queue_notice = position;
      mark_dirty(self);
      feed(self, engine::in::none_available{position});
      flush(self);
    },
    // Answers whether the chat is taken: false when the visitor left meanwhile (the
    // router then gives the agent's seat back).
    [=](msg::assign_atom, agent_actor agent, std::string agent_id, std::string agent_name) -> caf::result<bool> {
      auto& st = self->state;
      if (st.conv.phase != conversation_phase::waiting) return false;
      set_waiting(self, false);
      st.conv.phase = conversation_phase::live;
      store::assign_agent(st.conv, agent_id); // also remembered among the agents who held it
      record_live_chat(self, [&](auto& v) {
        v.connected_ms = now_ms();
        v.agent_id = agent_id;
      });
      st.agent = agent;
      st.agent_name = agent_name;
      mark_dirty(self);
      store::writes::set_agent_chat(st.log->rows(), agent_id, st.conv.id, true);
      st.ctx.stats->chats_started++;
      // The agent reads the newest page from the store; everything later arrives as deliver.
      self->send(agent, msg::joined_atom::value, st.conv.id, summary(st.conv));
      st.agent_email = guard_store(
        [&] {
          auto txn = st.ctx.db->read();
          auto a = store::load_agent(txn, agent_id);
          return a ? a->email : std::string{};
        },
        [](const store::store_error&) { return std::string{}; }); // the outbox goes without it
      feed(self, engine::in::agent_joined{agent_id, agent_name});
      record_activity(self, "agent_engaged", agent_id);
      touch(self);
      schedule_idle_check(self, st.ctx.cfg->chat.chat_idle_timeout);
      flush(self);
      return true;
    },
    // ---- from the agent ----
    [=](msg::agent_say_atom, std::string agent_id, std::uint64_t conn, protocol::agent_say& say) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      if (st.conv.phase == conversation_phase::ended) return to_caf_error(error_code::conversation_ended);
      if (st.conv.phase != conversation_phase::live || st.conv.agent_id != agent_id)
        return to_caf_error(error_code::not_assigned);
      auto promise = self->make_response_promise<std::uint64_t>();
      // Each agent's ids are its own: a console counting from 1 after another agent's did.
      const std::string sender = "agent:" + agent_id;
      if (absorb_duplicate(self, sender, say.id.text, promise_ack(promise))) return promise;
      // The promise already took the request's sender: the refusal must go through it.
      if (st.log->full(st.ctx.cfg->chat.max_in_flight)) {
        promise.deliver(to_caf_error(error_code::busy));
        return promise;
      }
      touch(self);
      store::message_record rec{"agent", std::move(say.text), now_ms(), say.id.text, agent_id, st.agent_name, {}};
      record_live_chat(self, [&](auto& v) {
        if (v.first_response_ms == 0) v.first_response_ms = rec.ts_ms;
      });
      st.log->append({std::move(rec), sender, {promise_ack(promise)}, conn, 0});
      flush(self);
      return promise;
    },
    // The agent shares a calendar: its free times go to the visitor, who books with `book`.
    [=](msg::share_atom, const std::string& agent_id, const std::string& whose) {
      auto& st = self->state;
      if (st.conv.phase != conversation_phase::live || st.conv.agent_id != agent_id) return;
      find_slots(self, msg::slot_request{"agent", whose, 0, 0, 0, {}}, true);
    },
    [=](msg::agent_typing_atom, std::string agent_id) {
      auto& st = self->state;
      if (st.conv.phase == conversation_phase::live && st.conv.agent_id == agent_id)
        send_to_visitors(self, protocol::make_typing(st.conv.id, "agent"));
    },
    [=](msg::agent_end_atom, std::string agent_id, std::string reason) -> caf::result<bool> {
      auto& st = self->state;
      if (st.conv.phase != conversation_phase::live || st.conv.agent_id != agent_id)
        return to_caf_error(error_code::not_assigned);
      end_chat(self, reason);
      flush(self);
      return true;
    },
    [=](msg::idle_atom, std::uint64_t gen) {
      auto& st = self->state;
      if (gen != st.idle_gen || st.conv.phase != conversation_phase::live) return;
      const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(st.ctx.cfg->chat.chat_idle_timeout);
      const auto silent = std::chrono::milliseconds{now_ms() - st.last_activity_ms};
      if (silent >= limit) {
        end_chat(self, "inactive");
        flush(self);
      } else {
        schedule_idle_check(self, limit - silent);
      }
    },
    [=](msg::write_retry_atom) {
      self->state.write_retry_armed = false;
      flush(self);
    },
    // The process stops: what the log still holds (messages, the record, its rows) is
    // written first; the daemon stops the writer only after every session has quit.
    [=](msg::shutdown_atom) {
      self->state.stopping = true;
      // A writer that died holding this session's batch never answers it: then nothing
      // more can be written, and the session stops (what was in flight was never acked).
      self->set_down_handler([=](caf::down_msg& dm) {
        if (dm.source != self->state.ctx.writer.address()) return;
        spdlog::error("conversation {}: the store writer is gone; what it did not commit is not written",
                      self->state.conv.id);
        self->quit();
      });
      self->monitor(self->state.ctx.writer);
      begin_quit(self);
    },
  };
}

} // namespace

session_actor spawn_visitor_session(caf::actor_system& sys, const actor_context& ctx, session_seed seed) {
  return sys.spawn(visitor_session, ctx, std::move(seed));
}

} // namespace dynchat
