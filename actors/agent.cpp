// One actor per agent: its sockets (a console may be open in several tabs), the status
// it chose, its open chats and pending offers. The router decides who gets a chat and
// counts seats; this actor shows the agent what happens and passes its answers on.
//
// Each socket keeps a delivery_cursor per chat. A socket that says where it left a
// chat (hello.last_seq) catches up from the store a page at a time, paced by its
// outbound queue, before live messages of that chat reach it; one that does not gets
// the chat's newest page (`chat`, has_more) and older pages on request (`history`).
#include "actors/agent.hpp"

#include <algorithm>
#include <deque>
#include <map>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "dynchat/protocol/server_frames.hpp"
#include "actors/replay.hpp"
#include "dynchat/calendar/chat_schedule.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/store/meetings.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat {
namespace {

using protocol::error_code;
using json = nlohmann::json;

struct open_chat {
  session_actor session; // null until known (after a restart it is looked up on demand)
  msg::visitor_summary visitor;
};

struct pending_offer {
  msg::chat_request request;
  std::int64_t expires_at_ms = 0; // on the actor clock
  bool accepting = false;         // an accept is with the router
};

struct agent_socket {
  net::sink_ptr sink;
  std::map<std::string, delivery_cursor> cursors; // chat -> what this socket has of it
  std::deque<std::string> behind;                 // chats catching up, served in turn
  bool awaiting_drain = false;                    // a page is out; the next waits for the queue
};

struct agent_state {
  actor_context ctx;
  store::agent_record record;
  std::string status = "offline";
  std::vector<agent_socket> sockets;
  std::map<std::string, open_chat> chats;
  std::map<std::string, pending_offer> offers;
  // Live-chat hours (calendar settings): with them, the status follows the schedule, and
  // a choice of the agent's (or the router's away after a miss) holds until the next
  // block starts or local midnight.
  std::vector<calendar::weekly_block> chat_hours;
  std::string time_zone = "UTC";
  std::optional<calendar::manual_status> manual;
  std::uint64_t schedule_gen = 0; // tells the latest timer from older ones
  static inline const char* name = "agent";
};

using agent_ptr = agent_actor::stateful_pointer<agent_state>;

std::int64_t clock_ms(agent_ptr self) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(self->clock().now().time_since_epoch()).count();
}

page_budget budget(agent_ptr self) { return replay_budget(*self->state.ctx.cfg, net::endpoint::agent); }

json visitor_json(const msg::visitor_summary& v) {
  return protocol::visitor_card_json({v.visitor_id, v.page_url, v.referrer, v.email});
}

agent_socket* socket_of(agent_ptr self, std::uint64_t conn) {
  for (auto& s : self->state.sockets)
    if (s.sink->id() == conn) return &s;
  return nullptr;
}

void broadcast(agent_ptr self, const protocol::outbound_frame& frame) {
  for (auto& s : self->state.sockets) s.sink->send(frame);
}

void send_error(agent_ptr self, std::uint64_t conn, error_code code, std::string_view text,
                const protocol::client_msg_id& id = {}) {
  if (auto* s = socket_of(self, conn)) {
    s->sink->send(protocol::make_error(code, text, id));
    self->state.ctx.stats->errors_sent++;
  }
}

void report(agent_ptr self) {
  auto& st = self->state;
  msg::agent_state_report r{st.record.id, st.record.name, caf::actor_cast<agent_actor>(self), st.status,
                            !st.sockets.empty(), st.record.max_chats};
  self->send(st.ctx.router, msg::aupdate_atom::value, std::move(r));
}

void set_status(agent_ptr self, const std::string& status) {
  auto& st = self->state;
  st.status = status;
  broadcast(self, protocol::make_status(status));
  report(self);
}

// The status the schedule (and a choice still holding) says now, and a timer for when
// that may change. Nothing without live-chat hours: the agent's own toggle rules.
void follow_schedule(agent_ptr self) {
  auto& st = self->state;
  if (st.chat_hours.empty()) return;
  const auto now = now_ms();
  const auto view = calendar::scheduled_status(st.chat_hours, st.time_zone, now, st.manual);
  if (!view.overridden) st.manual.reset();
  if (view.status != st.status) set_status(self, view.status);
  // At most a day ahead: a clock that jumped is caught up with the next morning at the latest.
  const auto wait = std::clamp<std::int64_t>(view.next_change_ms - now, 0, 86'400'000);
  self->delayed_send(self, std::chrono::milliseconds{wait} + std::chrono::milliseconds{5}, msg::chat_hours_atom::value,
                     ++st.schedule_gen);
}

void load_chat_hours(agent_ptr self) {
  auto& st = self->state;
  st.chat_hours.clear();
  guard_store(
    [&] {
      if (auto cal = store::load_calendar(st.ctx.db->read(), st.record.id))
        if (auto s = calendar::settings_from_stored(cal->settings_json)) {
          st.chat_hours = s->chat_hours;
          st.time_zone = s->time_zone;
        }
    },
    [&](const store::store_error& e) { spdlog::warn("agent {}: live-chat hours not read: {}", st.record.id, e.what()); });
}

json offer_frame(agent_ptr self, const pending_offer& o) {
  auto& st = self->state;
  const auto& conv = o.request.conversation_id;
  auto page = build_page(*st.ctx.db, "offer", conv, 0, st.ctx.cfg->chat.history_page, budget(self));
  const auto left_ms = std::max<std::int64_t>(0, o.expires_at_ms - clock_ms(self));
  page.frame["visitor"] = visitor_json(o.request.visitor);
  page.frame["expires_in"] = (left_ms + 999) / 1000;
  return std::move(page.frame);
}

// Starts a chat on one socket: its newest page, then live messages from there.
void open_chat_on(agent_ptr self, agent_socket& s, const std::string& conversation_id,
                  const msg::visitor_summary& visitor) {
  auto& st = self->state;
  auto page = build_page(*st.ctx.db, "chat", conversation_id, 0, st.ctx.cfg->chat.history_page, budget(self));
  page.frame["visitor"] = visitor_json(visitor);
  s.sink->send(page.frame);
  if (page.read_failed) {
    // Its place in the conversation is unknown: live messages would be caught up from
    // seq 0. As a replay that cannot read: closed, and the console resumes on reconnect.
    s.sink->send(protocol::make_error(error_code::store_failed, "the chat could not be read; reconnect"));
    st.ctx.stats->errors_sent++;
    s.sink->close(net::close_code::internal, "store failed");
    return;
  }
  s.cursors.insert_or_assign(conversation_id, delivery_cursor::live_after(page.newest));
}

// Sends the next page to a socket that is behind on some chat, then waits for its
// queue to drain before the next.
void pump(agent_ptr self, std::uint64_t conn) {
  auto* s = socket_of(self, conn);
  if (!s || s->awaiting_drain) return;
  auto& st = self->state;
  while (!s->behind.empty()) {
    const auto conv = s->behind.front();
    auto cursor = s->cursors.find(conv);
    if (cursor == s->cursors.end() || !st.chats.count(conv)) {
      s->behind.pop_front();
      continue;
    }
    if (send_next_page(*st.ctx.db, s->sink, conv, cursor->second, budget(self))) s->behind.pop_front();
    if (s->behind.empty()) return;
    s->awaiting_drain = true;
    s->sink->when_drained([me = caf::actor_cast<agent_actor>(self), conn] { caf::anon_send(me, msg::drained_atom::value, conn); });
    return;
  }
}

void fall_behind(agent_ptr self, agent_socket& s, const std::string& conversation_id) {
  if (std::find(s.behind.begin(), s.behind.end(), conversation_id) == s.behind.end()) s.behind.push_back(conversation_id);
  pump(self, s.sink->id());
}

json welcome_frame(agent_ptr self) {
  auto& st = self->state;
  protocol::agent_welcome w{st.record.id, st.record.name, st.status, st.record.max_chats, {}};
  auto txn = st.ctx.db->read();
  for (auto& [id, chat] : st.chats) {
    const auto& v = chat.visitor;
    w.conversations.push_back({id, {v.visitor_id, v.page_url, v.referrer, v.email}, store::last_seq(txn, id)});
  }
  return protocol::make_agent_welcome(w);
}

// A new socket: welcome, the pending offers, then each chat either replayed from where
// this console left it or started at its newest page.
void attach_socket(agent_ptr self, net::sink_ptr sink, const std::vector<std::pair<std::string, std::uint64_t>>& resume) {
  auto& st = self->state;
  sink->hello_completed();
  sink->send(welcome_frame(self));
  for (auto& [id, offer] : st.offers) sink->send(offer_frame(self, offer));
  st.sockets.push_back(agent_socket{sink, {}, {}, false});
  auto& s = st.sockets.back();
  std::map<std::string, std::uint64_t> left_at{resume.begin(), resume.end()};
  auto txn = st.ctx.db->read();
  for (auto& [id, chat] : st.chats) {
    auto it = left_at.find(id);
    if (it == left_at.end()) {
      open_chat_on(self, s, id, chat.visitor);
      continue;
    }
    const auto stored = store::last_seq(txn, id);
    if (it->second > stored) {
      s.sink->send(protocol::make_error(error_code::bad_value,
                                        "last_seq " + std::to_string(it->second) + " of conversation " + id +
                                          " is past its newest message (" + std::to_string(stored) + "); sent from the start of its newest page"));
      st.ctx.stats->errors_sent++;
      open_chat_on(self, s, id, chat.visitor);
      continue;
    }
    s.cursors.insert_or_assign(id, delivery_cursor::behind(it->second));
    s.behind.push_back(id);
  }
  pump(self, sink->id());
}

// Runs fn with the conversation's session, looking it up through the directory when
// this actor does not know it yet (after a restart).
template <class Fn>
void with_session(agent_ptr self, const std::string& conversation_id, Fn fn) {
  auto it = self->state.chats.find(conversation_id);
  if (it == self->state.chats.end()) return;
  if (it->second.session) {
    fn(it->second.session);
    return;
  }
  self->request(self->state.ctx.directory, caf::infinite, msg::session_atom::value, conversation_id)
    .then([=](session_actor session) {
      auto it = self->state.chats.find(conversation_id);
      if (it != self->state.chats.end()) it->second.session = session;
      fn(session);
    }, [=](caf::error&) {
      // Its record is gone: the seat goes back too.
      self->state.chats.erase(conversation_id);
      self->send(self->state.ctx.router, msg::release_atom::value, self->state.record.id, conversation_id);
      report(self);
    });
}

agent_actor::behavior_type agent(agent_ptr self, actor_context ctx, store::agent_record record) {
  auto& st = self->state;
  st.ctx = ctx;
  st.record = std::move(record);
  {
    auto txn = ctx.db->read();
    for (auto& conv_id : store::load_agent_chats(txn, st.record.id)) {
      auto c = store::load_conversation(txn, conv_id);
      if (!c || c->phase != store::conversation_phase::live || c->agent_id != st.record.id) continue; // a stale row
      st.chats.emplace(conv_id, open_chat{{}, {c->visitor_id, c->id, c->page_url, c->referrer, c->email}});
    }
  }
  ctx.stats->live_agents++;
  self->attach_functor([stats = ctx.stats] { stats->live_agents--; });
  load_chat_hours(self);
  follow_schedule(self); // reports the status it sets
  report(self);

  return {
    [=](msg::attach_atom, net::sink_ptr sink, msg::bind_now bind, const protocol::agent_hello& hello) {
      if (self->state.sockets.size() >= self->state.ctx.cfg->chat.max_sockets_per_agent) {
        sink->send(protocol::make_error(error_code::busy, "this agent has too many consoles open already"));
        sink->close(net::close_code::policy, "busy");
        return;
      }
      bind.fn();
      guard_store([&] { attach_socket(self, sink, hello.resume); },
                  [&](const store::store_error& e) {
                    // Half a welcome is no use: the console reconnects and resumes.
                    spdlog::error("agent {}: a console could not be welcomed: store: {}", self->state.record.id, e.what());
                    auto& sockets = self->state.sockets;
                    std::erase_if(sockets, [&](const agent_socket& s) { return s.sink == sink; });
                    sink->send(protocol::make_error(error_code::store_failed, "the server could not read its store; reconnect"));
                    self->state.ctx.stats->errors_sent++;
                    sink->close(net::close_code::internal, "store failed");
                  });
      report(self);
    },
    [=](msg::detach_atom, std::uint64_t conn, bool) {
      auto& sockets = self->state.sockets;
      sockets.erase(std::remove_if(sockets.begin(), sockets.end(), [&](auto& s) { return s.sink->id() == conn; }),
                    sockets.end());
      // With no socket left the router withdraws this agent's offers and passes them on.
      report(self);
    },
    [=](msg::drained_atom, std::uint64_t conn) {
      if (auto* s = socket_of(self, conn)) {
        s->awaiting_drain = false;
        pump(self, conn);
      }
    },
    [=](msg::status_atom, std::string status) {
      // The agent's choice (or the router's away after a missed offer); with live-chat
      // hours it holds until the next block or midnight.
      self->state.manual = calendar::manual_status{status, now_ms()};
      set_status(self, status);
      follow_schedule(self);
    },
    [=](msg::chat_hours_atom) {
      load_chat_hours(self);
      self->state.manual.reset(); // new hours: the schedule says, from now
      follow_schedule(self);
    },
    [=](msg::chat_hours_atom, std::uint64_t gen) {
      if (gen == self->state.schedule_gen) follow_schedule(self);
    },
    // ---- from the router ----
    [=](msg::offer_atom, msg::chat_request req, std::int64_t expires_at_ms) {
      auto id = req.conversation_id;
      auto& offer = self->state.offers[id] = pending_offer{std::move(req), expires_at_ms};
      broadcast(self, offer_frame(self, offer));
    },
    [=](msg::withdraw_atom, std::string conversation_id, std::string reason) {
      if (self->state.offers.erase(conversation_id))
        broadcast(self, protocol::make_offer_withdrawn(conversation_id, reason));
    },
    // ---- from the agent's sockets ----
    [=](msg::accept_atom, std::uint64_t conn, std::string conversation_id) {
      auto& st = self->state;
      auto offer = st.offers.find(conversation_id);
      if (offer == st.offers.end()) {
        send_error(self, conn, error_code::offer_expired, "no open offer for this conversation");
        return;
      }
      // A second accept (or a decline) while the router decides the first gets its own
      // error and leaves the offer alone: every tab then sees one outcome, not two.
      if (offer->second.accepting) {
        send_error(self, conn, error_code::busy, "this offer is being accepted");
        return;
      }
      offer->second.accepting = true;
      self->request(st.ctx.router, caf::infinite, msg::accept_atom::value, conversation_id, st.record.id)
        .then(
          [=](session_actor) {
            // The chat is already here: its session sent `joined` before it confirmed to
            // the router, which answered only then. (It may even have ended since.)
            self->state.offers.erase(conversation_id);
          },
          [=](caf::error& err) {
            const auto code = from_caf_error(err);
            send_error(self, conn, code,
                       code == error_code::at_capacity ? "you are at max_chats; the chat went to another agent"
                                                       : "the offer is no longer open");
            // A withdrawal from the router may have told every tab already.
            if (self->state.offers.erase(conversation_id))
              broadcast(self, protocol::make_offer_withdrawn(
                                conversation_id, code == error_code::at_capacity ? "at_capacity" : "expired"));
          });
    },
    [=](msg::decline_atom, std::uint64_t conn, std::string conversation_id) {
      auto& st = self->state;
      auto offer = st.offers.find(conversation_id);
      if (offer == st.offers.end()) {
        send_error(self, conn, error_code::offer_expired, "no open offer for this conversation");
        return;
      }
      if (offer->second.accepting) {
        send_error(self, conn, error_code::busy, "this offer is being accepted");
        return;
      }
      st.offers.erase(offer);
      // Every tab stops showing it.
      broadcast(self, protocol::make_offer_withdrawn(conversation_id, "declined"));
      self->send(st.ctx.router, msg::decline_atom::value, conversation_id, st.record.id);
    },
    [=](msg::say_atom, std::uint64_t conn, protocol::agent_say& say) {
      if (!self->state.chats.count(say.conversation_id)) {
        send_error(self, conn, error_code::not_assigned, "you do not hold this conversation", say.id);
        return;
      }
      with_session(self, say.conversation_id, [=](session_actor session) {
        self->request(session, caf::infinite, msg::agent_say_atom::value, self->state.record.id, conn, say)
          .then(
            [=](std::uint64_t seq) {
              if (auto* s = socket_of(self, conn)) s->sink->send(protocol::outbound_frame::ack(say.conversation_id, say.id, seq));
            },
            [=](caf::error& err) {
              send_error(self, conn, from_caf_error(err), "the message was not accepted", say.id);
            });
      });
    },
    [=](msg::typing_atom, std::uint64_t, std::string conversation_id) {
      with_session(self, conversation_id, [=](session_actor session) {
        self->send(session, msg::agent_typing_atom::value, self->state.record.id);
      });
    },
    [=](msg::end_atom, std::uint64_t conn, std::string conversation_id) {
      if (!self->state.chats.count(conversation_id)) {
        send_error(self, conn, error_code::not_assigned, "you do not hold this conversation");
        return;
      }
      with_session(self, conversation_id, [=](session_actor session) {
        self->request(session, caf::infinite, msg::agent_end_atom::value, self->state.record.id, std::string{"agent_ended"})
          .then([](bool) {}, [=](caf::error& err) {
            send_error(self, conn, from_caf_error(err), "the conversation could not be ended");
          });
      });
    },
    // A calendar shared into a chat it holds: its own, or another agent's (who must exist).
    [=](msg::share_atom, std::uint64_t conn, std::string conversation_id, std::string whose) {
      if (!self->state.chats.count(conversation_id))
        return send_error(self, conn, error_code::not_assigned, "you do not hold this conversation");
      if (whose.empty()) whose = self->state.record.id;
      else if (!is_id(whose)) return send_error(self, conn, error_code::bad_value, "agent_id is not an agent's id");
      with_session(self, conversation_id, [=](session_actor session) {
        self->send(session, msg::share_atom::value, self->state.record.id, whose);
      });
    },
    [=](msg::history_atom, std::uint64_t conn, const std::string& conversation_id, const protocol::history_request& h) {
      auto& st = self->state;
      auto* s = socket_of(self, conn);
      if (!s) return;
      if (!st.chats.count(conversation_id) && !st.offers.count(conversation_id)) {
        send_error(self, conn, error_code::not_assigned, "you do not hold this conversation");
        return;
      }
      const auto limit = h.limit ? h.limit : st.ctx.cfg->chat.history_page;
      auto page = build_page(*st.ctx.db, "history", conversation_id, h.before_seq, limit, budget(self));
      if (page.read_failed) send_error(self, conn, error_code::store_failed, "the history could not be read; ask again");
      else s->sink->send(page.frame);
    },
    // ---- from sessions ----
    [=](msg::joined_atom, std::string conversation_id, msg::visitor_summary visitor) {
      auto& chat = self->state.chats[conversation_id];
      chat.session = caf::actor_cast<session_actor>(self->current_sender());
      chat.visitor = visitor;
      for (auto& s : self->state.sockets) open_chat_on(self, s, conversation_id, visitor);
    },
    [=](msg::rejoin_atom, std::string conversation_id, msg::visitor_summary visitor) {
      auto& chat = self->state.chats[conversation_id];
      chat.session = caf::actor_cast<session_actor>(self->current_sender());
      chat.visitor = std::move(visitor);
    },
    // origin_conn: the socket the message was written on, which has its ack instead.
    [=](msg::deliver_atom, msg::chat_message& m, std::uint64_t origin_conn) {
      const protocol::outbound_frame frame =
        protocol::outbound_frame::message({m.conversation_id, m.seq, m.from, m.text, m.ts_ms, m.agent_name});
      for (auto& s : self->state.sockets) {
        auto cursor = s.cursors.find(m.conversation_id);
        if (cursor == s.cursors.end()) continue; // this socket has not been shown the chat
        switch (cursor->second.on_live(m.seq)) {
          case delivery_cursor::verdict::send:
            if (s.sink->id() != origin_conn) s.sink->send(frame);
            break;
          case delivery_cursor::verdict::catch_up: fall_behind(self, s, m.conversation_id); break;
          case delivery_cursor::verdict::skip: break;
        }
      }
    },
    [=](msg::visitor_typing_atom, std::string conversation_id) {
      broadcast(self, protocol::make_typing(conversation_id, "visitor"));
    },
    [=](msg::ended_atom, std::string conversation_id, std::string reason) {
      auto& st = self->state;
      st.chats.erase(conversation_id);
      for (auto& s : st.sockets) s.cursors.erase(conversation_id);
      broadcast(self, protocol::make_ended(conversation_id, reason));
      report(self);
    },
    // ---- from the REST API ----
    [=](msg::aadded_atom, store::agent_record record) {
      self->state.record = std::move(record);
      report(self);
    },
    [=](msg::aremoved_atom) {
      auto& st = self->state;
      spdlog::info("agent {} is gone: closing its {} socket(s) and ending its {} chat(s)", st.record.id,
                   st.sockets.size(), st.chats.size());
      // Through the directory, which outlives this actor and starts sessions not alive.
      for (auto& [id, chat] : st.chats)
        self->send(st.ctx.directory, msg::end_atom::value, id, st.record.id, std::string{"agent_removed"});
      for (auto& s : st.sockets) s.sink->close(net::close_code::policy, "agent deleted");
      st.sockets.clear();
      self->quit();
    },
    [=](msg::shutdown_atom) {
      for (auto& s : self->state.sockets) s.sink->close(net::close_code::going_away, "server shutting down");
      self->quit();
    },
  };
}

} // namespace

agent_actor spawn_agent(caf::actor_system& sys, const actor_context& ctx, store::agent_record record) {
  return sys.spawn(agent, ctx, std::move(record));
}

} // namespace dynchat
