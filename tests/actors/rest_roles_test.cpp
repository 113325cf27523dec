// Every REST route against every role: a role the route admits gets past the gate (its
// answer may still be 400 or 404 for the sample request), any other gets 403, and a
// request without a valid token gets 401. Routes come from the live table, so a route
// added later is covered without touching this test.
#include "fixture.hpp"

#include <regex>

#include "actors/directory.hpp"
#include "actors/rest_api.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/store/writes.hpp"

using namespace dynchat;
using namespace dynchat::testing;
using rest::role;

namespace {

struct rest_fixture : actor_fixture {
  std::unique_ptr<net::http_handler> api;
  std::map<role, std::string> tokens;
  store::agent_record agent;

  rest_fixture() {
    ctx.router = spawn_router(sys, ctx);
    ctx.directory = spawn_directory(sys, ctx);
    run();
    tokens[role::admin] = "the-admin-token";
    api = make_rest_api(sys, ctx, sha256_hex(tokens[role::admin]));
    agent.id = new_id();
    agent.name = "Ann";
    agent.token_hash = sha256_hex("ann-login-token");
    store::write_batch b;
    store::writes::put_agent(b, agent);
    for (auto r : {role::marketer, role::sales_admin, role::agent}) {
      store::api_token_record t;
      t.id = new_id();
      t.name = std::string{rest::to_string(r)};
      t.role = t.name;
      if (r == role::agent) t.agent_id = agent.id;
      tokens[r] = "token-of-" + t.name;
      t.token_hash = sha256_hex(tokens[r]);
      store::writes::put_api_token(b, t);
    }
    auto txn = ctx.db->write();
    store::writes::apply(txn, b);
    txn.commit();
  }
  ~rest_fixture() { api.reset(); }

  net::http_response call(const std::string& method, const std::string& target, const std::string& token,
                          std::string body = "{}") {
    std::optional<net::http_response> answer;
    api->handle({method, target, token.empty() ? "" : "Bearer " + token, std::move(body), "127.0.0.1"},
                [&](net::http_response r) { answer = std::move(r); });
    run();
    REQUIRE(answer);
    return *answer;
  }
  // A concrete path for a route: {id} is the agent's own id (so the agent role can pass
  // the ownership check where there is one), except for a DELETE, which must not take
  // the fixture's agent away from the rows that follow.
  std::string sample_path(const rest::route& r) const {
    return std::regex_replace(r.pattern, std::regex{"\\{id\\}"}, r.method == "DELETE" ? new_id() : agent.id);
  }
};

} // namespace

TEST_CASE("every route admits exactly the roles it declares", "[actors][rest][roles]") {
  rest_fixture f;
  const auto& routes = rest_routes().routes();
  REQUIRE(routes.size() >= 13);
  for (const auto& r : routes) {
    for (auto who : {role::admin, role::marketer, role::sales_admin, role::agent}) {
      CAPTURE(r.method, r.pattern, rest::to_string(who));
      const auto answer = f.call(r.method, f.sample_path(r), f.tokens[who]);
      CHECK(answer.status != 401);
      if (r.roles.has(who)) CHECK(answer.status != 403);
      else CHECK(answer.status == 403);
    }
    CAPTURE(r.method, r.pattern);
    CHECK(f.call(r.method, f.sample_path(r), "").status == 401);
    CHECK(f.call(r.method, f.sample_path(r), "not-a-token").status == 401);
  }
}

TEST_CASE("an agent reaches only its own agent and conversations", "[actors][rest][roles]") {
  rest_fixture f;
  const auto& agent_token = f.tokens[role::agent];
  CHECK(f.call("GET", "/v1/agents/" + f.agent.id, agent_token).status == 200);
  CHECK(f.call("GET", "/v1/agents/" + new_id(), agent_token).status == 403);
  // Its login token works as the agent role too.
  CHECK(f.call("GET", "/v1/agents/" + f.agent.id, "ann-login-token").status == 200);
  CHECK(f.call("GET", "/v1/agents", "ann-login-token").status == 403);
  auto other = f.call("GET", "/v1/conversations?agent_id=" + new_id(), agent_token);
  CHECK(other.status == 400);
  CHECK(f.call("GET", "/v1/conversations", agent_token).status == 200);
}

TEST_CASE("tokens are made with a role, listed without their secret, and revoked", "[actors][rest][roles]") {
  rest_fixture f;
  const auto& admin = f.tokens[role::admin];
  auto made = f.call("POST", "/v1/tokens", admin, R"({"name":"reports","role":"marketer"})");
  REQUIRE(made.status == 201);
  auto body = nlohmann::json::parse(made.body);
  const std::string token = body["token"], id = body["id"];
  CHECK(body["role"] == "marketer");
  CHECK(f.call("GET", "/v1/conversations", token).status == 200);
  CHECK(f.call("GET", "/v1/agents", token).status == 403);
  auto listed = f.call("GET", "/v1/tokens", admin);
  CHECK(listed.body.find(token) == std::string::npos); // only the hash is kept
  CHECK(listed.body.find(id) != std::string::npos);
  CHECK(f.call("DELETE", "/v1/tokens/" + id, admin).status == 204);
  CHECK(f.call("GET", "/v1/conversations", token).status == 401);
  CHECK(f.call("DELETE", "/v1/tokens/" + id, admin).status == 404);
}

TEST_CASE("a token request that does not make a token is refused with the reason", "[actors][rest][roles]") {
  rest_fixture f;
  const auto& admin = f.tokens[role::admin];
  struct row {
    const char* body;
    const char* reason;
  };
  const row rows[] = {
    {R"({"name":"x","role":"owner"})", "role must be one of"},
    {R"({"name":" ","role":"marketer"})", "name must be"},
    {R"({"role":"marketer"})", "name must be"},
    {R"({"name":"x","role":"agent"})", "needs agent_id"},
    {R"({"name":"x","role":"agent","agent_id":"00000000000000000000000000000000"})", "names no agent"},
    {R"({"name":"x","role":"marketer","agent_id":"00000000000000000000000000000000"})", "only for the agent role"},
    {R"({"name":"x","role":"marketer","scope":"all"})", "unknown field"},
    {R"([1,2])", "must be a JSON object"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.body);
    auto answer = f.call("POST", "/v1/tokens", admin, r.body);
    CHECK(answer.status == 400);
    CHECK(answer.body.find(r.reason) != std::string::npos);
  }
}

TEST_CASE("at server.max_api_tokens a new token is refused until one is revoked", "[actors][rest][roles]") {
  rest_fixture f;
  f.config.server.max_api_tokens = 4; // the fixture made 3
  const auto& admin = f.tokens[role::admin];
  auto fourth = f.call("POST", "/v1/tokens", admin, R"({"name":"a","role":"marketer"})");
  REQUIRE(fourth.status == 201);
  auto fifth = f.call("POST", "/v1/tokens", admin, R"({"name":"b","role":"marketer"})");
  CHECK(fifth.status == 409);
  CHECK(fifth.body.find("server.max_api_tokens") != std::string::npos);
  const std::string id = nlohmann::json::parse(fourth.body)["id"];
  CHECK(f.call("DELETE", "/v1/tokens/" + id, admin).status == 204);
  CHECK(f.call("POST", "/v1/tokens", admin, R"({"name":"b","role":"marketer"})").status == 201);
}

TEST_CASE("deleting an agent ends its agent-role API tokens", "[actors][rest][roles]") {
  rest_fixture f;
  CHECK(f.call("DELETE", "/v1/agents/" + f.agent.id, f.tokens[role::admin]).status == 204);
  CHECK(f.call("GET", "/v1/conversations", f.tokens[role::agent]).status == 401);
}
