#include "actors/agent.hpp"

#include <algorithm>
#include <map>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat {
namespace {

using protocol::error_code;
using json = nlohmann::json;

struct open_chat {
  caf::actor session; // null until known (after a restart it is looked up on demand)
  msg::visitor_summary visitor;
};

struct pending_offer {
  msg::chat_request request;
  std::int64_t expires_at_ms = 0;
};

struct agent_state {
  actor_context ctx;
  store::agent_record record;
  std::string status = "offline";
  std::vector<net::sink_ptr> sinks;
  std::map<std::string, open_chat> chats;
  std::map<std::string, pending_offer> offers;
  static inline const char* name = "agent";
};

using agent_actor = caf::stateful_actor<agent_state>;

json visitor_json(const msg::visitor_summary& v) {
  return json{{"visitor_id", v.visitor_id}, {"page_url", v.page_url}, {"referrer", v.referrer}, {"email", v.email}};
}

json transcript_json(const std::vector<msg::chat_message>& t) {
  json arr = json::array();
  for (const auto& m : t) {
    json j{{"seq", m.seq}, {"from", m.from}, {"text", m.text}, {"ts", m.ts_ms}};
    if (!m.agent_name.empty()) j["agent"] = m.agent_name;
    arr.push_back(std::move(j));
  }
  return arr;
}

void broadcast(agent_actor* self, const protocol::outbound_frame& frame, std::uint64_t except_conn = 0) {
  for (auto& s : self->state.sinks)
    if (s->id() != except_conn) s->send(frame);
}

net::sink_ptr sink_of(agent_actor* self, std::uint64_t conn) {
  for (auto& s : self->state.sinks)
    if (s->id() == conn) return s;
  return nullptr;
}

void send_error(agent_actor* self, std::uint64_t conn, error_code code, std::string_view text,
                std::string_view client_msg_id = {}) {
  if (auto s = sink_of(self, conn)) {
    s->send(protocol::make_error(code, text, client_msg_id));
    self->state.ctx.stats->errors_sent++;
  }
}

void report(agent_actor* self) {
  auto& st = self->state;
  msg::agent_state_report r{st.record.id, st.record.name, caf::actor_cast<caf::actor>(self),
                            st.status == "available" && !st.sinks.empty(),
                            static_cast<std::uint32_t>(st.chats.size()), st.record.max_chats};
  self->send(st.ctx.router, msg::aupdate_atom::value, std::move(r));
}

json offer_frame(const pending_offer& o) {
  auto left_ms = std::max<std::int64_t>(0, o.expires_at_ms - now_ms());
  return json{{"type", "offer"},
              {"conversation_id", o.request.conversation_id},
              {"visitor", visitor_json(o.request.visitor)},
              {"transcript", transcript_json(o.request.transcript)},
              {"expires_in", (left_ms + 999) / 1000}};
}

json welcome_frame(agent_actor* self) {
  auto& st = self->state;
  json conversations = json::array();
  for (auto& [id, chat] : st.chats) conversations.push_back(json{{"conversation_id", id}, {"visitor", visitor_json(chat.visitor)}});
  return json{{"type", "welcome"},       {"agent_id", st.record.id},       {"name", st.record.name},
              {"status", st.status},     {"max_chats", st.record.max_chats}, {"conversations", std::move(conversations)}};
}

// Runs fn with the conversation's session, looking it up through the directory when
// this actor does not know it yet (after a restart).
template <class Fn>
void with_session(agent_actor* self, const std::string& conversation_id, Fn fn) {
  auto it = self->state.chats.find(conversation_id);
  if (it == self->state.chats.end()) return;
  if (it->second.session) {
    fn(it->second.session);
    return;
  }
  self->request(self->state.ctx.directory, caf::infinite, msg::session_atom::value, conversation_id)
    .then([=](caf::actor session) {
      auto it = self->state.chats.find(conversation_id);
      if (it != self->state.chats.end()) it->second.session = session;
      fn(session);
    }, [=](caf::error&) { self->state.chats.erase(conversation_id); report(self); });
}

caf::behavior agent(agent_actor* self, actor_context ctx, store::agent_record record) {
  auto& st = self->state;
  st.ctx = ctx;
  st.record = std::move(record);
  {
    auto txn = ctx.db->read();
    for (auto& conv_id : store::load_agent_chats(txn, st.record.id)) {
      msg::visitor_summary v;
      if (auto c = store::load_conversation(txn, conv_id)) v = {c->visitor_id, c->id, c->page_url, c->referrer, c->email};
      st.chats.emplace(conv_id, open_chat{nullptr, std::move(v)});
    }
  }
  ctx.stats->live_agents++;
  self->attach_functor([stats = ctx.stats] { stats->live_agents--; });
  report(self);

  return {
    [=](msg::attach_atom, net::sink_ptr sink, msg::bind_fn bind) {
      self->state.sinks.push_back(sink);
      bind.fn(caf::actor_cast<caf::actor>(self));
      sink->hello_completed();
      sink->send(welcome_frame(self));
      for (auto& [id, offer] : self->state.offers) sink->send(offer_frame(offer));
      report(self);
    },
    [=](msg::detach_atom, std::uint64_t conn) {
      auto& st = self->state;
      st.sinks.erase(std::remove_if(st.sinks.begin(), st.sinks.end(), [&](auto& s) { return s->id() == conn; }),
                     st.sinks.end());
      if (st.sinks.empty()) {
        // Nobody can see the offers any more: hand them on now instead of letting them expire.
        for (auto& [id, offer] : st.offers) self->send(st.ctx.router, msg::decline_atom::value, id, st.record.id);
        st.offers.clear();
      }
      report(self);
    },
    [=](msg::status_atom, std::string status) {
      self->state.status = status;
      broadcast(self, json{{"type", "status"}, {"status", status}});
      report(self);
    },
    // ---- from the router ----
    [=](msg::offer_atom, msg::chat_request req, std::int64_t expires_at_ms) {
      auto id = req.conversation_id;
      auto& offer = self->state.offers[id] = pending_offer{std::move(req), expires_at_ms};
      broadcast(self, offer_frame(offer));
    },
    [=](msg::withdraw_atom, std::string conversation_id, std::string reason) {
      if (self->state.offers.erase(conversation_id))
        broadcast(self, json{{"type", "offer_withdrawn"}, {"conversation_id", conversation_id}, {"reason", reason}});
    },
    // ---- from the agent's sockets ----
    [=](msg::accept_atom, std::uint64_t conn, std::string conversation_id) {
      auto& st = self->state;
      if (!st.offers.count(conversation_id)) {
        send_error(self, conn, error_code::offer_expired, "no open offer for this conversation");
        return;
      }
      self->request(st.ctx.router, caf::infinite, msg::accept_atom::value, conversation_id, st.record.id)
        .then(
          [=](caf::actor session) {
            auto& st = self->state;
            auto it = st.offers.find(conversation_id);
            msg::visitor_summary visitor = it != st.offers.end() ? it->second.request.visitor : msg::visitor_summary{};
            st.offers.erase(conversation_id);
            st.chats[conversation_id] = open_chat{session, std::move(visitor)};
            report(self);
          },
          [=](caf::error& err) {
            self->state.offers.erase(conversation_id);
            send_error(self, conn, from_caf_error(err), "the offer is no longer open");
          });
    },
    [=](msg::decline_atom, std::uint64_t conn, std::string conversation_id) {
      auto& st = self->state;
      if (!st.offers.erase(conversation_id)) {
        send_error(self, conn, error_code::offer_expired, "no open offer for this conversation");
        return;
      }
      self->send(st.ctx.router, msg::decline_atom::value, conversation_id, st.record.id);
    },
    [=](msg::say_atom, std::uint64_t conn, protocol::agent_say& say) {
      if (!self->state.chats.count(say.conversation_id)) {
        send_error(self, conn, error_code::not_assigned, "you do not hold this conversation", say.client_msg_id);
        return;
      }
      with_session(self, say.conversation_id, [=](caf::actor session) {
        self->request(session, caf::infinite, msg::say_atom::value, self->state.record.id, conn, say)
          .then(
            [=](std::uint64_t seq) {
              if (auto s = sink_of(self, conn)) s->send(protocol::outbound_frame::ack(say.conversation_id, say.client_msg_id, seq));
            },
            [=](caf::error& err) {
              send_error(self, conn, from_caf_error(err), "the message was not accepted", say.client_msg_id);
            });
      });
    },
    [=](msg::typing_atom, std::uint64_t, std::string conversation_id) {
      with_session(self, conversation_id, [=](caf::actor session) {
        self->send(session, msg::typing_atom::value, self->state.record.id);
      });
    },
    [=](msg::end_atom, std::uint64_t conn, std::string conversation_id) {
      if (!self->state.chats.count(conversation_id)) {
        send_error(self, conn, error_code::not_assigned, "you do not hold this conversation");
        return;
      }
      with_session(self, conversation_id, [=](caf::actor session) {
        self->request(session, caf::infinite, msg::end_atom::value, self->state.record.id, std::string{"agent_ended"})
          .then([](bool) {}, [=](caf::error& err) {
            send_error(self, conn, from_caf_error(err), "the conversation could not be ended");
          });
      });
    },
    // ---- from sessions ----
    [=](msg::joined_atom, std::string conversation_id, msg::visitor_summary visitor,
        std::vector<msg::chat_message> transcript) {
      auto& chat = self->state.chats[conversation_id];
      chat.session = caf::actor_cast<caf::actor>(self->current_sender());
      chat.visitor = visitor;
      broadcast(self, json{{"type", "chat"},
                           {"conversation_id", conversation_id},
                           {"visitor", visitor_json(visitor)},
                           {"transcript", transcript_json(transcript)}});
    },
    [=](msg::rejoin_atom, std::string conversation_id, msg::visitor_summary visitor) {
      auto& chat = self->state.chats[conversation_id];
      chat.session = caf::actor_cast<caf::actor>(self->current_sender());
      chat.visitor = std::move(visitor);
    },
    // origin_conn: the socket the message was written on, which has its ack instead.
    [=](msg::deliver_atom, msg::chat_message& m, std::uint64_t origin_conn) {
      broadcast(self, protocol::outbound_frame::message({m.conversation_id, m.seq, m.from, m.text, m.ts_ms, m.agent_name}),
                origin_conn);
    },
    [=](msg::typing_atom, std::string conversation_id, std::string from) {
      broadcast(self, protocol::make_typing(conversation_id, from));
    },
    [=](msg::ended_atom, std::string conversation_id, std::string reason) {
      self->state.chats.erase(conversation_id);
      broadcast(self, json{{"type", "ended"}, {"conversation_id", conversation_id}, {"reason", reason}});
      report(self);
    },
    // ---- from the REST API ----
    [=](msg::aadded_atom, store::agent_record record) {
      self->state.record = std::move(record);
      report(self);
    },
    [=](msg::aremoved_atom) {
      auto& st = self->state;
      // Through the directory, which outlives this actor and starts sessions not alive.
      for (auto& [id, chat] : st.chats)
        self->send(st.ctx.directory, msg::end_atom::value, id, st.record.id, std::string{"agent_removed"});
      for (auto& s : st.sinks) s->close(net::close_code::policy, "agent deleted");
      st.sinks.clear();
      self->quit();
    },
    [=](msg::shutdown_atom) {
      for (auto& s : self->state.sinks) s->close(net::close_code::going_away, "server shutting down");
      self->quit();
    },
  };
}

} // namespace

caf::actor spawn_agent(caf::actor_system& sys, const actor_context& ctx, store::agent_record record) {
  return sys.spawn(agent, ctx, std::move(record));
}

} // namespace dynchat
