// Data flow of one conversation:
//
//   socket frame ──► enqueue(outgoing) ──► flush(): one write batch per conversation
//                                            │  (seqs assigned here, so a failed batch
//                                            │   leaves no gap: its seqs are reused)
//   store writer commit ◄────────────────────┘
//        │
//        └──► on_committed(): ack the senders, send `message` to the visitor's other
//             sockets and to the agent, then run the callbacks queued with the batch.
//
// Only one batch per conversation is in flight; what arrives meanwhile forms the next.
#include "actors/visitor_session.hpp"

#include <algorithm>

#include <caf/all.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "actors/replay.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/flow/flow.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat {
namespace {

using protocol::error_code;
using store::conversation_phase;

struct waiter {
  net::sink_ptr sink;                                  // a visitor socket, or
  caf::typed_response_promise<std::uint64_t> promise;  // an agent's request
  bool has_promise = false;
  protocol::client_msg_id id;                          // as this sender wrote it, for its ack
};

// One of the visitor's sockets (several tabs may be open) and what it has been sent.
struct visitor_socket {
  net::sink_ptr sink;
  delivery_cursor cursor = delivery_cursor::live_after(0);
  bool awaiting_drain = false; // a replay page is out; the next waits for the queue
};

struct outgoing {
  store::message_record rec;
  std::string sender;              // visitor | agent: the dedup namespace; empty: no dedup
  std::vector<waiter> waiters;
  std::uint64_t origin_conn = 0;   // the socket it came from (visitor's or agent's): no echo there
  std::uint64_t seq = 0;           // assigned when its batch forms
};

using commit_callback = std::function<void(bool ok)>;

struct visitor_session_state {
  actor_context ctx;
  store::conversation_record conv;
  std::uint64_t committed_seq = 0;
  std::string fresh_token;
  std::vector<visitor_socket> sockets;
  caf::actor agent;
  std::string agent_name;
  std::unique_ptr<flow::conversation_flow> flow;
  std::vector<outgoing> queued;
  std::vector<outgoing> writing;
  std::vector<store::write_op> queued_ops;
  std::vector<store::write_op> writing_ops; // the index rows of the batch in flight: retried if it fails
  std::vector<commit_callback> queued_callbacks;
  std::vector<commit_callback> writing_callbacks;
  bool conv_dirty = false;
  bool write_in_flight = false;
  bool quitting = false;
  std::uint64_t grace_gen = 0;
  std::uint64_t idle_gen = 0;
  std::int64_t last_activity_ms = 0;
  static inline const char* name = "visitor_session";
};

using session_actor = caf::stateful_actor<visitor_session_state>;

msg::visitor_summary summary(const store::conversation_record& c) {
  return {c.visitor_id, c.id, c.page_url, c.referrer, c.email};
}

void send_to_visitors(session_actor* self, const protocol::outbound_frame& frame) {
  for (auto& s : self->state.sockets) s.sink->send(frame);
}

void send_error(session_actor* self, const net::sink_ptr& sink, error_code code, std::string_view text,
                const protocol::client_msg_id& id = {}) {
  if (!sink) return;
  sink->send(protocol::make_error(code, text, id));
  self->state.ctx.stats->errors_sent++;
}

visitor_socket* socket_of(session_actor* self, std::uint64_t conn) {
  for (auto& s : self->state.sockets)
    if (s.sink->id() == conn) return &s;
  return nullptr;
}

net::sink_ptr sink_of(session_actor* self, std::uint64_t conn) {
  auto* s = socket_of(self, conn);
  return s ? s->sink : nullptr;
}

page_budget budget(session_actor* self) { return replay_budget(*self->state.ctx.cfg, net::endpoint::visitor); }

// Sends the next replay page to a socket that is behind, then waits for its queue to
// drain before the next: a long absence never overflows it.
void pump(session_actor* self, std::uint64_t conn) {
  auto* s = socket_of(self, conn);
  if (!s || s->awaiting_drain || s->cursor.live()) return;
  if (send_next_page(*self->state.ctx.db, s->sink, self->state.conv.id, s->cursor, budget(self))) return;
  s->awaiting_drain = true;
  s->sink->when_drained([me = caf::actor_cast<caf::actor>(self), conn] { caf::anon_send(me, msg::drained_atom::value, conn); });
}

std::size_t in_flight(const visitor_session_state& st) { return st.queued.size() + st.writing.size(); }

void flush(session_actor* self);

void maybe_quit(session_actor* self) {
  auto& st = self->state;
  if (st.quitting && !st.write_in_flight && st.queued.empty() && st.queued_callbacks.empty()) self->quit();
}

void on_batch_done(session_actor* self, bool ok) {
  auto& st = self->state;
  auto writing = std::move(st.writing);
  auto callbacks = std::move(st.writing_callbacks);
  st.writing.clear();
  st.writing_callbacks.clear();
  st.write_in_flight = false;
  for (auto& m : writing) {
    if (!ok) {
      for (auto& w : m.waiters) {
        if (w.has_promise) w.promise.deliver(to_caf_error(error_code::store_failed));
        else send_error(self, w.sink, error_code::store_failed, "the message could not be stored; send it again", w.id);
      }
      continue;
    }
    st.committed_seq = m.seq;
    st.ctx.stats->messages_stored++;
    for (auto& w : m.waiters) {
      st.ctx.stats->acks_sent++;
      if (w.has_promise) w.promise.deliver(m.seq);
      else if (w.sink) w.sink->send(protocol::outbound_frame::ack(st.conv.id, w.id, m.seq));
    }
    const protocol::outbound_frame frame =
      protocol::outbound_frame::message({st.conv.id, m.seq, m.rec.from, m.rec.text, m.rec.ts_ms, m.rec.agent_name});
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
  if (!ok) {
    // The record and its index rows go again with the next batch, ahead of what came since.
    st.conv_dirty = true;
    st.queued_ops.insert(st.queued_ops.begin(), std::make_move_iterator(st.writing_ops.begin()),
                         std::make_move_iterator(st.writing_ops.end()));
  }
  st.writing_ops.clear();
  for (auto& cb : callbacks) cb(ok);
  flush(self);
  maybe_quit(self);
}

void flush(session_actor* self) {
  auto& st = self->state;
  if (st.write_in_flight) return;
  if (st.queued.empty() && !st.conv_dirty && st.queued_ops.empty()) {
    // Nothing to write: callbacks waiting for "everything so far is durable" can run.
    auto callbacks = std::move(st.queued_callbacks);
    st.queued_callbacks.clear();
    for (auto& cb : callbacks) cb(true);
    return;
  }
  store::write_batch batch;
  std::uint64_t seq = st.committed_seq;
  // Without group commit (the benchmark's baseline) each message is its own transaction.
  const std::size_t take = st.ctx.cfg->store.group_commit ? st.queued.size() : std::min<std::size_t>(1, st.queued.size());
  for (std::size_t i = 0; i < take; ++i) {
    auto& m = st.queued[i];
    m.seq = ++seq;
    batch.push_back({store::table::messages, store::message_key(st.conv.id, m.seq), store::encode(m.rec), false});
    if (!m.sender.empty() && !m.rec.client_msg_id.empty())
      batch.push_back({store::table::client_ids, store::client_id_key(st.conv.id, m.sender, m.rec.client_msg_id),
                       store::be64(m.seq), false});
  }
  if (st.conv_dirty) {
    st.conv.updated_ms = now_ms();
    batch.push_back({store::table::conversations, st.conv.id, store::encode(st.conv), false});
    st.conv_dirty = false;
  }
  batch.insert(batch.end(), st.queued_ops.begin(), st.queued_ops.end());
  st.writing_ops = std::move(st.queued_ops);
  st.queued_ops.clear();
  st.writing.assign(std::make_move_iterator(st.queued.begin()), std::make_move_iterator(st.queued.begin() + take));
  st.queued.erase(st.queued.begin(), st.queued.begin() + take);
  if (st.queued.empty()) { // callbacks wait for everything queued before them
    st.writing_callbacks = std::move(st.queued_callbacks);
    st.queued_callbacks.clear();
  }
  st.write_in_flight = true;
  self->request(st.ctx.writer, caf::infinite, msg::write_atom::value, std::move(batch))
    .then([=](std::uint64_t) { on_batch_done(self, true); },
          [=](caf::error& err) {
            spdlog::warn("conversation {}: write failed: {}", self->state.conv.id, to_string(err));
            on_batch_done(self, false);
          });
}

void after_commit(session_actor* self, commit_callback cb) {
  self->state.queued_callbacks.push_back(std::move(cb));
}

void enqueue(session_actor* self, outgoing m) {
  self->state.queued.push_back(std::move(m));
}

// agent_name: set on notices about an agent, so clients can tell who joined.
void enqueue_system(session_actor* self, std::string text, std::string agent_name = {}) {
  store::message_record rec;
  rec.from = "system";
  rec.text = std::move(text);
  rec.agent_name = std::move(agent_name);
  rec.ts_ms = now_ms();
  enqueue(self, outgoing{std::move(rec), {}, {}, 0, 0});
}

// A repeated client_msg_id: attach to the in-flight copy or answer from the store.
bool absorb_duplicate(session_actor* self, const std::string& sender, waiter w) {
  auto& st = self->state;
  const auto& client_msg_id = w.id.text;
  for (auto* list : {&st.writing, &st.queued})
    for (auto& m : *list)
      if (m.sender == sender && m.rec.client_msg_id == client_msg_id) {
        m.waiters.push_back(std::move(w));
        st.ctx.stats->duplicate_messages++;
        return true;
      }
  auto txn = st.ctx.db->read();
  auto seq = store::find_client_msg(txn, st.conv.id, sender, client_msg_id);
  if (!seq) return false;
  st.ctx.stats->duplicate_messages++;
  st.ctx.stats->acks_sent++;
  if (w.has_promise) w.promise.deliver(*seq);
  else if (w.sink) w.sink->send(protocol::outbound_frame::ack(st.conv.id, w.id, *seq));
  return true;
}

void schedule_idle_check(session_actor* self, std::chrono::milliseconds after) {
  self->delayed_send(self, after, msg::idle_atom::value, ++self->state.idle_gen);
}

void touch(session_actor* self) { self->state.last_activity_ms = now_ms(); }

// The router (again, after a restart, it has the conversation from the store) learns
// this actor is the one to tell.
void send_request(session_actor* self) {
  auto& st = self->state;
  self->send(st.ctx.router, msg::request_atom::value,
             msg::chat_request{st.conv.id, caf::actor_cast<caf::actor>(self), summary(st.conv), st.conv.requested_ms});
}

// The rows that let a restart find this conversation again: `open_conversations` while
// it waits or is live, `waiting` (in request order) while it waits.
void set_open(session_actor* self, bool open) {
  auto& st = self->state;
  st.queued_ops.push_back({store::table::open_conversations, st.conv.id, {}, !open});
}
void set_waiting(session_actor* self, bool waiting) {
  auto& st = self->state;
  st.queued_ops.push_back({store::table::waiting, store::waiting_key(st.conv.requested_ms, st.conv.id), {}, !waiting});
}

void request_agent(session_actor* self) {
  auto& st = self->state;
  if (st.conv.phase == conversation_phase::waiting || st.conv.phase == conversation_phase::live) return;
  st.conv.phase = conversation_phase::waiting;
  st.conv.requested_ms = now_ms();
  st.conv.end_reason.clear();
  st.conv.queue_notice = 0;
  st.conv_dirty = true;
  set_open(self, true);
  set_waiting(self, true);
  send_request(self);
}

std::string end_text(const std::string& reason, const std::string& agent_name) {
  if (reason == "agent_ended") return fmt::format("{} ended the chat.", agent_name.empty() ? "The agent" : agent_name);
  if (reason == "inactive") return "The chat ended because nobody wrote for a while.";
  if (reason == "visitor_left") return "The visitor left the chat.";
  if (reason == "agent_removed") return "The agent is no longer available; the chat has ended.";
  return "The chat has ended.";
}

void end_chat(session_actor* self, const std::string& reason) {
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
        .then([=, id = st.conv.id](caf::actor agent) { self->send(agent, msg::ended_atom::value, id, reason); },
              [](caf::error&) {});
    }
    st.queued_ops.push_back({store::table::agent_chats, store::agent_chat_key(st.conv.agent_id, st.conv.id), {}, true});
    st.ctx.stats->chats_ended++;
  }
  st.conv.phase = conversation_phase::ended;
  st.conv.ended_ms = now_ms();
  st.conv.end_reason = reason;
  st.conv_dirty = true;
  ++st.idle_gen; // cancels the idle check
  enqueue_system(self, end_text(reason, st.agent_name));
  st.agent = nullptr;
  after_commit(self, [=](bool) {
    send_to_visitors(self, nlohmann::json{{"type", "ended"}, {"conversation_id", self->state.conv.id}, {"reason", reason}});
  });
}

void run_actions(session_actor* self, const std::vector<flow::action>& actions) {
  for (const auto& a : actions) {
    switch (a.what) {
      case flow::action::kind::bot_message: {
        store::message_record rec;
        rec.from = "bot";
        rec.text = a.text;
        rec.ts_ms = now_ms();
        enqueue(self, outgoing{std::move(rec), {}, {}, 0, 0});
        break;
      }
      case flow::action::kind::handover: request_agent(self); break;
      case flow::action::kind::end: end_chat(self, "flow"); break;
    }
  }
}

void begin_quit(session_actor* self) {
  self->state.quitting = true;
  flush(self);
  maybe_quit(self);
}

void start_grace(session_actor* self) {
  self->delayed_send(self, self->state.ctx.cfg->chat.visitor_grace, msg::grace_atom::value, ++self->state.grace_gen);
}

nlohmann::json welcome_frame(session_actor* self, const protocol::visitor_hello& h) {
  auto& st = self->state;
  const auto& cfg = *st.ctx.cfg;
  return nlohmann::json{
    {"type", "welcome"},
    {"visitor_id", st.conv.visitor_id},
    {"conversation_id", st.conv.id},
    {"resume_token", h.resume_token.empty() ? st.fresh_token : h.resume_token},
    {"known", !st.conv.email.empty()},
    {"phase", store::to_string(st.conv.phase)},
    {"last_seq", st.committed_seq},
    {"config",
     {{"max_text_bytes", cfg.limits.max_text_bytes},
      {"max_frame_bytes", cfg.websocket.max_frame_bytes},
      {"rate_per_second", cfg.websocket.rate_per_second}}},
  };
}

template <class Rep, class Period>
std::int64_t ms(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// A conversation started from the store (at start-up, or when a visitor or agent comes
// back to it): its deadlines run from the stored times, and any already past is acted
// on at once.
void resume_from_store(session_actor* self) {
  auto& st = self->state;
  const auto now = now_ms();
  const auto grace = ms(st.ctx.cfg->chat.visitor_grace);
  // Away since it was stored, or since the restart when the visitor was still connected then.
  const auto away_for = st.conv.visitor_left_ms > 0 ? std::max<std::int64_t>(0, now - st.conv.visitor_left_ms) : 0;
  self->delayed_send(self, std::chrono::milliseconds{std::max<std::int64_t>(0, grace - away_for)}, msg::grace_atom::value,
                     ++st.grace_gen);
  if (st.conv.phase == conversation_phase::waiting) {
    send_request(self);
  } else if (st.conv.phase == conversation_phase::live) {
    {
      auto txn = st.ctx.db->read();
      auto last = store::load_page_before(txn, st.conv.id, 0, 1, ~std::size_t{0});
      st.last_activity_ms = last.messages.empty() ? st.conv.updated_ms : last.messages.back().second.ts_ms;
    }
    const auto silent = std::max<std::int64_t>(0, now - st.last_activity_ms);
    schedule_idle_check(self, std::chrono::milliseconds{std::max<std::int64_t>(0, ms(st.ctx.cfg->chat.chat_idle_timeout) - silent)});
    self->request(st.ctx.directory, caf::infinite, msg::agent_atom::value, st.conv.agent_id)
      .then(
        [=, agent_id = st.conv.agent_id](caf::actor agent) {
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

void attach_visitor(session_actor* self, const protocol::visitor_hello& hello, const net::sink_ptr& sink,
                    const msg::bind_fn& bind) {
  auto& st = self->state;
  if (hello.last_seq > st.committed_seq) {
    // The client claims messages that were never sent: it holds another conversation's
    // state, or a bug. Say so rather than replay nothing.
    send_error(self, sink, error_code::bad_value,
               fmt::format("last_seq {} is past the newest message of this conversation ({})", hello.last_seq,
                           st.committed_seq));
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
    st.conv_dirty = true;
    flush(self);
  }
  bind.fn(caf::actor_cast<caf::actor>(self));
  sink->hello_completed();
  sink->send(welcome_frame(self, hello));
  // Everything after last_seq (the newest max_replay at most), paced as the socket drains.
  const auto max_replay = static_cast<std::uint64_t>(st.ctx.cfg->chat.max_replay);
  const auto from = std::max<std::uint64_t>(hello.last_seq, st.committed_seq > max_replay ? st.committed_seq - max_replay : 0);
  auto& s = st.sockets.back();
  s.cursor = from == st.committed_seq ? delivery_cursor::live_after(from) : delivery_cursor::behind(from);
  pump(self, sink->id());
}

caf::behavior visitor_session(session_actor* self, actor_context ctx, session_seed seed) {
  auto& st = self->state;
  st.ctx = ctx;
  st.conv = std::move(seed.conv);
  st.committed_seq = seed.last_seq;
  st.fresh_token = std::move(seed.fresh_token);
  st.flow = flow::make_live_chat_flow();
  touch(self);
  ctx.stats->live_visitor_sessions++;
  self->attach_functor([stats = ctx.stats] { stats->live_visitor_sessions--; });

  if (seed.is_new) {
    st.conv_dirty = true;
    st.queued_ops = std::move(seed.initial_ops);
    run_actions(self, st.flow->start());
    flush(self);
    // A conversation nobody is attached to yet lives only for the grace period.
    start_grace(self);
  } else {
    resume_from_store(self);
  }

  return {
    [=](msg::attach_atom, protocol::visitor_hello& hello, net::sink_ptr sink, msg::bind_fn bind) {
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
        st.conv_dirty = true;
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
      if (gen != self->state.grace_gen || !self->state.sockets.empty()) return;
      end_chat(self, "visitor_left");
      begin_quit(self);
    },
    [=](msg::say_atom, std::uint64_t conn, protocol::visitor_say& say) {
      auto& st = self->state;
      auto sink = sink_of(self, conn);
      if (absorb_duplicate(self, "visitor", waiter{sink, {}, false, say.id})) return;
      if (in_flight(st) >= st.ctx.cfg->chat.max_in_flight) {
        send_error(self, sink, error_code::busy, "too many messages waiting to be stored", say.id);
        return;
      }
      touch(self);
      store::message_record rec{"visitor", std::move(say.text), now_ms(), say.id.text, {}, {}};
      enqueue(self, outgoing{std::move(rec), "visitor", {waiter{sink, {}, false, say.id}}, conn, 0});
      if (st.conv.phase == conversation_phase::bot || st.conv.phase == conversation_phase::ended)
        run_actions(self, st.flow->on_visitor_text(st.queued.back().rec.text));
      flush(self);
    },
    [=](msg::history_atom, std::uint64_t conn, const protocol::history_request& h) {
      auto& st = self->state;
      if (auto sink = sink_of(self, conn)) {
        const auto limit = h.limit ? h.limit : st.ctx.cfg->chat.history_page;
        sink->send(build_page(*st.ctx.db, "history", st.conv.id, h.before_seq, limit, budget(self)).frame);
      }
    },
    [=](msg::choose_atom, std::uint64_t conn, const protocol::client_msg_id& id, const std::string&) {
      send_error(self, sink_of(self, conn), error_code::unsupported, "this conversation offers no options", id);
    },
    [=](msg::book_atom, std::uint64_t conn, const protocol::client_msg_id& id, const std::string&) {
      send_error(self, sink_of(self, conn), error_code::unsupported, "this conversation offers no meeting slots", id);
    },
    [=](msg::typing_atom, std::uint64_t) {
      if (self->state.agent)
        self->send(self->state.agent, msg::typing_atom::value, self->state.conv.id, std::string{"visitor"});
    },
    // ---- from the router ----
    [=](msg::queued_atom, std::uint32_t position) {
      auto& st = self->state;
      // Told once per request, and again only if the place got worse: a restart that
      // puts everyone back at their place says nothing. The place told is stored.
      if (st.conv.phase != conversation_phase::waiting) return;
      if (st.conv.queue_notice != 0 && position <= st.conv.queue_notice) return;
      st.conv.queue_notice = position;
      st.conv_dirty = true;
      enqueue_system(self, fmt::format("All our agents are busy right now. You are number {} in line; "
                                       "an agent will join as soon as one is free.", position));
      flush(self);
    },
    // Answers whether the chat is taken: false when the visitor left meanwhile (the
    // router then gives the agent's seat back).
    [=](msg::assign_atom, caf::actor agent, std::string agent_id, std::string agent_name) -> bool {
      auto& st = self->state;
      if (st.conv.phase != conversation_phase::waiting) return false;
      set_waiting(self, false);
      st.conv.phase = conversation_phase::live;
      st.conv.agent_id = agent_id;
      st.agent = agent;
      st.agent_name = agent_name;
      st.conv_dirty = true;
      st.queued_ops.push_back({store::table::agent_chats, store::agent_chat_key(agent_id, st.conv.id), {}, false});
      st.ctx.stats->chats_started++;
      // The agent reads the newest page from the store; everything later arrives as deliver.
      self->send(agent, msg::joined_atom::value, st.conv.id, summary(st.conv));
      enqueue_system(self, fmt::format("{} joined the chat.", agent_name), agent_name);
      touch(self);
      schedule_idle_check(self, st.ctx.cfg->chat.chat_idle_timeout);
      flush(self);
      return true;
    },
    // ---- from the agent ----
    [=](msg::say_atom, std::string agent_id, std::uint64_t conn, protocol::agent_say& say) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      if (st.conv.phase == conversation_phase::ended) return to_caf_error(error_code::conversation_ended);
      if (st.conv.phase != conversation_phase::live || st.conv.agent_id != agent_id)
        return to_caf_error(error_code::not_assigned);
      auto promise = self->make_response_promise<std::uint64_t>();
      if (absorb_duplicate(self, "agent", waiter{nullptr, promise, true, say.id})) return promise;
      if (in_flight(st) >= st.ctx.cfg->chat.max_in_flight) return to_caf_error(error_code::busy);
      touch(self);
      store::message_record rec{"agent", std::move(say.text), now_ms(), say.id.text, agent_id, st.agent_name};
      enqueue(self, outgoing{std::move(rec), "agent", {waiter{nullptr, promise, true, say.id}}, conn, 0});
      flush(self);
      return promise;
    },
    [=](msg::typing_atom, std::string agent_id) {
      auto& st = self->state;
      if (st.conv.phase == conversation_phase::live && st.conv.agent_id == agent_id)
        send_to_visitors(self, protocol::make_typing(st.conv.id, "agent"));
    },
    [=](msg::end_atom, std::string agent_id, std::string reason) -> caf::result<bool> {
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
    [=](msg::shutdown_atom) { self->quit(); },
  };
}

} // namespace

caf::actor spawn_visitor_session(caf::actor_system& sys, const actor_context& ctx, session_seed seed) {
  return sys.spawn(visitor_session, ctx, std::move(seed));
}

} // namespace dynchat
