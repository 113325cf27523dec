// dynchatd against the stand-in Marketo (load-tests/marketo_standin.hpp) over real HTTP on
// loopback: connecting, selecting fields, syncing (and resuming after kill -9), known
// visitors, attributes written back, and activities delivered once across restarts.
#include <thread>

#include "helpers.hpp"
#include "http/test_server.hpp"
#include "dynchat/marketo/api.hpp"
#include "marketo_standin.hpp"

namespace dynchat::testing {
namespace {

std::vector<std::string> marketo_flags() {
  // Leads are spread over the last 400 days: a full sync from 401 days back has them all.
  auto since = std::chrono::system_clock::now() - std::chrono::hours{24 * 401};
  auto day = std::chrono::floor<std::chrono::days>(since);
  std::time_t t = std::chrono::system_clock::to_time_t(day);
  char date[16];
  std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&t));
  return {"--set", "marketo.poll_interval_ms=50", "--set", std::string{"marketo.full_sync_since=\""} + date + "\"",
          "--set", "marketo.activity_settle=0", "--set", "marketo.activity_interval_ms=100",
          "--set", "marketo.retry_base_ms=20", "--set", "marketo.retry_cap_ms=100",
          "--set", "chat.bot_response_delay_ms=0"};
}

std::vector<std::string> with(std::vector<std::string> a, std::vector<std::string> b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

json connect(std::uint16_t port, const marketo_standin& m, const std::string& secret = "standin-secret") {
  auto r = http_call(port, "PUT", "/v1/integrations/marketo",
                     json{{"rest_url", m.base_url() + "/rest"}, {"identity_url", m.base_url() + "/identity"},
                          {"client_id", "standin-client"}, {"client_secret", secret}, {"munchkin_id", "123-ABC-456"}}.dump(),
                     admin_token);
  REQUIRE(r.status == 200);
  return r.json_body();
}

json wait_sync(std::uint16_t port, const std::string& state, std::chrono::seconds limit = 60s) {
  json s;
  for (auto until = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < until;) {
    s = http_call(port, "GET", "/v1/integrations/marketo/sync", {}, admin_token).json_body();
    if (s["state"] == state) return s;
    std::this_thread::sleep_for(50ms);
  }
  FAIL("the sync did not reach " << state << ": " << s.dump());
  return s;
}

#define EVENTUALLY(...) eventually(#__VA_ARGS__, __VA_ARGS__)
template <class Pred>
void eventually(const char* what, Pred pred, std::chrono::milliseconds limit = 10s) {
  for (auto until = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < until;) {
    if (pred()) return;
    std::this_thread::sleep_for(50ms);
  }
  FAIL("this did not hold in time: " << what);
}

std::string publish(std::uint16_t port, const std::string& body) {
  auto created = http_call(port, "POST", "/v1/dialogues", body, admin_token);
  REQUIRE(created.status == 201);
  const std::string id = created.json_body()["id"];
  REQUIRE(http_call(port, "POST", "/v1/dialogues/" + id + "/publish", {}, admin_token).status == 200);
  return id;
}

} // namespace

TEST_CASE("connecting reports Marketo's own error, and a good connection syncs every lead", "[e2e][marketo]") {
  standin_options so;
  so.leads = 3000;
  marketo_standin m{so};
  daemon_process server(marketo_flags());
  const auto port = server.port();

  auto bad = connect(port, m, "wrong-secret");
  CHECK(bad["status"] == "failing");
  CHECK_THAT(bad["error"].get<std::string>(), Catch::Contains("Marketo refused the credentials"));
  CHECK_FALSE(bad.contains("client_secret")); // never returned
  auto good = connect(port, m);
  CHECK(good["status"] == "connected");
  CHECK(good["client_secret_set"] == true);
  auto tested = http_call(port, "POST", "/v1/integrations/marketo/test", {}, admin_token);
  CHECK(tested.json_body()["status"] == "connected");

  // Fields: what Marketo describes; 50 at most (email included), names it knows.
  auto fields = http_call(port, "GET", "/v1/integrations/marketo/fields", {}, admin_token).json_body();
  CHECK(fields["fields"].size() > 60);
  json too_many = json::array();
  for (int i = 1; i <= 50; ++i) too_many.push_back("customField" + std::to_string(i));
  auto refused = http_call(port, "PUT", "/v1/integrations/marketo/fields", json{{"fields", too_many}}.dump(), admin_token);
  CHECK(refused.status == 400);
  CHECK_THAT(refused.body, Catch::Contains("51 fields"));
  auto unknown = http_call(port, "PUT", "/v1/integrations/marketo/fields", json{{"fields", {"shoeSize"}}}.dump(), admin_token);
  CHECK(unknown.status == 400);
  auto chosen = http_call(port, "PUT", "/v1/integrations/marketo/fields",
                          json{{"fields", {"firstName", "lastName", "company", "title", "customField7"}}}.dump(), admin_token);
  REQUIRE(chosen.status == 200);
  CHECK(chosen.json_body()["selected"][0] == "email");

  REQUIRE(http_call(port, "POST", "/v1/integrations/marketo/sync", {}, admin_token).status == 202);
  CHECK(http_call(port, "POST", "/v1/integrations/marketo/sync", {}, admin_token).status == 409); // one at a time
  auto done = wait_sync(port, "completed");
  CHECK(done["records_done"] == 3000);
  CHECK(done["leads_stored"] == 3000);
  CHECK(done["bad_rows"] == 0);
  for (std::uint64_t n : {1ull, 77ull, 3000ull}) {
    auto lead = http_call(port, "GET", "/v1/leads?email=" + m.lead_email(n), {}, admin_token);
    REQUIRE(lead.status == 200);
    auto f = lead.json_body()["fields"];
    // Empty fields are not listed.
    CHECK(f.value("firstName", "") == m.lead_field(n, "firstName"));
    CHECK(f.value("title", "") == m.lead_field(n, "title")); // some have a line break, some a quote: CSV quoting
    CHECK(f.value("company", "") == m.lead_field(n, "company"));
    CHECK(f.value("customField7", "") == m.lead_field(n, "customField7"));
  }
  // The export went in 31-day windows and every call carried the Bearer token.
  for (const auto& c : m.calls()) {
    if (c.path != "/bulk/v1/leads/export/create.json") continue;
    auto body = json::parse(c.body);
    auto start = *marketo::parse_iso8601(body["filter"]["createdAt"]["startAt"].get<std::string>());
    auto end = *marketo::parse_iso8601(body["filter"]["createdAt"]["endAt"].get<std::string>());
    CHECK(end - start <= std::chrono::hours{24 * 31});
  }
}

TEST_CASE("a sync killed with kill -9 resumes where its last commit stopped", "[e2e][marketo][restart]") {
  standin_options so;
  so.leads = 60'000;
  so.custom_fields = 10;
  marketo_standin m{so};
  const auto dir = fresh_dir("marketo-resume");
  // Small reads and commits, so the kill lands in the middle of a file.
  auto flags = with(marketo_flags(), {"--set", "marketo.download_chunk_bytes=65536", "--set", "marketo.sync_batch_leads=50"});
  std::uint64_t before_kill = 0;
  {
    daemon_process server(flags, dir);
    connect(server.port(), m);
    REQUIRE(http_call(server.port(), "PUT", "/v1/integrations/marketo/fields",
                      json{{"fields", {"firstName", "company", "customField3"}}}.dump(), admin_token).status == 200);
    REQUIRE(http_call(server.port(), "POST", "/v1/integrations/marketo/sync", {}, admin_token).status == 202);
    // Wait until the first window's file is partly in.
    json s;
    EVENTUALLY([&] {
      s = http_call(server.port(), "GET", "/v1/integrations/marketo/sync", {}, admin_token).json_body();
      return s["records_done"].get<std::uint64_t>() > 5000;
    }, 60s);
    REQUIRE(s["state"] == "running");
    server.kill_hard();
    before_kill = s["records_done"].get<std::uint64_t>();
  }
  m.clear_calls();
  daemon_process again(flags, dir);
  auto done = wait_sync(again.port(), "completed", 120s);
  // Every lead once: the rows after the last commit are read again, none before it.
  CHECK(done["records_done"] == 60'000);
  CHECK(done["leads_stored"] == 60'000);
  CHECK(done["bad_rows"] == 0);
  CHECK(done["records_done"].get<std::uint64_t>() >= before_kill);
  // The first read after the restart starts where the stored offset says, not at 0.
  bool resumed_mid_file = false;
  for (const auto& c : m.calls())
    if (c.path.find("/file.json") != std::string::npos) {
      resumed_mid_file = c.header("Range").rfind("bytes=0-", 0) != 0;
      break;
    }
  CHECK(resumed_mid_file);
  auto lead = http_call(again.port(), "GET", "/v1/leads?email=" + m.lead_email(59'999), {}, admin_token);
  REQUIRE(lead.status == 200);
  CHECK(lead.json_body()["fields"].value("customField3", "") == m.lead_field(59'999, "customField3"));
}

TEST_CASE("a quota spent or a queue full makes the sync wait and say so", "[e2e][marketo]") {
  standin_options so;
  so.leads = 500;
  marketo_standin m{so};
  daemon_process server(marketo_flags());
  const auto port = server.port();
  connect(port, m);
  m.fail_next(1, 1029, "Export daily quota exceeded");
  REQUIRE(http_call(port, "POST", "/v1/integrations/marketo/sync", {}, admin_token).status == 202);
  auto waiting = wait_sync(port, "waiting");
  CHECK_THAT(waiting["message"].get<std::string>(), Catch::Contains("daily export quota") && Catch::Contains("resets"));
  CHECK_FALSE(waiting["wait_until"].get<std::string>().empty());
  REQUIRE(http_call(port, "POST", "/v1/integrations/marketo/sync/cancel", {}, admin_token).status == 200);
  CHECK(http_call(port, "GET", "/v1/integrations/marketo/sync", {}, admin_token).json_body()["state"] == "cancelled");
  // A job Marketo refuses outright fails with its message.
  m.fail_next(1, 1003, "Invalid filter");
  REQUIRE(http_call(port, "POST", "/v1/integrations/marketo/sync", {}, admin_token).status == 202);
  auto failed = wait_sync(port, "failed");
  CHECK_THAT(failed["message"].get<std::string>(), Catch::Contains("1003") && Catch::Contains("Invalid filter"));
}

TEST_CASE("removing a field a dialogue uses is refused, naming the dialogue", "[e2e][marketo]") {
  marketo_standin m;
  daemon_process server(marketo_flags());
  const auto port = server.port();
  connect(port, m);
  REQUIRE(http_call(port, "PUT", "/v1/integrations/marketo/fields", json{{"fields", {"firstName", "industry"}}}.dump(),
                    admin_token).status == 200);
  publish(port, R"({"name": "Industry bot", "priority": 1, "start": "hi",
    "cards": [{"id": "hi", "kind": "message", "text": "Hello {{lead.firstName:\"there\"}}", "next": "bye"},
              {"id": "bye", "kind": "end", "text": "Bye"}]})");
  auto refused = http_call(port, "PUT", "/v1/integrations/marketo/fields", json{{"fields", {"industry"}}}.dump(), admin_token);
  CHECK(refused.status == 400);
  CHECK_THAT(refused.body, Catch::Contains("firstName") && Catch::Contains("Industry bot"));
  auto fine = http_call(port, "PUT", "/v1/integrations/marketo/fields", json{{"fields", {"firstName"}}}.dump(), admin_token);
  CHECK(fine.status == 200);
}

TEST_CASE("known visitors: by email, by Munchkin cookie, and on email capture", "[e2e][marketo]") {
  standin_options so;
  so.leads = 200;
  marketo_standin m{so};
  daemon_process server(marketo_flags());
  const auto port = server.port();
  connect(port, m);
  REQUIRE(http_call(port, "PUT", "/v1/integrations/marketo/fields", json{{"fields", {"firstName", "company", "title"}}}.dump(),
                    admin_token).status == 200);
  REQUIRE(http_call(port, "POST", "/v1/integrations/marketo/sync", {}, admin_token).status == 202);
  wait_sync(port, "completed");
  publish(port, R"({"name": "Hello", "priority": 1, "start": "hi",
    "cards": [{"id": "hi", "kind": "question", "text": "Hi {{lead.firstName:\"there\"}} from {{company.name:\"your company\"}}", "answers": [
                 {"label": "Go", "value": "go", "next": "email"}]},
              {"id": "email", "kind": "capture", "text": "Your email?", "capture": "email", "next": "job"},
              {"id": "job", "kind": "capture", "capture": "attribute", "attribute": "title", "text": "Your title?", "next": "goal"},
              {"id": "goal", "kind": "goal", "name": "Known", "next": "bye"},
              {"id": "bye", "kind": "end", "text": "Bye"}]})");

  SECTION("a hello with a synced email meets the lead's name") {
    ws_client v;
    visitor_hello(v, port, ws_client::mode::json, {{"email", m.lead_email(7)}});
    auto hi = bot_says(v);
    CHECK(hi["text"] == "Hi " + m.lead_field(7, "firstName") + " from " + m.lead_field(7, "company"));
  }
  SECTION("a cookie Marketo knows makes the visitor known, looked up once") {
    const auto cookie = m.lead_cookie(9);
    ws_client v;
    auto w = visitor_hello(v, port, ws_client::mode::json, {{"mkto_trk", cookie}});
    bot_says(v);
    const std::string conv = w["conversation_id"];
    EVENTUALLY([&] {
      return http_call(port, "GET", "/v1/conversations/" + conv, {}, admin_token).json_body()["email"] == m.lead_email(9);
    });
    auto by_cookie = http_call(port, "GET", "/v1/leads?cookie=" + marketo::url_encode(cookie), {}, admin_token);
    REQUIRE(by_cookie.status == 200);
    CHECK(by_cookie.json_body()["id"] == "9");
    // The next hello with that cookie is known from the local copy: no look-up.
    const auto lookups = m.call_count();
    ws_client again;
    visitor_hello(again, port, ws_client::mode::json, {{"mkto_trk", cookie}});
    auto hi = bot_says(again);
    CHECK(hi["text"] == "Hi " + m.lead_field(9, "firstName") + " from " + m.lead_field(9, "company"));
    CHECK(m.call_count() == lookups);
  }
  SECTION("a new email makes a new lead, an existing one merges into it, captured attributes go back") {
    for (const auto& email : {std::string{"brand.new@example.org"}, m.lead_email(11)}) {
      INFO(email);
      ws_client v;
      visitor_hello(v, port);
      bot_says(v);
      v.send({{"type", "choose"}, {"client_msg_id", "c1"}, {"option", "go"}});
      bot_says(v);
      v.send({{"type", "say"}, {"client_msg_id", "e1"}, {"text", email}});
      bot_says(v);
      v.send({{"type", "say"}, {"client_msg_id", "t1"}, {"text", "Head of Data"}});
      CHECK(bot_says(v)["text"] == "Bye");
      json pushed;
      EVENTUALLY([&] {
        for (const auto& p : m.pushed_leads())
          if (p.value("email", "") == email && p.value("title", "") == "Head of Data") return true;
        return false;
      });
      // The local copy is stored once Marketo's answer is in: after the push, not with it.
      http_result lead;
      EVENTUALLY([&] {
        lead = http_call(port, "GET", "/v1/leads?email=" + email, {}, admin_token);
        return lead.status == 200;
      });
      REQUIRE(lead.status == 200);
      CHECK(lead.json_body()["fields"]["title"] == "Head of Data");
      if (email == m.lead_email(11)) {
        CHECK(lead.json_body()["id"] == "11"); // merged into the lead Marketo has
        CHECK(lead.json_body()["fields"]["firstName"] == m.lead_field(11, "firstName"));
      } else {
        CHECK(std::stoull(lead.json_body()["id"].get<std::string>()) > 200); // a new lead
      }
    }
  }
}

TEST_CASE("activities reach Marketo once, across a restart and a lost answer", "[e2e][marketo][restart]") {
  standin_options so;
  so.leads = 100;
  marketo_standin m{so};
  const auto dir = fresh_dir("marketo-outbox");
  auto flags = marketo_flags();
  auto goals_for = [&](std::int64_t lead) {
    int n = 0;
    for (const auto& a : m.external_activities())
      if (a.value("leadId", std::int64_t{0}) == lead && a.value("primaryAttributeValue", "") == "Known") ++n;
    return n;
  };
  auto walk = [&](std::uint16_t port, std::uint64_t lead) {
    ws_client v;
    visitor_hello(v, port, ws_client::mode::json, {{"email", m.lead_email(lead)}});
    bot_says(v);
    v.send({{"type", "choose"}, {"client_msg_id", "c1"}, {"option", "go"}});
    CHECK(bot_says(v)["text"] == "Bye");
  };
  {
    daemon_process server(flags, dir);
    const auto port = server.port();
    connect(port, m);
    REQUIRE(http_call(port, "POST", "/v1/integrations/marketo/sync", {}, admin_token).status == 202);
    wait_sync(port, "completed");
    publish(port, R"({"name": "Goal", "priority": 1, "start": "hi",
      "cards": [{"id": "hi", "kind": "question", "text": "Hi", "answers": [{"label": "Go", "value": "go", "next": "goal"}]},
                {"id": "goal", "kind": "goal", "name": "Known", "score": 2, "next": "bye"},
                {"id": "bye", "kind": "end", "text": "Bye"}]})");
    walk(port, 5);
    EVENTUALLY([&] { return goals_for(5) == 1; });
    // The answer to the next delivery never comes back: the stand-in holds it while
    // dynchatd is killed. Marketo has the activity; dynchat does not know it.
    m.set_call_latency(3000ms);
    walk(port, 6);
    EVENTUALLY([&] { return goals_for(6) == 1; }, 15s);
    server.kill_hard();
  }
  m.set_call_latency(0ms);
  daemon_process again(flags, dir);
  // The restart finds the delivery in flight, looks in Marketo, and sends nothing twice.
  EVENTUALLY([&] {
    auto s = http_call(again.port(), "GET", "/v1/integrations/marketo/activities", {}, admin_token).json_body();
    return s["in_flight"] == false && s["pending"] == 0;
  }, 20s);
  std::this_thread::sleep_for(500ms);
  CHECK(goals_for(5) == 1);
  CHECK(goals_for(6) == 1);
  // Refused by Marketo: the dead letters show it, and a retry delivers it.
  walk(again.port(), 7); // the outbox is under way again (it reads the activity types once)
  EVENTUALLY([&] { return goals_for(7) == 1; }, 15s);
  m.fail_next(1, 1003, "Invalid activity");
  walk(again.port(), 8);
  json status;
  bool dead = false;
  for (auto until = std::chrono::steady_clock::now() + 15s; !dead && std::chrono::steady_clock::now() < until;) {
    status = http_call(again.port(), "GET", "/v1/integrations/marketo/activities", {}, admin_token).json_body();
    dead = status["dead_letters"].get<int>() > 0;
    if (!dead) std::this_thread::sleep_for(50ms);
  }
  if (!dead) {
    for (const auto& c : m.calls()) UNSCOPED_INFO(c.method << " " << c.path << " " << c.error << " " << c.body.substr(0, 300));
    FAIL("no dead letter: " << status.dump());
  }
  CHECK_THAT(status["dead"].dump(), Catch::Contains("Invalid activity"));
  CHECK(goals_for(8) == 0);
  REQUIRE(http_call(again.port(), "POST", "/v1/integrations/marketo/activities/retry", {}, admin_token).status == 200);
  EVENTUALLY([&] { return goals_for(8) == 1; }, 15s);
}

TEST_CASE("the Adobe org id is stored without @AdobeOrg and checked", "[e2e][marketo]") {
  daemon_process server;
  const auto port = server.port();
  auto bad = http_call(port, "PUT", "/v1/integrations/adobe-org", R"({"org_id":"12345@AdobeOrg"})", admin_token);
  CHECK(bad.status == 400);
  CHECK_THAT(bad.body, Catch::Contains("24 hexadecimal"));
  auto ok = http_call(port, "PUT", "/v1/integrations/adobe-org", R"({"org_id":"ABCDEF0123456789ABCDEF01@AdobeOrg"})", admin_token);
  REQUIRE(ok.status == 200);
  auto got = http_call(port, "GET", "/v1/integrations/adobe-org", {}, admin_token).json_body();
  CHECK(got["org_id"] == "ABCDEF0123456789ABCDEF01");
  CHECK(got["display"] == "ABCDEF0123456789ABCDEF01@AdobeOrg");
  CHECK(http_call(port, "PUT", "/v1/integrations/adobe-org", R"({"org_id":"x"})", "wrong").status == 401);
}

} // namespace dynchat::testing
