#include "actors/rest_api.hpp"

#include <algorithm>
#include <limits>
#include <map>

#include <caf/all.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "dynchat/store/writes.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/protocol/text_rules.hpp"
#include "dynchat/rest/query.hpp"
#include "dynchat/rest/route_table.hpp"
#include "dynchat/rest/transcript_text.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat {
namespace {

using json = nlohmann::json;
using reply_fn = std::function<void(net::http_response)>;

struct rest_state {
  actor_context ctx;
  std::string admin_hash;
  static inline const char* name = "rest_api";
};
using rest_actor = caf::stateful_actor<rest_state>;

net::http_response json_response(unsigned status, const json& body) {
  return {status, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace), {}};
}

net::http_response error_response(unsigned status, std::string_view code, std::string_view message) {
  return json_response(status, json{{"error", {{"code", code}, {"message", message}}}});
}

json agent_json(const store::agent_record& a) {
  return json{{"id", a.id}, {"name", a.name}, {"email", a.email}, {"max_chats", a.max_chats}, {"created", a.created_ms}};
}

json conversation_json(const store::conversation_record& c) {
  return json{{"id", c.id},
              {"visitor_id", c.visitor_id},
              {"status", store::to_string(c.phase)},
              {"agent_id", c.agent_id},
              {"created", c.created_ms},
              {"updated", c.updated_ms},
              {"ended", c.ended_ms},
              {"end_reason", c.end_reason},
              {"page_url", c.page_url},
              {"referrer", c.referrer},
              {"email", c.email}};
}

json message_json(std::uint64_t seq, const store::message_record& m) {
  json j{{"seq", seq}, {"from", m.from}, {"text", m.text}, {"ts", m.ts_ms}};
  if (!m.agent_name.empty()) j["agent"] = m.agent_name;
  if (!m.client_msg_id.empty()) j["client_msg_id"] = m.client_msg_id;
  return j;
}

bool has_control_characters(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// Validates and applies the writable agent fields of a JSON body; returns an error text.
std::string apply_agent_fields(const json& body, store::agent_record& a, bool creating) {
  if (!body.is_object()) return "the body must be a JSON object";
  for (auto it = body.begin(); it != body.end(); ++it)
    if (it.key() != "name" && it.key() != "email" && it.key() != "max_chats") return "unknown field '" + it.key().substr(0, 40) + "'";
  if (auto it = body.find("name"); it != body.end()) {
    // Visitors read it in "Ann joined the chat": it must show something.
    if (!it->is_string() || protocol::is_blank(it->get_ref<const std::string&>()) ||
        it->get_ref<const std::string&>().size() > 100 || has_control_characters(it->get_ref<const std::string&>()))
      return "name must be a string of 1 to 100 bytes, not blank, without control characters";
    a.name = it->get<std::string>();
  } else if (creating) {
    return "name is required";
  }
  if (auto it = body.find("email"); it != body.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().size() > 254 || has_control_characters(it->get_ref<const std::string&>()))
      return "email must be a string of at most 254 bytes";
    a.email = it->get<std::string>();
  }
  if (auto it = body.find("max_chats"); it != body.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 10)
      return "max_chats must be an integer from 1 to 10";
    a.max_chats = static_cast<std::uint32_t>(it->get<std::int64_t>());
  }
  return {};
}

void write_then(rest_actor* self, store::write_batch batch, std::function<void()> done, reply_fn reply) {
  self->request(self->state.ctx.writer, caf::infinite, msg::write_atom::value, std::move(batch))
    .then([done = std::move(done)](std::uint64_t) { done(); },
          [reply](caf::error&) { reply(error_response(503, "store_failed", "the change could not be stored")); });
}

void list_agents(rest_actor* self, reply_fn reply) {
  std::vector<store::agent_record> agents;
  {
    auto txn = self->state.ctx.db->read();
    agents = store::load_agents(txn);
  }
  self->request(self->state.ctx.router, std::chrono::seconds{5}, msg::snapshot_atom::value)
    .then(
      [=](const std::string& snapshot) {
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
      [=](caf::error&) { reply(error_response(503, "unavailable", "the router did not answer")); });
}

// The body as JSON, through the same nesting guard as websocket frames.
std::optional<json> parse_body(const std::string& body, const reply_fn& reply) {
  auto parsed = protocol::parse_json(body);
  if (!parsed) {
    reply(error_response(400, "bad_json", "the body is not valid JSON: " + parsed.error().message));
    return std::nullopt;
  }
  return std::move(*parsed);
}

void create_agent(rest_actor* self, const std::string& body, reply_fn reply) {
  auto parsed = parse_body(body, reply);
  if (!parsed) return;
  store::agent_record a;
  a.max_chats = self->state.ctx.cfg->chat.default_max_chats;
  if (auto err = apply_agent_fields(*parsed, a, true); !err.empty()) return reply(error_response(400, "bad_value", err));
  a.id = new_id();
  a.created_ms = now_ms();
  const std::string token = new_secret(32);
  a.token_hash = sha256_hex(token);
  store::write_batch batch;
  store::writes::put_agent(batch, a);
  write_then(self, std::move(batch), [=] {
    self->send(self->state.ctx.directory, msg::aadded_atom::value, a);
    auto j = agent_json(a);
    j["token"] = token; // shown once; only its hash is stored
    reply(json_response(201, j));
  }, reply);
}

void agent_item(rest_actor* self, const std::string& method, const std::string& id, const std::string& body,
                reply_fn reply) {
  std::optional<store::agent_record> found;
  {
    auto txn = self->state.ctx.db->read();
    found = store::load_agent(txn, id);
  }
  if (!found) return reply(error_response(404, "not_found", "no such agent"));
  auto a = *found;
  if (method == "GET") return reply(json_response(200, agent_json(a)));
  if (method == "PUT" || method == "PATCH") {
    auto parsed = parse_body(body, reply);
    if (!parsed) return;
    if (auto err = apply_agent_fields(*parsed, a, false); !err.empty()) return reply(error_response(400, "bad_value", err));
    store::write_batch batch;
    store::writes::update_agent(batch, a);
    write_then(self, std::move(batch), [=] {
      self->send(self->state.ctx.directory, msg::aadded_atom::value, a);
      reply(json_response(200, agent_json(a)));
    }, reply);
    return;
  }
  if (method == "DELETE") {
    store::write_batch batch;
    store::writes::erase_agent(batch, a);
    write_then(self, std::move(batch), [=] {
      spdlog::info("agent {} ({}) deleted over REST", a.id, rest::one_line(a.name));
      self->send(self->state.ctx.directory, msg::aremoved_atom::value, a.id);
      reply(net::http_response{204, "application/json", {}, {}});
    }, reply);
  }
}

void bad_parameter(const reply_fn& reply, const std::string& message) {
  reply(error_response(400, "bad_parameter", message));
}

// An id-valued parameter: empty when absent, an error when not an id.
std::string id_param(rest::query& q, const std::string& name) {
  auto v = q.text(name);
  if (!v.empty() && !is_id(v)) q.fail("parameter '" + name + "' must be a 32-character id");
  return v;
}

void list_conversations(rest_actor* self, rest::query q, reply_fn reply) {
  constexpr std::size_t scan_budget = 20000; // records examined per page at most
  constexpr auto forever = std::numeric_limits<std::int64_t>::max();
  const auto limit = q.integer("limit", 50, 1, 500);
  const auto status = q.text("status", {"bot", "waiting", "live", "ended"});
  const auto agent = id_param(q, "agent_id"), visitor = id_param(q, "visitor_id"), cursor = id_param(q, "cursor");
  const auto since = q.integer("since", 0, 0, forever);
  const auto until = q.integer("until", forever, 0, forever);
  if (since > until) q.fail("parameter 'since' must not be after 'until'");
  if (auto err = q.error()) return bad_parameter(reply, *err);
  json items = json::array();
  std::string next_cursor, last_examined;
  std::size_t examined = 0;
  auto txn = self->state.ctx.db->read();
  // Newest first: ids begin with their creation time. The cursor is exclusive: the next
  // page starts right after the last conversation this one examined.
  txn.scan_prefix_reverse(store::table::conversations, "", cursor, [&](std::string_view key, std::string_view value) {
    if (examined >= scan_budget || items.size() >= static_cast<std::size_t>(limit)) {
      next_cursor = last_examined;
      return false;
    }
    ++examined;
    last_examined = std::string{key};
    auto c = store::decode_conversation(value);
    if (!c) return true;
    if (c->created_ms < since) return false; // older than the window: nothing further can match
    if (c->created_ms > until) return true;
    if (!status.empty() && store::to_string(c->phase) != status) return true;
    if (!agent.empty() && c->agent_id != agent) return true;
    if (!visitor.empty() && c->visitor_id != visitor) return true;
    items.push_back(conversation_json(*c));
    return true;
  });
  json body{{"conversations", std::move(items)}};
  body["next_cursor"] = next_cursor.empty() ? json(nullptr) : json(next_cursor);
  reply(json_response(200, body));
}

void conversation_item(rest_actor* self, rest::query q, const std::string& id, bool as_text, reply_fn reply) {
  auto txn = self->state.ctx.db->read();
  auto c = store::load_conversation(txn, id);
  const auto after = static_cast<std::uint64_t>(q.integer("after_seq", 0, 0, std::numeric_limits<std::int64_t>::max()));
  const auto limit = static_cast<std::size_t>(q.integer("limit", 1000, 1, 10000));
  if (auto err = q.error()) return bad_parameter(reply, *err);
  if (!c) return reply(error_response(404, "not_found", "no such conversation"));
  if (const auto newest = store::last_seq(txn, id); after > newest)
    return bad_parameter(reply, "parameter 'after_seq' is " + std::to_string(after) + ", past the newest message (" +
                                  std::to_string(newest) + ")");
  auto messages = store::load_messages(txn, id, after, limit);
  if (as_text) return reply(net::http_response{200, "text/plain; charset=utf-8", rest::transcript_text(*c, messages), {}});
  json list = json::array();
  for (auto& [seq, m] : messages) list.push_back(message_json(seq, m));
  auto body = conversation_json(*c);
  body["messages"] = std::move(list);
  reply(json_response(200, body));
}

enum handler_id { agents_list, agents_create, agent_get, agent_update, agent_delete, conversations_list, conversation_get,
                  conversation_text, routing_get };

const rest::route_table& routes() {
  static const rest::route_table table{{
    {"GET", "/v1/agents", agents_list},
    {"POST", "/v1/agents", agents_create},
    {"GET", "/v1/agents/{id}", agent_get},
    {"PUT", "/v1/agents/{id}", agent_update},
    {"PATCH", "/v1/agents/{id}", agent_update},
    {"DELETE", "/v1/agents/{id}", agent_delete},
    {"GET", "/v1/conversations", conversations_list},
    {"GET", "/v1/conversations/{id}", conversation_get},
    {"GET", "/v1/conversations/{id}/transcript.txt", conversation_text},
    {"GET", "/v1/routing", routing_get},
  }};
  return table;
}

void route(rest_actor* self, net::http_request& req, reply_fn reply) {
  const auto q = req.target.find('?');
  const std::string path = req.target.substr(0, q);
  rest::query query{q == std::string::npos ? std::string_view{} : std::string_view{req.target}.substr(q + 1)};
  if (path.rfind("/v1/", 0) != 0) return reply(error_response(404, "not_found", "no such route"));
  const std::string prefix = "Bearer ";
  const bool authorized = req.authorization.size() > prefix.size() && req.authorization.compare(0, prefix.size(), prefix) == 0 &&
                          constant_time_equal(sha256_hex(req.authorization.substr(prefix.size())), self->state.admin_hash);
  if (!authorized) return reply(error_response(401, "unauthorized", "missing or wrong admin bearer token"));
  auto m = routes().match(req.method, path);
  if (m.what == rest::route_match::kind::no_such_path) return reply(error_response(404, "not_found", "no such route"));
  if (m.what == rest::route_match::kind::wrong_method) {
    auto r = error_response(405, "method_not_allowed", "this resource takes " + m.allow);
    r.allow = m.allow;
    return reply(r);
  }
  // Handlers that take no parameters refuse any.
  auto no_parameters = [&] {
    if (auto err = query.error()) {
      bad_parameter(reply, *err);
      return false;
    }
    return true;
  };
  switch (m.handler) {
    case agents_list: if (no_parameters()) list_agents(self, reply); return;
    case agents_create: if (no_parameters()) create_agent(self, req.body, reply); return;
    case agent_get:
    case agent_update:
    case agent_delete: if (no_parameters()) agent_item(self, req.method, m.params["id"], req.body, reply); return;
    case conversations_list: return list_conversations(self, std::move(query), reply);
    case conversation_get: return conversation_item(self, std::move(query), m.params["id"], false, reply);
    case conversation_text: return conversation_item(self, std::move(query), m.params["id"], true, reply);
    case routing_get:
      if (!no_parameters()) return;
      self->request(self->state.ctx.router, std::chrono::seconds{5}, msg::snapshot_atom::value)
        .then([=](const std::string& s) { reply(net::http_response{200, "application/json", s, {}}); },
              [=](caf::error&) { reply(error_response(503, "unavailable", "the router did not answer")); });
      return;
  }
  reply(error_response(404, "not_found", "no such route"));
}

caf::behavior rest_api(rest_actor* self, actor_context ctx, std::string admin_hash) {
  self->state.ctx = std::move(ctx);
  self->state.admin_hash = std::move(admin_hash);
  return {
    [=](msg::rest_atom, net::http_request& req, reply_fn& reply) {
      try {
        route(self, req, reply);
      } catch (const std::exception& e) {
        reply(error_response(500, "internal", e.what()));
      }
    },
    [=](msg::shutdown_atom) { self->quit(); },
  };
}

class rest_handler final : public net::http_handler {
public:
  explicit rest_handler(caf::actor actor) : actor_(std::move(actor)) {}
  ~rest_handler() override { caf::anon_send(actor_, msg::shutdown_atom::value); }
  void handle(net::http_request request, reply_fn reply) override {
    caf::anon_send(actor_, msg::rest_atom::value, std::move(request), std::move(reply));
  }

private:
  caf::actor actor_;
};

} // namespace

std::unique_ptr<net::http_handler> make_rest_api(caf::actor_system& sys, const actor_context& ctx,
                                                 std::string admin_token_hash) {
  return std::make_unique<rest_handler>(sys.spawn(rest_api, ctx, std::move(admin_token_hash)));
}

} // namespace dynchat
