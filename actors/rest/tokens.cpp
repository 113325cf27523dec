// /v1/tokens: REST API tokens with a role. Only the operator's admin token makes and
// revokes them (an admin also lists them). A token is shown once, when it is made; only
// its hash is stored, and revoking it takes effect on the next request.
#include "actors/rest/handlers.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/rest/bodies.hpp"
#include "dynchat/store/writes.hpp"

namespace dynchat::rest_api {
namespace {

using protocol::error_code;

json token_json(const store::api_token_record& t) {
  json j{{"id", t.id}, {"name", t.name}, {"role", t.role}, {"created", t.created_ms}};
  j["agent_id"] = t.agent_id.empty() ? json(nullptr) : json(t.agent_id);
  return j;
}

// The new token's fields from the body; an error text when they do not make a token.
std::string read_token_fields(const call& c, const json& body, store::api_token_record& t) {
  auto fields = rest::decode_token_body(body);
  if (!fields) return fields.error().message;
  t.name = fields->name;
  t.role = fields->role;
  t.agent_id = fields->agent_id;
  if (t.agent_id.empty()) return {};
  auto txn = c.ctx().db->read();
  if (!store::load_agent(txn, t.agent_id) || c.self->state.agents_being_deleted.count(t.agent_id))
    return "agent_id names no agent";
  return {};
}

// An agent-role token whose agent is gone (deleted before agents took their tokens
// along) authenticates nobody: it is not listed, not counted, and swept by the next write.
bool orphaned(const store::read_txn& txn, const store::api_token_record& t) {
  return t.role == "agent" && !store::load_agent(txn, t.agent_id);
}

// Tokens that exist or are being written: a write in flight counts until it is stored.
// (One being revoked counts until that is stored, so the limit holds if the revocation fails.)
std::size_t tokens_counted(const call& c, const store::read_txn& txn, std::vector<store::api_token_record>& orphans) {
  std::size_t count = 0;
  for (auto& t : store::load_api_tokens(txn)) {
    if (orphaned(txn, t)) orphans.push_back(std::move(t));
    else ++count;
  }
  for (const auto& [id, t] : c.self->state.tokens_in_flight)
    if (!txn.get(store::table::api_token_ids, id)) ++count;
  return count;
}

} // namespace

void list_tokens(call c) {
  if (!query_ok(c)) return;
  auto txn = c.ctx().db->read();
  json out = json::array();
  for (const auto& t : store::load_api_tokens(txn))
    if (!orphaned(txn, t)) out.push_back(token_json(t));
  c.reply(json_response(200, json{{"tokens", std::move(out)}}));
}

void create_token(call c) {
  if (!query_ok(c)) return;
  auto body = parse_body(c);
  if (!body) return;
  store::api_token_record t;
  if (auto err = read_token_fields(c, *body, t); !err.empty()) return c.reply(error_response(400, error_code::bad_value, err));
  std::vector<store::api_token_record> orphans;
  {
    auto txn = c.ctx().db->read();
    const auto limit = c.ctx().cfg->server.max_api_tokens;
    if (tokens_counted(c, txn, orphans) >= limit)
      return c.reply(error_response(409, error_code::conflict,
                                    "there are " + std::to_string(limit) +
                                      " API tokens already (server.max_api_tokens); revoke one first"));
  }
  t.id = new_id();
  t.created_ms = now_ms();
  const std::string token = new_secret(32);
  t.token_hash = sha256_hex(token);
  store::write_batch batch;
  store::writes::put_api_token(batch, t);
  for (const auto& o : orphans) store::writes::erase_api_token(batch, o);
  c.self->state.tokens_in_flight.emplace(t.id, t);
  write_then(
    c, std::move(batch),
    [reply = c.reply, t, token] {
      auto j = token_json(t);
      j["token"] = token; // shown once; only its hash is stored
      reply(json_response(201, j));
    },
    [self = c.self, id = t.id] { self->state.tokens_in_flight.erase(id); });
}

void delete_token(call c) {
  if (!query_ok(c)) return;
  std::optional<store::api_token_record> t;
  {
    auto txn = c.ctx().db->read();
    t = store::load_api_token(txn, c.param("id"));
  }
  if (!t) return c.reply(error_response(404, error_code::not_found, "no such token"));
  store::write_batch batch;
  store::writes::erase_api_token(batch, *t);
  write_then(c, std::move(batch), [reply = c.reply] { reply(no_content()); });
}

} // namespace dynchat::rest_api
