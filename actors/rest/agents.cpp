// /v1/agents: the agents who take chats. Their login token is shown once, at creation.
#include <map>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "actors/meeting_messages.hpp"
#include "actors/rest/handlers.hpp"
#include "dynchat/routing/stored_rules.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/rest/bodies.hpp"
#include "dynchat/rest/transcript_text.hpp"
#include "dynchat/store/writes.hpp"

namespace dynchat::rest_api {
namespace {

using protocol::error_code;

json agent_json(const store::agent_record& a) {
  return json{{"id", a.id}, {"name", a.name}, {"email", a.email}, {"max_chats", a.max_chats}, {"created", a.created_ms}};
}

// Applies what the body gives; an error text when it does not make an agent.
std::string apply_agent_body(const json& body, store::agent_record& a, bool creating) {
  auto fields = rest::decode_agent_body(body, creating);
  if (!fields) return fields.error().message;
  if (fields->name) a.name = *fields->name;
  if (fields->email) a.email = *fields->email;
  if (fields->max_chats) a.max_chats = *fields->max_chats;
  return {};
}

} // namespace

void list_agents(call c) {
  if (!query_ok(c)) return;
  std::vector<store::agent_record> agents;
  {
    auto txn = c.ctx().db->read();
    agents = store::load_agents(txn);
  }
  c.self->request(c.ctx().router, std::chrono::seconds{5}, msg::snapshot_atom::value)
    .then(
      [agents, reply = c.reply](const std::string& snapshot) {
        auto routing = json::parse(snapshot, nullptr, false);
        std::map<std::string, json> live;
        if (routing.is_object())
          for (auto& a : routing["order"]) live[a["agent_id"].get<std::string>()] = a;
        json out = json::array();
        for (auto& a : agents) {
          auto j = agent_json(a);
          auto it = live.find(a.id);
          j["available"] = it != live.end() && it->second["available"].get<bool>();
          j["active_chats"] = it != live.end() ? it->second["active"] : json(0);
          out.push_back(std::move(j));
        }
        reply(json_response(200, json{{"agents", std::move(out)}}));
      },
      [reply = c.reply](caf::error&) { reply(error_response(503, error_code::unavailable, "the router did not answer")); });
}

void create_agent(call c) {
  if (!query_ok(c)) return;
  auto parsed = parse_body(c);
  if (!parsed) return;
  store::agent_record a;
  a.max_chats = c.ctx().cfg->chat.default_max_chats;
  if (auto err = apply_agent_body(*parsed, a, true); !err.empty())
    return c.reply(error_response(400, error_code::bad_value, err));
  a.id = new_id();
  a.created_ms = now_ms();
  const std::string token = new_secret(32);
  a.token_hash = sha256_hex(token);
  store::write_batch batch;
  store::writes::put_agent(batch, a);
  write_then(c, std::move(batch), [self = c.self, reply = c.reply, a, token] {
    self->send(self->state.ctx.directory, msg::aadded_atom::value, a);
    auto j = agent_json(a);
    j["token"] = token; // shown once; only its hash is stored
    reply(json_response(201, j));
  });
}

void get_agent(call c) {
  if (!query_ok(c)) return;
  if (auto a = agent_in_path(c)) c.reply(json_response(200, agent_json(*a)));
}

void apply_update(call c, const std::function<void()>& done) {
  auto a = agent_in_path(c);
  auto parsed = a ? parse_body(c) : std::nullopt;
  if (!a || !parsed) return done();
  if (auto err = apply_agent_body(*parsed, *a, false); !err.empty()) {
    c.reply(error_response(400, error_code::bad_value, err));
    return done();
  }
  store::write_batch batch;
  store::writes::update_agent(batch, *a);
  write_then(
    c, std::move(batch),
    [self = c.self, reply = c.reply, a = *a] {
      self->send(self->state.ctx.directory, msg::aadded_atom::value, a);
      reply(json_response(200, agent_json(a)));
    },
    done);
}

void update_agent(call c) {
  if (!query_ok(c)) return;
  const auto key = "agent:" + c.param("id");
  serially(std::move(c), key, [](call c, std::function<void()> done) { apply_update(std::move(c), done); });
}

// Runs with the rule book's changes (serially, "routing"): a rule saved meanwhile cannot
// name the agent after it is gone.
void delete_agent(call c) {
  if (!query_ok(c)) return;
  serially(std::move(c), "routing", [](call c, std::function<void()> done) {
    auto a = agent_in_path(c);
    if (!a) return done();
    store::write_batch batch;
    store::writes::erase_agent(batch, *a);
    // The API tokens made for it (agent role) end with it: stored ones, and ones still being
    // written (their writes reach the store writer before this one, from the same actor).
    auto& st = c.self->state;
    std::vector<std::string> rule_book_parts;
    {
      auto txn = c.ctx().db->read();
      for (const auto& t : store::load_api_tokens(txn))
        if (t.agent_id == a->id) store::writes::erase_api_token(batch, t);
      // It leaves the rule book too: its rules and teams go on without it, its accounts route on.
      rule_book_parts = routing::forget_agent(batch, txn, a->id);
    }
    for (const auto& [id, t] : st.tokens_in_flight)
      if (t.agent_id == a->id) store::writes::erase_api_token(batch, t);
    st.agents_being_deleted.insert(a->id);
    write_then(
      c, std::move(batch),
      [self = c.self, reply = c.reply, a = *a, rule_book_parts] {
        spdlog::info("agent {} ({}) deleted over REST", a.id, rest::one_line(a.name));
        self->send(self->state.ctx.directory, msg::aremoved_atom::value, a.id);
        for (const auto& part : rule_book_parts) {
          if (self->state.ctx.scheduler) self->send(self->state.ctx.scheduler, msg::rules_atom::value, part);
          if (self->state.ctx.router) self->send(self->state.ctx.router, msg::rules_atom::value, part);
        }
        reply(no_content());
      },
      [self = c.self, id = a->id, done] {
        auto& deleting = self->state.agents_being_deleted;
        deleting.erase(deleting.find(id)); // this deletion's mark only
        done();
      });
  });
}

} // namespace dynchat::rest_api
