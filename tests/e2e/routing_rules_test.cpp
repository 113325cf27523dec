// The rule book over real REST and websockets: rules, teams and accounts managed and
// refused when wrong; meetings routed account first, then the matching rule (round
// robin inside it, its turn kept across a restart), then round robin over everyone;
// live chat offered to the lead's account owner first.
#include "meeting_helpers.hpp"

#include <ctime>

using namespace dynchat::testing;

namespace {

json call_json(std::uint16_t port, const std::string& method, const std::string& path, const json& body, int status) {
  auto r = http_call(port, method, path, body.is_null() ? std::string{} : body.dump(), admin_token);
  INFO(method << " " << path << " -> " << r.body);
  REQUIRE(r.status == status);
  return r.body.empty() ? json{} : r.json_body();
}

bool names_path(const json& error, const std::string& path) {
  for (const auto& p : error["error"]["problems"])
    if (p["path"] == path) return true;
  return false;
}

// Whose slots GET /v1/slots offers this lead first.
std::string slots_agent(std::uint16_t port, const std::string& lead_query) {
  auto offer = call_json(port, "GET", "/v1/slots?routing=rule&limit=1" + lead_query, nullptr, 200);
  return offer["agent_id"].is_null() ? "" : offer["agent_id"].get<std::string>();
}

void publish_country_dialogue(std::uint16_t port) {
  auto created = call_json(port, "POST", "/v1/dialogues", json::parse(R"({
    "name": "Book by region", "priority": 1, "audience": {"urls": ["https://example.com/*"]}, "start": "where",
    "cards": [
      {"id": "where", "kind": "question", "text": "Where are you?", "answers": [
        {"label": "Germany", "next": "meet", "attribute": "country"},
        {"label": "Spain", "next": "meet", "attribute": "country"}]},
      {"id": "meet", "kind": "meeting", "text": "Pick a time", "routing": "rule", "next": "bye", "fallback": "none"},
      {"id": "none", "kind": "end", "text": "Nobody can meet."},
      {"id": "bye", "kind": "end", "text": "Bye!"}]})"), 201);
  call_json(port, "POST", "/v1/dialogues/" + created["id"].get<std::string>() + "/publish", nullptr, 200);
}

// A visitor answers the question; the agent whose times the meeting card shows.
std::string meeting_agent_for(ws_client& v, std::uint16_t port, const std::string& country, json& shown) {
  visitor_hello(v, port);
  auto q = bot_says(v);
  REQUIRE(q["text"] == "Where are you?");
  v.send({{"type", "choose"}, {"client_msg_id", "c1"}, {"option", country}});
  shown = bot_says(v);
  REQUIRE(shown["text"] == "Pick a time");
  REQUIRE(shown["prompt"]["slots"].size() > 0);
  return agent_of(shown["prompt"]["slots"][0]["id"]);
}

} // namespace

TEST_CASE("rules teams and accounts are managed over REST and what is wrong is refused", "[e2e][routing][rules]") {
  const auto dir = fresh_dir("routing-rules");
  std::string ann, bob, cid, team, rule;
  {
    daemon_process server({"--no-seed"}, dir);
    const auto port = server.port();
    ann = agent_with_calendar(port, "ann");
    bob = agent_with_calendar(port, "bob");
    cid = agent_with_calendar(port, "cid");

    // Teams and rules name agents and teams that exist.
    auto bad_team = call_json(port, "POST", "/v1/routing/teams", {{"name", "EMEA"}, {"agents", {std::string(32, 'f')}}}, 400);
    CHECK(names_path(bad_team, "agents[0]"));
    team = call_json(port, "POST", "/v1/routing/teams", {{"name", "EMEA"}, {"agents", {bob, cid}}}, 201)["id"];
    auto bad_rule = call_json(port, "POST", "/v1/routing/rules", {{"name", "x"}, {"team", team}, {"priority", 0}, {"nxet", 1}}, 400);
    CHECK(names_path(bad_rule, "priority"));
    CHECK(names_path(bad_rule, "nxet"));
    CHECK(names_path(call_json(port, "POST", "/v1/routing/rules", {{"name", "x"}, {"team", std::string(32, 'e')}}, 400), "team"));
    CHECK(call_json(port, "GET", "/v1/routing/rules", nullptr, 200)["rules"].empty());
    json germany{{"name", "Germany"},
                 {"conditions", {{{"attribute", "country"}, {"op", "is"}, {"value", "Germany"}}}},
                 {"team", team}};
    rule = call_json(port, "POST", "/v1/routing/rules", germany, 201)["id"];
    CHECK(call_json(port, "GET", "/v1/routing/rules/" + rule, nullptr, 200)["team"] == team);
    // A team a rule uses is not deleted under it.
    auto in_use = call_json(port, "DELETE", "/v1/routing/teams/" + team, nullptr, 409);
    CHECK(in_use["error"]["message"].get<std::string>().find(rule) != std::string::npos);

    // Accounts: one by JSON, more by CSV (owners by email); a CSV with a bad line stores nothing.
    CHECK(call_json(port, "POST", "/v1/routing/accounts", {{"domain", "https://www.Acme.com/"}, {"agent_id", cid}}, 200)["stored"] == 1);
    auto bad_csv = http_call(port, "POST", "/v1/routing/accounts/import",
                             "domain,company,agent\nglobex.com,Globex,ann@acme.example\nnot a domain,,nobody@x.example\n",
                             admin_token);
    REQUIRE(bad_csv.status == 400);
    CHECK(names_path(bad_csv.json_body(), "line 3"));
    CHECK(call_json(port, "GET", "/v1/routing/accounts", nullptr, 200)["total"] == 1);
    auto csv = http_call(port, "POST", "/v1/routing/accounts/import",
                         "Company,Domain,Owner Email\n\"Globex, Inc.\",globex.com,ANN@acme.example\nInitech,,bob@acme.example\n",
                         admin_token);
    REQUIRE(csv.status == 200);
    CHECK(csv.json_body()["accounts"] == 4); // acme.com, globex.com, company:globex, company:initech
    auto page = call_json(port, "GET", "/v1/routing/accounts?limit=3", nullptr, 200);
    CHECK(page["accounts"].size() == 3);
    REQUIRE(page["next"].is_string());
    auto rest = call_json(port, "GET", "/v1/routing/accounts?limit=3&after=" + page["next"].get<std::string>(), nullptr, 200);
    CHECK(rest["accounts"].size() == 1);
    CHECK(rest["next"].is_null());

    // Routing: the account's owner, else the rule's team in turn, else round robin.
    CHECK(slots_agent(port, "&lead.email=jane@acme.com") == cid);
    CHECK(slots_agent(port, "&lead.website=globex.com&lead.country=Germany") == ann); // the account beats the rule
    CHECK(slots_agent(port, "&lead.company=Initech%20LLC") == bob);
    CHECK(slots_agent(port, "&lead.country=Germany") == bob);
    CHECK(slots_agent(port, "&lead.country=Spain") == ann);
    CHECK(slots_agent(port, "") == ann);
    auto routing = call_json(port, "GET", "/v1/routing", nullptr, 200);
    REQUIRE(routing["meetings"]["rules"].size() == 1);
    CHECK(routing["meetings"]["rules"][0]["next"] == json{bob, cid});
    CHECK(routing["meetings"]["accounts"] == 4);

    // An owner who takes no meetings is not eligible: the lead goes on down the order.
    json off = call_json(port, "GET", "/v1/agents/" + cid + "/calendar", nullptr, 200)["settings"];
    off["takes_meetings"] = false;
    call_json(port, "PUT", "/v1/agents/" + cid + "/calendar", off, 200);
    CHECK(slots_agent(port, "&lead.email=jane@acme.com&lead.country=Germany") == bob);
    CHECK(slots_agent(port, "&lead.email=jane@acme.com") == ann);
    off["takes_meetings"] = true;
    call_json(port, "PUT", "/v1/agents/" + cid + "/calendar", off, 200);

    call_json(port, "DELETE", "/v1/routing/accounts/domain:acme.com", nullptr, 204);
    call_json(port, "DELETE", "/v1/routing/accounts/domain:acme.com", nullptr, 404);
    CHECK(slots_agent(port, "&lead.email=jane@acme.com") == ann);
  }
  // All of it is stored: after a restart the rule, the team and the accounts route as before.
  daemon_process server({"--no-seed"}, dir);
  const auto port = server.port();
  CHECK(call_json(port, "GET", "/v1/routing/rules", nullptr, 200)["rules"].size() == 1);
  CHECK(call_json(port, "GET", "/v1/routing/teams", nullptr, 200)["teams"][0]["agents"] == json{bob, cid});
  CHECK(slots_agent(port, "&lead.country=Germany") == bob);
  CHECK(slots_agent(port, "&lead.company=initech") == bob);
  // Taking the team out of the rule lets it go; a rule then routes to its own agents.
  call_json(port, "PUT", "/v1/routing/rules/" + rule, {{"name", "Germany"}, {"conditions", json::array()}, {"agents", {cid}}}, 200);
  call_json(port, "DELETE", "/v1/routing/teams/" + team, nullptr, 204);
  CHECK(slots_agent(port, "&lead.country=Spain") == cid); // no conditions: every lead
  call_json(port, "DELETE", "/v1/routing/rules/" + rule, nullptr, 204);
  CHECK(slots_agent(port, "&lead.country=Spain") == ann);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a meeting card routed by rule takes turns inside the rule and its turn survives a restart",
          "[e2e][routing][rules][meetings]") {
  const auto dir = fresh_dir("routing-rule-turn");
  std::string ann, bob, cid;
  {
    // One agent tried per rule: after cid's booking only bob is on the rule's shortlist.
    daemon_process server({"--set", "chat.bot_response_delay_ms=0", "--set", "routing.agents_tried_per_rule=1", "--no-seed"}, dir);
    const auto port = server.port();
    ann = agent_with_calendar(port, "ann");
    bob = agent_with_calendar(port, "bob");
    cid = agent_with_calendar(port, "cid");
    call_json(port, "POST", "/v1/routing/rules",
              {{"name", "Germany"},
               {"applies_to", "meetings"},
               {"conditions", {{{"attribute", "country"}, {"op", "is"}, {"value", "Germany"}}}},
               {"agents", {cid, bob}}},
              201);
    publish_country_dialogue(port);

    ws_client first, early;
    json shown, shown_early;
    REQUIRE(meeting_agent_for(first, port, "Germany", shown) == cid);
    REQUIRE(meeting_agent_for(early, port, "Germany", shown_early) == cid); // shown cid's times too, before anyone booked
    first.send({{"type", "book"}, {"client_msg_id", "b1"}, {"slot", shown["prompt"]["slots"][0]["id"]}});
    REQUIRE(first.receive_type("ack"));
    CHECK(bot_says(first)["text"].get<std::string>().rfind("You're booked with cid on ", 0) == 0);
    // The rule's turn moved on to bob; a booking of the times offered before that still
    // counts as the rule's (cid again), never as round robin's.
    early.send({{"type", "book"}, {"client_msg_id", "b1"}, {"slot", shown_early["prompt"]["slots"][1]["id"]}});
    REQUIRE(early.receive_type("ack"));
    CHECK(bot_says(early)["text"].get<std::string>().rfind("You're booked with cid on ", 0) == 0);
    // A lead no rule matches goes round robin, which the rule's booking did not move.
    ws_client spain;
    CHECK(meeting_agent_for(spain, port, "Spain", shown) == ann);
    auto routing = call_json(port, "GET", "/v1/routing", nullptr, 200)["meetings"];
    CHECK(routing["last_agent_id"] == "");
    CHECK(routing["rules"][0]["last_agent_id"] == cid);
  }
  daemon_process server({"--set", "chat.bot_response_delay_ms=0", "--no-seed"}, dir);
  ws_client second;
  json shown;
  CHECK(meeting_agent_for(second, server.port(), "Germany", shown) == bob); // cid took the rule's last
  std::filesystem::remove_all(dir);
}

TEST_CASE("a deleted agent leaves the rules teams and accounts that named it", "[e2e][routing][rules]") {
  daemon_process server({"--no-seed"});
  const auto port = server.port();
  const auto ann = agent_with_calendar(port, "ann");
  const auto bob = agent_with_calendar(port, "bob");
  const auto cid = agent_with_calendar(port, "cid");
  const std::string team = call_json(port, "POST", "/v1/routing/teams", {{"name", "t"}, {"agents", {ann, bob}}}, 201)["id"];
  json rule_body{{"name", "UK"}, {"conditions", {{{"attribute", "country"}, {"op", "is"}, {"value", "UK"}}}}, {"agents", {ann, bob, cid}}};
  auto rule = call_json(port, "POST", "/v1/routing/rules", rule_body, 201);
  call_json(port, "POST", "/v1/routing/accounts", {{"domain", "acme.com"}, {"agent_id", ann}}, 200);
  call_json(port, "DELETE", "/v1/agents/" + ann, nullptr, 204);
  call_json(port, "DELETE", "/v1/agents/" + bob, nullptr, 204);
  // The rule's live member is tried, not passed over for the two gone.
  CHECK(slots_agent(port, "&lead.country=UK") == cid);
  CHECK(slots_agent(port, "&lead.email=x@acme.com") == cid); // the account went with its owner: round robin
  auto stored = call_json(port, "GET", "/v1/routing/rules/" + rule["id"].get<std::string>(), nullptr, 200);
  CHECK(stored["agents"] == json{cid});
  CHECK(call_json(port, "GET", "/v1/routing/teams/" + team, nullptr, 200)["agents"].empty());
  CHECK(call_json(port, "GET", "/v1/routing/accounts", nullptr, 200)["total"] == 0);
  // What a GET gives can be PUT back as it is.
  call_json(port, "PUT", "/v1/routing/rules/" + rule["id"].get<std::string>(), stored, 200);
  // An agent's token sees its own free times only; an agent without a calendar is said to have none, and why.
  auto dan = call_json(port, "POST", "/v1/agents", {{"name", "dan"}, {"email", "dan@acme.example"}}, 201);
  CHECK(http_call(port, "GET", "/v1/slots", {}, dan["token"]).status == 403);
  auto own = http_call(port, "GET", "/v1/agents/" + dan["id"].get<std::string>() + "/slots", {}, dan["token"]);
  REQUIRE(own.status == 200);
  CHECK(own.json_body()["agent_id"] == dan["id"]);
  CHECK(own.json_body()["eligible"] == false);
  CHECK(own.json_body()["slots"].empty());
  // A CSV that is not UTF-8 names its line, and nothing is stored.
  auto latin1 = http_call(port, "POST", "/v1/routing/accounts/import", "company,owner\nM\xfcller GmbH,cid@acme.example\n", admin_token);
  REQUIRE(latin1.status == 400);
  CHECK(names_path(latin1.json_body(), "line 2"));
}

TEST_CASE("a live chat is offered to the lead's account owner first and then round robin goes on", "[e2e][routing][rules]") {
  daemon_process server({"--no-seed"});
  const auto port = server.port();
  auto ann = call_json(port, "POST", "/v1/agents", {{"name", "ann"}, {"email", "ann@acme.example"}}, 201);
  auto bob = call_json(port, "POST", "/v1/agents", {{"name", "bob"}, {"email", "bob@acme.example"}}, 201);
  call_json(port, "POST", "/v1/routing/accounts", {{"domain", "acme.com"}, {"agent_id", bob["id"]}}, 200);
  ws_client ann_ws, bob_ws;
  login_agent(ann_ws, port, ann["token"]);
  login_agent(bob_ws, port, bob["token"]);

  ws_client known;
  visitor_hello(known, port, ws_client::mode::json, {{"email", "jane@acme.com"}});
  auto offer = bob_ws.receive_type("offer");
  REQUIRE(offer); // round robin would have asked ann, the first agent
  CHECK_FALSE(ann_ws.receive_type("offer", 300ms));
  // The owner's offer was not round robin's turn: the next anonymous visitor goes to ann.
  ws_client anonymous;
  visitor_hello(anonymous, port);
  CHECK(ann_ws.receive_type("offer"));
}

TEST_CASE("live-chat hours set an agent available inside them and away outside them and the toggle overrides",
          "[e2e][routing][chat_hours]") {
  daemon_process server({"--no-seed"});
  const auto port = server.port();
  auto ann = call_json(port, "POST", "/v1/agents", {{"name", "ann"}, {"email", "ann@acme.example"}}, 201);
  const std::string id = ann["id"];
  ws_client agent;
  REQUIRE(agent.connect(port, "/v1/agent") == 0);
  agent.send({{"type", "hello"}, {"token", ann["token"]}});
  auto welcome = agent.receive_type("welcome");
  REQUIRE(welcome);
  CHECK((*welcome)["status"] == "offline"); // no hours: only its toggle says, and it said nothing yet

  auto hours = [](std::vector<std::string> days) {
    json list = json::array();
    for (const auto& d : days) list.push_back({{"day", d}, {"start", "00:00"}, {"end", "24:00"}});
    return list;
  };
  const std::vector<std::string> names{"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  const auto now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  const auto other_day = names[(utc.tm_wday + 3) % 7];

  // Hours all week: the agent is available by schedule, without touching its toggle.
  call_json(port, "PUT", "/v1/agents/" + id + "/calendar", {{"time_zone", "UTC"}, {"live_chat_hours", hours(names)}}, 200);
  auto status = agent.receive_type("status");
  REQUIRE(status);
  CHECK((*status)["status"] == "available");
  ws_client visitor;
  visitor_hello(visitor, port);
  REQUIRE(agent.receive_type("offer"));

  // Hours on another day only: away now.
  call_json(port, "PUT", "/v1/agents/" + id + "/calendar", {{"time_zone", "UTC"}, {"live_chat_hours", hours({other_day})}}, 200);
  status = agent.receive_type("status");
  REQUIRE(status);
  CHECK((*status)["status"] == "away");

  // The toggle overrides the schedule (until the next block or midnight): available again.
  agent.send({{"type", "status"}, {"status", "available"}});
  status = agent.receive_type("status");
  REQUIRE(status);
  CHECK((*status)["status"] == "available");
  CHECK_FALSE(agent.receive_type("status", 500ms)); // and the schedule does not take it back now
  auto routing = call_json(port, "GET", "/v1/routing", nullptr, 200);
  REQUIRE(routing["order"].size() == 1);
  CHECK(routing["order"][0]["status"] == "available");
}

TEST_CASE("the rule book's limits refuse what is past them and store nothing", "[e2e][routing][rules]") {
  daemon_process server({"--no-seed", "--set", "routing.max_rules=1", "--set", "routing.max_teams=1", "--set",
                         "routing.max_accounts=2", "--set", "routing.max_members=2"});
  const auto port = server.port();
  const std::string a = call_json(port, "POST", "/v1/agents", {{"name", "a"}, {"email", "a@acme.example"}}, 201)["id"];
  const std::string b = call_json(port, "POST", "/v1/agents", {{"name", "b"}, {"email", "b@acme.example"}}, 201)["id"];
  const std::string c = call_json(port, "POST", "/v1/agents", {{"name", "c"}, {"email", "c@acme.example"}}, 201)["id"];
  CHECK(names_path(call_json(port, "POST", "/v1/routing/teams", {{"name", "t"}, {"agents", {a, b, c}}}, 400), "agents"));
  call_json(port, "POST", "/v1/routing/teams", {{"name", "t"}, {"agents", {a, b}}}, 201);
  call_json(port, "POST", "/v1/routing/teams", {{"name", "u"}, {"agents", {c}}}, 409);
  call_json(port, "POST", "/v1/routing/rules", {{"name", "r"}, {"agents", {a}}}, 201);
  call_json(port, "POST", "/v1/routing/rules", {{"name", "s"}, {"agents", {b}}}, 409);
  // Accounts count by key: a domain and a company are two; a third is refused, an import too.
  CHECK(call_json(port, "POST", "/v1/routing/accounts", {{"domain", "acme.com"}, {"company", "Acme"}, {"agent_id", a}}, 200)["accounts"] == 2);
  call_json(port, "POST", "/v1/routing/accounts", {{"domain", "globex.com"}, {"agent_id", b}}, 409);
  auto import = http_call(port, "POST", "/v1/routing/accounts/import", "domain,agent\ninitech.com,c@acme.example\n", admin_token);
  CHECK(import.status == 409);
  CHECK(call_json(port, "GET", "/v1/routing/accounts", nullptr, 200)["total"] == 2);
  // Replacing the table frees its rows: the import that replaces fits.
  auto replaced = http_call(port, "POST", "/v1/routing/accounts/import?replace=true", "domain,agent\ninitech.com,c@acme.example\n",
                            admin_token);
  REQUIRE(replaced.status == 200);
  CHECK(replaced.json_body()["accounts"] == 1);
  CHECK(call_json(port, "GET", "/v1/routing/accounts", nullptr, 200)["accounts"][0]["key"] == "domain:initech.com");
}
