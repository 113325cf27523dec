// Every REST route against every role: a role the route admits gets past the gate (its
// answer may still be 400 or 404 for the sample request), any other gets 403, and a
// request without a valid token gets 401. Routes come from the live table, so a route
// added later is covered without touching this test.
#include "fixture.hpp"
#include "flaky_writer.hpp"

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
  std::map<role, std::string> tokens; // role::admin: the operator's admin token
  std::string admin_api_token;        // an API token with the admin role: not the operator's
  store::agent_record agent;

  std::shared_ptr<int> failures = std::make_shared<int>(0); // write requests still to fail

  rest_fixture() {
    own(ctx.writer);
    ctx.writer = caf::actor_cast<store_writer_actor>(sys.spawn(flaky_writer, ctx.writer, failures));
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
    store::api_token_record admin_api{new_id(), "delegated admin", "admin", {}, sha256_hex("token-of-an-admin"), 0};
    admin_api_token = "token-of-an-admin";
    store::writes::put_api_token(b, admin_api);
    auto txn = ctx.db->write();
    store::writes::apply(txn, b);
    txn.commit();
  }
  ~rest_fixture() { api.reset(); }

  net::http_response call(const std::string& method, const std::string& target, const std::string& token,
                          std::string body = "{}") {
    auto answers = calls({{method, target, token, std::move(body)}});
    return answers.at(0);
  }
  struct request {
    std::string method, target, token, body = "{}";
  };
  // Every request is handed to the REST actor before any is served, as concurrent
  // clients would; the answers in the requests' order.
  std::vector<net::http_response> calls(std::vector<request> requests) {
    std::vector<std::optional<net::http_response>> answers(requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
      auto& r = requests[i];
      api->handle({r.method, r.target, r.token.empty() ? "" : "Bearer " + r.token, std::move(r.body), "127.0.0.1"},
                  [&answers, i](net::http_response a) { answers[i] = std::move(a); });
    }
    run();
    std::vector<net::http_response> out;
    for (auto& a : answers) {
      REQUIRE(a);
      out.push_back(std::move(*a));
    }
    return out;
  }
  std::size_t tokens_listed() {
    auto listed = call("GET", "/v1/tokens", tokens[role::admin]);
    REQUIRE(listed.status == 200);
    return nlohmann::json::parse(listed.body)["tokens"].size();
  }
  // A concrete path for a route: {id} is the agent's own id (so the agent role can pass
  // the ownership check where there is one), except for a DELETE of the resource itself,
  // which must not take the fixture's agent away from the rows that follow.
  std::string sample_path(const rest::route& r) const {
    const bool deletes_it = r.method == "DELETE" && r.pattern.size() >= 4 && r.pattern.ends_with("{id}");
    return std::regex_replace(r.pattern, std::regex{"\\{id\\}"}, deletes_it ? new_id() : agent.id);
  }
};

} // namespace

TEST_CASE("every route admits exactly the roles it declares", "[actors][rest][roles]") {
  rest_fixture f;
  const auto& routes = rest_routes().routes();
  REQUIRE(routes.size() >= 13);
  struct caller {
    const char* name;
    rest::principal who;
    std::string token;
  };
  const caller callers[] = {
    {"the operator's admin token", {role::admin, {}, {}, true}, f.tokens[role::admin]},
    {"an admin API token", {role::admin, {}, "its id", false}, f.admin_api_token},
    {"marketer", {role::marketer, {}, "its id", false}, f.tokens[role::marketer]},
    {"sales_admin", {role::sales_admin, {}, "its id", false}, f.tokens[role::sales_admin]},
    {"agent", {role::agent, f.agent.id, "its id", false}, f.tokens[role::agent]},
    {"an agent login", {role::agent, f.agent.id, {}, false}, "ann-login-token"},
  };
  for (const auto& r : routes) {
    for (const auto& c : callers) {
      CAPTURE(r.method, r.pattern, c.name);
      const auto answer = f.call(r.method, f.sample_path(r), c.token);
      CHECK(answer.status != 401);
      if (r.roles.admits(c.who)) CHECK(answer.status != 403);
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
  f.config.server.max_api_tokens = 5; // the fixture made 4
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

TEST_CASE("only the operator's admin token makes and revokes tokens, not an API token with the admin role",
          "[actors][rest][roles]") {
  rest_fixture f;
  const auto& root = f.tokens[role::admin];
  auto minted = f.call("POST", "/v1/tokens", f.admin_api_token, R"({"name":"more","role":"admin"})");
  CHECK(minted.status == 403);
  auto envelope = nlohmann::json::parse(minted.body);
  CHECK(envelope["error"]["code"] == "forbidden");
  const std::string why = envelope["error"]["message"];
  CHECK(why.find("server.admin_token") != std::string::npos);
  CHECK(why.find("this is an API token with the role admin") != std::string::npos); // not "its role is admin"
  CHECK(f.tokens_listed() == 4);
  // It may list them, but not revoke one (its own neither).
  auto listed = f.call("GET", "/v1/tokens", f.admin_api_token);
  REQUIRE(listed.status == 200);
  const auto tokens = nlohmann::json::parse(listed.body); // a range over a temporary's member would dangle
  for (const auto& t : tokens["tokens"]) {
    const std::string id = t["id"];
    CHECK(f.call("DELETE", "/v1/tokens/" + id, f.admin_api_token).status == 403);
  }
  CHECK(f.tokens_listed() == 4);
  // Everything else an admin may do, it still does.
  CHECK(f.call("GET", "/v1/agents", f.admin_api_token).status == 200);
  CHECK(f.call("POST", "/v1/tokens", root, R"({"name":"more","role":"admin"})").status == 201);
}

TEST_CASE("server.max_api_tokens holds for creations that arrive together", "[actors][rest][roles]") {
  rest_fixture f;
  f.config.server.max_api_tokens = 6; // the fixture made 4: room for two more
  const auto& admin = f.tokens[role::admin];
  std::vector<rest_fixture::request> burst;
  for (int i = 0; i < 5; ++i) burst.push_back({"POST", "/v1/tokens", admin, R"({"name":"n","role":"marketer"})"});
  int made = 0, refused = 0;
  for (const auto& a : f.calls(std::move(burst))) {
    made += a.status == 201;
    refused += a.status == 409;
  }
  CHECK(made == 2);
  CHECK(refused == 3);
  CHECK(f.tokens_listed() == 6);
}

TEST_CASE("deleting an agent ends its agent-role API tokens", "[actors][rest][roles]") {
  rest_fixture f;
  f.config.server.max_api_tokens = 4; // the fixture made 4, one of them for the agent
  const auto& admin = f.tokens[role::admin];
  CHECK(f.call("DELETE", "/v1/agents/" + f.agent.id, admin).status == 204);
  CHECK(f.call("GET", "/v1/conversations", f.tokens[role::agent]).status == 401);
  // Gone, not only refused: no longer listed, no longer counted.
  auto listed = f.call("GET", "/v1/tokens", admin);
  CHECK(nlohmann::json::parse(listed.body)["tokens"].size() == 3);
  CHECK(listed.body.find("\"agent\"") == std::string::npos);
  CHECK(f.call("POST", "/v1/tokens", admin, R"({"name":"n","role":"marketer"})").status == 201);
}

TEST_CASE("a token made for an agent while it is being deleted ends with it", "[actors][rest][roles]") {
  rest_fixture f;
  const auto& admin = f.tokens[role::admin];
  const std::string body = R"({"name":"late","role":"agent","agent_id":")" + f.agent.id + R"("})";
  SECTION("the token asked for first") {
    auto answers = f.calls({{"POST", "/v1/tokens", admin, body}, {"DELETE", "/v1/agents/" + f.agent.id, admin}});
    REQUIRE(answers[0].status == 201);
    CHECK(answers[1].status == 204);
    const std::string token = nlohmann::json::parse(answers[0].body)["token"];
    CHECK(f.call("GET", "/v1/conversations", token).status == 401);
  }
  SECTION("the deletion asked for first") {
    auto answers = f.calls({{"DELETE", "/v1/agents/" + f.agent.id, admin}, {"POST", "/v1/tokens", admin, body}});
    CHECK(answers[0].status == 204);
    CHECK(answers[1].status == 400);
  }
  CHECK(f.tokens_listed() == 3); // the agent's tokens are gone, the late one too
}

TEST_CASE("an agent-role token whose agent is gone neither counts, nor lists, nor stays", "[actors][rest][roles]") {
  rest_fixture f;
  f.config.server.max_api_tokens = 5; // the fixture made 4
  // Left by a deletion from before agents took their tokens along.
  store::api_token_record orphan{new_id(), "stale", "agent", new_id(), sha256_hex("stale-token"), 0};
  {
    store::write_batch b;
    store::writes::put_api_token(b, orphan);
    auto txn = f.ctx.db->write();
    store::writes::apply(txn, b);
    txn.commit();
  }
  CHECK(f.tokens_listed() == 4);
  const auto& admin = f.tokens[role::admin];
  auto made = f.call("POST", "/v1/tokens", admin, R"({"name":"fifth","role":"marketer"})");
  CHECK(made.status == 201);
  CHECK_FALSE(store::load_api_token(f.ctx.db->read(), orphan.id)); // swept with the new token's write
  CHECK(f.call("POST", "/v1/tokens", admin, R"({"name":"sixth","role":"marketer"})").status == 409);
}

TEST_CASE("an update racing a deletion does not bring the agent back", "[actors][rest][roles]") {
  rest_fixture f;
  const auto& admin = f.tokens[role::admin];
  const auto path = "/v1/agents/" + f.agent.id;
  auto answers = f.calls({{"DELETE", path, admin}, {"PUT", path, admin, R"({"name":"Ann again"})"}});
  CHECK(answers[0].status == 204);
  CHECK(answers[1].status == 404);
  CHECK_FALSE(store::load_agent(f.ctx.db->read(), f.agent.id));
  CHECK(f.call("GET", path, admin).status == 404);
}

TEST_CASE("two updates in flight at once both take effect", "[actors][rest][roles]") {
  rest_fixture f;
  const auto& admin = f.tokens[role::admin];
  const auto path = "/v1/agents/" + f.agent.id;
  auto answers = f.calls({{"PUT", path, admin, R"({"name":"Ann Smith"})"}, {"PUT", path, admin, R"({"max_chats":7})"}});
  CHECK(answers[0].status == 200);
  REQUIRE(answers[1].status == 200);
  CHECK(nlohmann::json::parse(answers[1].body)["name"] == "Ann Smith");
  auto stored = store::load_agent(f.ctx.db->read(), f.agent.id);
  REQUIRE(stored);
  CHECK(stored->name == "Ann Smith");
  CHECK(stored->max_chats == 7);
  CHECK(stored->token_hash == f.agent.token_hash);
}

TEST_CASE("a failed update leaves nothing behind, not even in the update after it", "[actors][rest][roles]") {
  rest_fixture f;
  const auto& admin = f.tokens[role::admin];
  const auto path = "/v1/agents/" + f.agent.id;
  *f.failures = 1;
  auto answers = f.calls({{"PUT", path, admin, R"({"name":"Never stored"})"}, {"PUT", path, admin, R"({"max_chats":7})"}});
  CHECK(answers[0].status == 503);
  REQUIRE(answers[1].status == 200);
  CHECK(nlohmann::json::parse(answers[1].body)["name"] == "Ann");
  auto stored = store::load_agent(f.ctx.db->read(), f.agent.id);
  REQUIRE(stored);
  CHECK(stored->name == "Ann");
  CHECK(stored->max_chats == 7);
  // A queued update answered without a write (a bad body) lets the next one go.
  answers = f.calls({{"PUT", path, admin, R"({"name":"Ann B"})"}, {"PUT", path, admin, R"({"max_chats":99})"},
                     {"PUT", path, admin, R"({"max_chats":3})"}});
  CHECK(answers[0].status == 200);
  CHECK(answers[1].status == 400);
  CHECK(answers[2].status == 200);
  stored = store::load_agent(f.ctx.db->read(), f.agent.id);
  CHECK(stored->name == "Ann B");
  CHECK(stored->max_chats == 3);
}

TEST_CASE("publishes sent together cannot both take one priority, and a failed one frees the queue",
          "[actors][rest][roles]") {
  rest_fixture f;
  const auto& admin = f.tokens[role::admin];
  const std::string body = R"({"name":"d","priority":4,"start":"a","cards":[{"id":"a","kind":"end","text":"hi"}]})";
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto made = f.call("POST", "/v1/dialogues", admin, body);
    REQUIRE(made.status == 201);
    ids.push_back(nlohmann::json::parse(made.body)["id"]);
  }
  // All three handed to the REST actor before any write commits: without the queue each
  // would read a store where none is published yet.
  auto answers = f.calls({{"POST", "/v1/dialogues/" + ids[0] + "/publish", admin},
                          {"POST", "/v1/dialogues/" + ids[1] + "/publish", admin},
                          {"POST", "/v1/dialogues/" + ids[2] + "/publish", admin}});
  CHECK(answers[0].status == 200);
  CHECK(answers[1].status == 409);
  CHECK(answers[2].status == 409);
  // A publish whose write fails answers 503; the next one still runs, and gets version 1.
  *f.failures = 1;
  answers = f.calls({{"POST", "/v1/dialogues/" + ids[0] + "/unpublish", admin},
                     {"POST", "/v1/dialogues/" + ids[1] + "/publish", admin}});
  CHECK(answers[0].status == 503);
  CHECK(answers[1].status == 409); // the unpublish failed: the first still holds priority 4
  answers = f.calls({{"POST", "/v1/dialogues/" + ids[0] + "/unpublish", admin},
                     {"POST", "/v1/dialogues/" + ids[1] + "/publish", admin}});
  CHECK(answers[0].status == 200);
  REQUIRE(answers[1].status == 200);
  CHECK(nlohmann::json::parse(answers[1].body)["published_version"] == 1);
}

TEST_CASE("an agent still sees a conversation it held after another agent took it over", "[actors][rest][roles]") {
  rest_fixture f;
  // Ann held it, the visitor asked again and Bob took it; Cid never held it.
  store::agent_record bob{new_id(), "Bob", "", sha256_hex("bob-login-token"), 5, 0};
  store::agent_record cid{new_id(), "Cid", "", sha256_hex("cid-login-token"), 5, 0};
  store::conversation_record conv;
  conv.id = new_id();
  conv.visitor_id = new_id();
  conv.phase = store::conversation_phase::live;
  store::assign_agent(conv, f.agent.id);
  store::assign_agent(conv, bob.id);
  {
    store::write_batch b;
    store::writes::put_agent(b, bob);
    store::writes::put_agent(b, cid);
    store::writes::put_conversation(b, conv);
    auto txn = f.ctx.db->write();
    store::writes::apply(txn, b);
    txn.commit();
  }
  auto lists_it = [&](const std::string& token, const std::string& query = {}) {
    auto listed = f.call("GET", "/v1/conversations" + query, token);
    REQUIRE(listed.status == 200);
    return listed.body.find(conv.id) != std::string::npos;
  };
  for (const std::string token : {"ann-login-token", "bob-login-token"}) {
    CAPTURE(token);
    CHECK(f.call("GET", "/v1/conversations/" + conv.id, token).status == 200);
    CHECK(f.call("GET", "/v1/conversations/" + conv.id + "/transcript.txt", token).status == 200);
    CHECK(lists_it(token));
  }
  CHECK(f.call("GET", "/v1/conversations/" + conv.id, f.tokens[role::agent]).status == 200); // Ann's API token
  CHECK(f.call("GET", "/v1/conversations/" + conv.id, "cid-login-token").status == 404);
  CHECK_FALSE(lists_it("cid-login-token"));
  // The agent_id filter means the same for everyone: the conversations that agent held.
  CHECK(lists_it(f.tokens[role::admin], "?agent_id=" + f.agent.id));
  CHECK_FALSE(lists_it(f.tokens[role::admin], "?agent_id=" + cid.id));
}
