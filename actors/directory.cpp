#include "actors/directory.hpp"

#include <deque>
#include <set>
#include <unordered_map>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/agent.hpp"
#include "actors/messages.hpp"
#include "dynchat/store/writes.hpp"
#include "dynchat/store/leads.hpp"
#include "dynchat/marketo/identity.hpp"
#include "actors/visitor_session.hpp"
#include "dynchat/core/address_limiter.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/core/throttled_log.hpp"
#include "dynchat/dialogue/library.hpp"
#include "dynchat/engine/cursor.hpp"
#include "dynchat/site/config.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat {
namespace {

using protocol::error_code;

// The sessions and agents the directory started and that still run. Only the directory
// knows them, so it tells them to stop however it ends (see `directory` below).
struct started_actors {
  std::unordered_map<std::string, session_actor> sessions;
  std::unordered_map<std::string, agent_actor> agents;
  std::unordered_map<caf::actor_addr, std::string> session_ids;
  std::unordered_map<caf::actor_addr, std::string> agent_ids;
};

struct directory_state {
  actor_context ctx;
  std::unique_ptr<address_limiter> new_conversations; // per client address
  // Shared with the functor attached to the directory, which runs after the state is gone.
  std::shared_ptr<started_actors> started = std::make_shared<started_actors>();
  bool stopping = false;
  // Dialogues triggered in the last minute, by visitor: their visit rows may not be
  // committed yet, and two hellos of one visitor at once must not both trigger one.
  std::unordered_map<std::string, std::set<std::string, std::less<>>> recent_triggers;
  std::deque<std::pair<std::int64_t, std::string>> recent_order; // (when, visitor id), oldest first
  static inline const char* name = "directory";
};

using directory_ptr = directory_actor::stateful_pointer<directory_state>;

void refuse(directory_ptr self, const net::sink_ptr& sink, error_code code, std::string_view text) {
  sink->send(protocol::make_error(code, text));
  sink->close(net::close_code::policy, std::string{protocol::to_string(code)});
  self->state.ctx.stats->errors_sent++;
}

session_actor track_session(directory_ptr self, const std::string& id, session_actor a) {
  self->monitor(a);
  auto& started = *self->state.started;
  started.session_ids[a.address()] = id;
  started.sessions[id] = a;
  return a;
}

// The session of a stored conversation, spawned from the store if not alive.
session_actor session_for(directory_ptr self, const std::string& conversation_id) {
  auto& st = self->state;
  if (auto it = st.started->sessions.find(conversation_id); it != st.started->sessions.end()) return it->second;
  auto txn = st.ctx.db->read();
  auto conv = store::load_conversation(txn, conversation_id);
  if (!conv) return {};
  session_seed seed{std::move(*conv), store::last_seq(txn, conversation_id), false, {}, {}, {}, {}};
  return track_session(self, conversation_id, spawn_visitor_session(self->system(), st.ctx, std::move(seed)));
}

agent_actor agent_for(directory_ptr self, const std::string& agent_id) {
  auto& started = *self->state.started;
  if (auto it = started.agents.find(agent_id); it != started.agents.end()) return it->second;
  auto txn = self->state.ctx.db->read();
  auto record = store::load_agent(txn, agent_id);
  if (!record) return {};
  auto a = spawn_agent(self->system(), self->state.ctx, std::move(*record));
  self->monitor(a);
  started.agent_ids[a.address()] = agent_id;
  started.agents[agent_id] = a;
  return a;
}

// The dialogue a visitor meets on this page: the published one of highest priority whose
// audience they are in, among those this visitor has not met yet (a dialogue triggers
// once per visitor, and a completed one never shows again). Null: none.
std::pair<const dialogue::published_dialogue*, std::shared_ptr<const dialogue::published_set>>
resolve_dialogue(directory_ptr self, const std::string& visitor_id, const std::string& page_url,
                 const std::string& email, const std::map<std::string, std::string>* lead_fields = nullptr) {
  auto& st = self->state;
  if (!st.ctx.dialogues) return {nullptr, nullptr};
  auto published = st.ctx.dialogues->published();
  if (published->candidates.empty()) return {nullptr, nullptr};
  std::set<std::string, std::less<>> met;
  {
    auto txn = st.ctx.db->read();
    for (auto& v : store::load_visitor_dialogues(txn, visitor_id)) met.insert(std::move(v.dialogue_id));
  }
  if (auto it = st.recent_triggers.find(visitor_id); it != st.recent_triggers.end())
    met.insert(it->second.begin(), it->second.end());
  targeting::lead_attributes lead;
  if (lead_fields) lead.insert(lead_fields->begin(), lead_fields->end());
  if (!email.empty()) lead["email"] = email;
  return {published->resolve(page_url, lead, met), published};
}

// The local copy of a visitor's lead, by email, else by the tracking cookie's token.
std::optional<std::map<std::string, std::string>> synced_lead(directory_ptr self, const std::string& email,
                                                              const std::string& cookie) {
  auto txn = self->state.ctx.db->read();
  std::optional<store::lead_record> lead;
  if (!email.empty()) lead = store::find_lead_by_email(txn, email);
  if (!lead && !cookie.empty())
    if (auto t = marketo::parse_tracking_cookie(cookie)) lead = store::find_lead_by_cookie(txn, t->token);
  if (!lead) return std::nullopt;
  auto schema = store::load_lead_schema(txn, lead->schema);
  return store::lead_attributes(*lead, schema ? *schema : store::lead_schema{});
}

void remember_trigger(directory_ptr self, const std::string& visitor_id, const std::string& dialogue_id, std::int64_t now) {
  auto& st = self->state;
  constexpr std::int64_t keep_ms = 60'000; // far longer than a first batch takes to commit or fail
  while (!st.recent_order.empty() && st.recent_order.front().first < now - keep_ms) {
    st.recent_triggers.erase(st.recent_order.front().second);
    st.recent_order.pop_front();
  }
  auto& set = st.recent_triggers[visitor_id];
  if (set.empty()) st.recent_order.emplace_back(now, visitor_id);
  set.insert(dialogue_id);
}

session_actor new_conversation(directory_ptr self, const protocol::visitor_hello& hello,
                               const std::string& visitor_id = {}) {
  auto& st = self->state;
  const auto now = now_ms();
  store::conversation_record conv;
  conv.id = new_id();
  conv.visitor_id = !visitor_id.empty() ? visitor_id : is_id(hello.visitor_id) ? hello.visitor_id : new_id();
  conv.created_ms = conv.updated_ms = now;
  conv.page_url = hello.page_url;
  conv.referrer = hello.referrer;
  conv.email = hello.email;
  session_seed seed{std::move(conv), 0, true, new_secret(16), {}, {}, {}};
  // A known visitor (by email, or by the Munchkin cookie) brings the synced lead's fields
  // to the audience's conditions from the first dialogue on.
  seed.tracking_cookie = hello.mkto_trk;
  if (auto lead = synced_lead(self, hello.email, hello.mkto_trk)) {
    seed.lead = std::move(*lead);
    seed.lead_found = true;
    if (seed.conv.email.empty())
      if (auto it = seed.lead.find("email"); it != seed.lead.end()) seed.conv.email = it->second;
  }
  auto [met, published] =
    resolve_dialogue(self, seed.conv.visitor_id, hello.page_url, seed.conv.email, seed.lead_found ? &seed.lead : nullptr);
  if (met) {
    // Pinned to the version published now: a republish later changes nothing for it.
    engine::cursor cursor;
    cursor.flow = engine::flow_kind::dialogue;
    cursor.flow_id = met->id;
    cursor.flow_version = met->version;
    seed.conv.flow_cursor = engine::encode(cursor);
    seed.dialogue = met->def;
    remember_trigger(self, seed.conv.visitor_id, met->id, now);
    store::dialogue_visit visit;
    visit.dialogue_id = met->id;
    visit.version = met->version;
    visit.conversation_id = seed.conv.id;
    visit.visitor_id = seed.conv.visitor_id;
    visit.known = !seed.conv.email.empty();
    // One that waits for the page's events triggers when it shows (the session writes it then).
    if (!met->def->audience.events.any()) {
      visit.triggered_ms = now;
      store::writes::put_dialogue_visit(seed.initial_ops, visit);
    }
    seed.visit = std::move(visit);
  }
  // The token itself is never stored: only its hash, to find the conversation again.
  // Both go into the session's first batch, whose commit precedes the welcome.
  store::writes::put_conversation_keys(seed.initial_ops, seed.conv.id, sha256_hex(seed.fresh_token),
                                       store::visitor_record{seed.conv.visitor_id, now, seed.conv.email, seed.conv.id});
  auto id = seed.conv.id;
  return track_session(self, id, spawn_visitor_session(self->system(), st.ctx, std::move(seed)));
}

// A page load that resumes a conversation whose dialogue the visitor never answered, or
// that ran to its end: the page resolves the next dialogue (one not met yet), and a match
// starts a new conversation for the same visitor. An engaged, unfinished dialogue resumes
// wherever the visitor goes. Null: resume the old one.
session_actor next_dialogue(directory_ptr self, protocol::visitor_hello& hello, const net::sink_ptr& sink,
                            const std::string& conversation_id) {
  auto& st = self->state;
  std::optional<store::conversation_record> conv;
  {
    auto txn = st.ctx.db->read();
    conv = store::load_conversation(txn, conversation_id);
  }
  if (!conv) return {};
  auto cursor = engine::decode_cursor(conv->flow_cursor);
  if (!cursor || cursor->flow == engine::flow_kind::live_chat) return {}; // a flow the page started: as a dialogue
  // Still waiting for the page's events: the same dialogue carries on (its counts kept),
  // never resolved again beside it.
  if (cursor->flow == engine::flow_kind::dialogue && !cursor->started_shown && !cursor->finished) return {};
  const bool open_ended = conv->phase == store::conversation_phase::bot && !cursor->engaged;
  const bool done = cursor->finished && (conv->phase == store::conversation_phase::bot ||
                                         conv->phase == store::conversation_phase::ended);
  if (!open_ended && !done) return {};
  if (st.ctx.site && !st.ctx.site->current()->chat_enabled) return {}; // switched off: nothing new starts
  const auto email = hello.email.empty() ? conv->email : hello.email; // as the new conversation will have it
  if (!resolve_dialogue(self, conv->visitor_id, hello.page_url, email).first) return {};
  if (!st.new_conversations->allow(sink->remote_address())) return {}; // over the rate: the old one resumes
  hello.resume_token.clear(); // the welcome carries the new conversation's token
  hello.last_seq = 0;
  hello.email = email;
  return new_conversation(self, hello, conv->visitor_id);
}

// A visitor's hello: a new conversation (within the per-address rate) or the one its
// resume token names.
void visitor_hello(directory_ptr self, protocol::visitor_hello hello, const net::sink_ptr& sink, msg::visitor_bind bind) {
  if (self->state.stopping) return;
  const auto site = self->state.ctx.site ? self->state.ctx.site->current() : std::make_shared<const site::config>();
  // Only the sites the configuration allows may use the chat: the page the hello names,
  // and the Origin a browser sent with the upgrade (a page cannot forge that one).
  if (!site::site_allowed(*site, site::host_of(hello.page_url)) ||
      (!sink->origin().empty() && !site::site_allowed(*site, site::host_of(sink->origin()))))
    return refuse(self, sink, error_code::forbidden, "this site is not one the chat may be used on");
  session_actor session;
  if (hello.resume_token.empty() && !site->chat_enabled)
    return refuse(self, sink, error_code::unavailable, "the chat is switched off");
  if (hello.resume_token.empty()) {
    auto& st = self->state;
    if (!st.new_conversations->allow(sink->remote_address())) {
      st.ctx.stats->conversations_refused++;
      log_throttled(st.ctx.stats->log_conversation_limit, spdlog::level::warn,
                    "refused a new conversation from {}: over chat.new_conversations_per_second", sink->remote_address());
      return refuse(self, sink, error_code::rate_limited,
                    "too many new conversations from your address; try again in a moment");
    }
    session = new_conversation(self, hello);
  } else {
    std::optional<std::string> conv_id;
    {
      auto txn = self->state.ctx.db->read();
      conv_id = store::find_conversation_by_resume_hash(txn, sha256_hex(hello.resume_token));
    }
    if (conv_id && hello.page_load) session = next_dialogue(self, hello, sink, *conv_id);
    if (!session && conv_id) session = session_for(self, *conv_id);
    if (!session) return refuse(self, sink, error_code::invalid_resume_token, "unknown resume token");
  }
  msg::bind_now bind_session{[bind = std::move(bind), session] { bind.fn(session); }};
  self->send(session, msg::attach_atom::value, std::move(hello), std::move(sink), std::move(bind_session));
}

// An agent's hello: its token names the agent, whose actor takes the socket.
void agent_hello(directory_ptr self, protocol::agent_hello hello, const net::sink_ptr& sink, msg::agent_bind bind) {
  auto& st = self->state;
  if (st.stopping) return;
  std::optional<std::string> agent_id;
  {
    auto txn = st.ctx.db->read();
    agent_id = store::find_agent_by_token_hash(txn, sha256_hex(hello.token));
  }
  agent_actor agent = agent_id ? agent_for(self, *agent_id) : agent_actor{};
  if (!agent) {
    st.ctx.stats->failed_logins++;
    log_throttled(st.ctx.stats->log_failed_login, spdlog::level::warn, "agent hello with an unknown token from {}",
                  sink->remote_address());
    return refuse(self, sink, error_code::unauthorized, "unknown agent token");
  }
  msg::bind_now bind_agent{[bind = std::move(bind), agent] { bind.fn(agent); }};
  self->send(agent, msg::attach_atom::value, std::move(sink), std::move(bind_agent), std::move(hello));
}

// Start-up: every conversation that was waiting or live gets its actor back, so its
// deadlines run again (grace, idle) whether or not anyone returns to it. Answers how many
// were started; throws store_error when the store cannot be read.
std::uint64_t recover_open_conversations(directory_ptr self) {
  std::vector<std::string> open;
  store::write_batch stale;
  {
    auto txn = self->state.ctx.db->read();
    for (auto& id : store::load_open_conversations(txn)) {
      auto c = store::load_conversation(txn, id);
      if (c && (c->phase == store::conversation_phase::waiting || c->phase == store::conversation_phase::live))
        open.push_back(id);
      else
        store::writes::set_open(stale, id, false);
    }
  }
  if (!stale.empty())
    self->request(self->state.ctx.writer, caf::infinite, msg::write_atom::value, std::move(stale))
      .then([](std::uint64_t) {}, [](caf::error&) {});
  std::uint64_t started = 0;
  for (const auto& id : open) started += static_cast<bool>(session_for(self, id));
  return started;
}

void refuse_on_store_failure(directory_ptr self, const net::sink_ptr& sink, const store::store_error& e) {
  spdlog::error("directory: a hello could not be served: store: {}", e.what());
  refuse(self, sink, error_code::store_failed, "the server could not read its store; try again");
}

directory_actor::behavior_type directory(directory_ptr self, actor_context ctx) {
  self->state.ctx = ctx;
  self->state.new_conversations = std::make_unique<address_limiter>(ctx.cfg->chat.new_conversations_per_second,
                                                                    ctx.cfg->chat.new_conversations_burst);
  self->state.ctx.directory = caf::actor_cast<directory_actor>(self); // sessions and agents inherit this context
  // The router is spawned first and finds conversations it restored without a session here.
  if (ctx.router) self->send(ctx.router, msg::directory_atom::value, self->state.ctx.directory);
  // However the directory ends (an exception, a kill, or its orderly quit, when none are
  // left), the sessions and agents still running are told to stop: nobody else could, and
  // the process would wait for them until its watchdog ended it.
  self->attach_functor([started = self->state.started](const caf::error&) {
    for (auto& [id, s] : started->sessions) caf::anon_send(s, msg::shutdown_atom::value);
    for (auto& [id, a] : started->agents) caf::anon_send(a, msg::shutdown_atom::value);
  });
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    auto& started = *st.started;
    if (auto it = started.session_ids.find(dm.source); it != started.session_ids.end()) {
      started.sessions.erase(it->second);
      started.session_ids.erase(it);
    } else if (auto it = started.agent_ids.find(dm.source); it != started.agent_ids.end()) {
      started.agents.erase(it->second);
      started.agent_ids.erase(it);
    }
    if (st.stopping && started.sessions.empty() && started.agents.empty()) self->quit();
  });
  return {
    [=](msg::vhello_atom, protocol::visitor_hello& hello, net::sink_ptr sink, msg::visitor_bind bind) {
      guard_store([&] { visitor_hello(self, std::move(hello), sink, std::move(bind)); },
                  [&](const store::store_error& e) { refuse_on_store_failure(self, sink, e); });
    },
    [=](msg::ahello_atom, protocol::agent_hello& hello, net::sink_ptr sink, msg::agent_bind bind) {
      guard_store([&] { agent_hello(self, std::move(hello), sink, std::move(bind)); },
                  [&](const store::store_error& e) { refuse_on_store_failure(self, sink, e); });
    },
    // Start-up. A store that cannot be read is logged and answered as an error, so the
    // daemon refuses to start rather than the directory ending.
    [=](msg::recover_atom) -> caf::result<std::uint64_t> {
      return guard_store([&]() -> caf::result<std::uint64_t> { return recover_open_conversations(self); },
                         [](const store::store_error& e) -> caf::result<std::uint64_t> {
                           spdlog::error("directory: open conversations could not be recovered: store: {}", e.what());
                           return to_caf_error(error_code::store_failed);
                         });
    },
    // Nothing new is started once the directory stops: it would wait for it forever.
    [=](msg::session_atom, std::string conversation_id) -> caf::result<session_actor> {
      if (self->state.stopping) return to_caf_error(error_code::unavailable);
      return guard_store(
        [&]() -> caf::result<session_actor> {
          if (auto s = session_for(self, conversation_id)) return s;
          return to_caf_error(error_code::unknown_conversation);
        },
        [](const store::store_error&) -> caf::result<session_actor> { return to_caf_error(error_code::store_failed); });
    },
    [=](msg::agent_atom, std::string agent_id) -> caf::result<agent_actor> {
      if (self->state.stopping) return to_caf_error(error_code::unavailable);
      return guard_store(
        [&]() -> caf::result<agent_actor> {
          if (auto a = agent_for(self, agent_id)) return a;
          return to_caf_error(error_code::unauthorized);
        },
        [](const store::store_error&) -> caf::result<agent_actor> { return to_caf_error(error_code::store_failed); });
    },
    // A removed agent's open chats end, whether or not their sessions are alive.
    [=](msg::end_atom, std::string conversation_id, std::string agent_id, std::string reason) {
      if (self->state.stopping) { // only a running session: a new one would never be told to stop
        auto& sessions = self->state.started->sessions;
        if (auto it = sessions.find(conversation_id); it != sessions.end())
          self->request(it->second, caf::infinite, msg::agent_end_atom::value, agent_id, reason).then([](bool) {}, [](caf::error&) {});
        return;
      }
      guard_store(
        [&] {
          if (auto s = session_for(self, conversation_id))
            self->request(s, caf::infinite, msg::agent_end_atom::value, agent_id, reason).then([](bool) {}, [](caf::error&) {});
        },
        [&](const store::store_error& e) {
          spdlog::error("directory: conversation {} could not be ended: store: {}", conversation_id, e.what());
        });
    },
    // ---- agent lifecycle from the REST API ----
    [=](msg::aadded_atom, store::agent_record record) {
      const auto& agents = self->state.started->agents;
      if (auto it = agents.find(record.id); it != agents.end())
        self->send(it->second, msg::aadded_atom::value, record);
      if (self->state.ctx.scheduler) self->send(self->state.ctx.scheduler, msg::aadded_atom::value, record);
      self->send(self->state.ctx.router, msg::aadded_atom::value, std::move(record));
    },
    [=](msg::chat_hours_atom, const std::string& agent_id) {
      const auto& agents = self->state.started->agents;
      if (auto it = agents.find(agent_id); it != agents.end()) self->send(it->second, msg::chat_hours_atom::value);
    },
    [=](msg::aremoved_atom, std::string agent_id) {
      auto& st = self->state;
      if (auto it = st.started->agents.find(agent_id); it != st.started->agents.end())
        self->send(it->second, msg::aremoved_atom::value);
      if (st.ctx.scheduler) self->send(st.ctx.scheduler, msg::aremoved_atom::value, agent_id);
      self->send(st.ctx.router, msg::aremoved_atom::value, agent_id);
    },
    [=](msg::shutdown_atom) {
      auto& st = self->state;
      st.stopping = true;
      for (auto& [id, s] : st.started->sessions) self->send(s, msg::shutdown_atom::value);
      for (auto& [id, a] : st.started->agents) self->send(a, msg::shutdown_atom::value);
      if (st.started->sessions.empty() && st.started->agents.empty()) self->quit();
    },
  };
}

} // namespace

directory_actor spawn_directory(caf::actor_system& sys, const actor_context& ctx) {
  return sys.spawn(directory, ctx);
}

} // namespace dynchat
