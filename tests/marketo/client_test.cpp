// The Marketo client against the stand-in Marketo (load-tests/marketo_standin.hpp): real
// HTTP on loopback, the documented endpoints, each fault injected there.
#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include "dynchat/marketo/client.hpp"
#include "marketo_standin.hpp"

using namespace dynchat;
using namespace std::chrono_literals;

namespace {

struct rig {
  testing::marketo_standin standin;
  http::runner http;
  std::shared_ptr<marketo::client> api;

  explicit rig(testing::standin_options so = {}, marketo::client_options co = fast()) : standin(so) {
    marketo::connection_settings conn;
    conn.rest_url = standin.base_url() + "/rest";
    conn.identity_url = standin.base_url() + "/identity";
    conn.client_id = so.client_id;
    conn.client_secret = so.client_secret;
    api = marketo::client::make(http, conn, co);
  }
  ~rig() { api->shutdown(); }

  static marketo::client_options fast() {
    marketo::client_options o;
    o.backoff_base = 10ms;
    o.backoff_cap = 50ms;
    o.window = 300ms; // a 606 holds every call for one window: short here, 20 s for Marketo
    return o;
  }

  marketo::call_result call(marketo::call_spec spec) {
    std::promise<marketo::call_result> p;
    auto f = p.get_future();
    api->call(std::move(spec), [&p](marketo::call_result r) { p.set_value(std::move(r)); });
    REQUIRE(f.wait_for(30s) == std::future_status::ready);
    return f.get();
  }
  marketo::call_result describe() {
    marketo::call_spec s;
    s.path = "/rest/v1/leads/describe.json";
    return call(s);
  }
  std::size_t token_calls() const {
    std::size_t n = 0;
    for (const auto& c : standin.calls()) n += c.path == "/identity/oauth/token";
    return n;
  }
};

} // namespace

TEST_CASE("the token is fetched once and sent as a Bearer header", "[marketo][client]") {
  rig r;
  for (int i = 0; i < 5; ++i) REQUIRE(r.describe());
  CHECK(r.token_calls() == 1);
  for (const auto& c : r.standin.calls()) {
    if (c.path == "/identity/oauth/token") continue;
    CHECK(c.header("Authorization").rfind("Bearer ", 0) == 0);
    CHECK(c.query.find("access_token") == std::string::npos);
  }
  CHECK(r.api->stats().token_requests == 1);
}

TEST_CASE("an expired or invalid token is renewed and the call goes through", "[marketo][client]") {
  rig r;
  REQUIRE(r.describe());
  r.standin.expire_tokens(); // 602
  auto a = r.describe();
  CHECK(a);
  CHECK(a.attempts == 2);
  r.standin.invalidate_tokens(); // 601
  CHECK(r.describe());
  CHECK(r.token_calls() == 3);
  CHECK(r.api->stats().reauthentications == 2);
}

TEST_CASE("wrong credentials fail with Marketo's own words", "[marketo][client]") {
  testing::standin_options so;
  rig r{so};
  marketo::connection_settings conn = r.api->connection();
  conn.client_secret = "wrong";
  auto bad = marketo::client::make(r.http, conn, rig::fast());
  std::promise<marketo::call_failure> p;
  bad->authenticate([&p](marketo::call_failure f) { p.set_value(f); });
  auto f = p.get_future().get();
  CHECK(f.kind == marketo::failure_kind::auth);
  CHECK_THAT(f.message, Catch::Contains("Marketo refused the credentials") && Catch::Contains("Bad"));
  bad->shutdown();
}

TEST_CASE("passing errors are retried with back-off and then succeed", "[marketo][client]") {
  rig r;
  REQUIRE(r.describe());
  for (unsigned code : {604u, 606u, 608u, 611u, 615u, 713u, 500u, 502u, 503u}) {
    INFO(code);
    r.standin.fail_next(2, code);
    auto a = r.describe();
    CHECK(a);
    CHECK(a.attempts == 3);
  }
}

TEST_CASE("retries end after max_retries with the last error", "[marketo][client]") {
  rig r;
  REQUIRE(r.describe());
  r.standin.fail_next(100, 606);
  auto a = r.describe();
  REQUIRE_FALSE(a);
  CHECK(a.failure.kind == marketo::failure_kind::marketo);
  CHECK(a.failure.code == "606");
  CHECK_THAT(a.failure.message, Catch::Contains("after 6 attempts"));
  r.standin.fail_next(0, 606);
}

TEST_CASE("any other error fails at once with Marketo's message", "[marketo][client]") {
  rig r;
  REQUIRE(r.describe());
  r.standin.fail_next(1, 1003, "Invalid value for field");
  auto a = r.describe();
  REQUIRE_FALSE(a);
  CHECK(a.attempts == 1);
  CHECK(a.failure.code == "1003");
  CHECK_THAT(a.failure.message, Catch::Contains("Invalid value for field"));
}

TEST_CASE("1029 asks the caller to wait: until the quota resets or a little while", "[marketo][client]") {
  rig r;
  REQUIRE(r.describe());
  r.standin.fail_next(1, 1029, "Export daily quota exceeded");
  auto a = r.describe();
  REQUIRE_FALSE(a);
  CHECK(a.failure.kind == marketo::failure_kind::quota);
  CHECK(a.failure.retry_at == marketo::next_quota_reset(std::chrono::system_clock::now()));
  r.standin.fail_next(1, 1029, "Too many jobs in queue");
  auto b = r.describe();
  REQUIRE_FALSE(b);
  CHECK(b.failure.kind == marketo::failure_kind::quota);
  CHECK(b.failure.retry_at < std::chrono::system_clock::now() + 6min);
}

TEST_CASE("a changing call is retried only when Marketo surely did nothing", "[marketo][client]") {
  rig r;
  REQUIRE(r.describe());
  marketo::call_spec post;
  post.method = "POST";
  post.path = "/rest/v1/leads.json";
  post.json_body = R"({"action":"createOrUpdate","lookupField":"email","input":[{"email":"new@example.com"}]})";
  post.idempotent = false;
  r.standin.fail_next(1, 606);
  CHECK(r.call(post)); // refused before any work: sent again
  r.standin.fail_next(1, 611);
  auto a = r.call(post);
  REQUIRE_FALSE(a);
  CHECK(a.failure.kind == marketo::failure_kind::ambiguous);
  CHECK(a.attempts == 1);
  r.standin.fail_next(1, 503);
  CHECK(r.call(post).failure.kind == marketo::failure_kind::ambiguous);
}

TEST_CASE("the limiter keeps to the call window and concurrency so Marketo never refuses", "[marketo][client]") {
  testing::standin_options so;
  so.call_latency = 50ms;
  marketo::client_options co = rig::fast();
  co.max_calls = 30;
  co.window = 1000ms;
  rig r{so, co};
  REQUIRE(r.describe());
  r.standin.clear_calls();
  std::vector<std::future<marketo::call_result>> answers;
  std::vector<std::shared_ptr<std::promise<marketo::call_result>>> promises;
  for (int i = 0; i < 75; ++i) {
    auto p = std::make_shared<std::promise<marketo::call_result>>();
    answers.push_back(p->get_future());
    marketo::call_spec s;
    s.path = "/rest/v1/leads/describe.json";
    r.api->call(s, [p](marketo::call_result res) { p->set_value(std::move(res)); });
    promises.push_back(p);
  }
  for (auto& a : answers) {
    REQUIRE(a.wait_for(30s) == std::future_status::ready);
    CHECK(a.get());
  }
  CHECK(r.standin.peak_concurrency() <= 10);
  CHECK(r.standin.concurrency_limited() == 0);
  CHECK(r.standin.rate_limited() == 0);
  // No second in which more than 30 started.
  auto calls = r.standin.calls();
  REQUIRE(calls.size() == 75);
  for (std::size_t i = 30; i < calls.size(); ++i) CHECK(calls[i].at - calls[i - 30].at >= 950ms);
  CHECK(r.api->stats().limiter_waits > 0);
}

TEST_CASE("a download refused with 606 or cut off mid-body is read again", "[marketo][client]") {
  testing::standin_options so;
  so.leads = 300;
  rig r{so};
  marketo::call_spec create;
  create.method = "POST";
  create.path = "/bulk/v1/leads/export/create.json";
  auto now = std::chrono::system_clock::now();
  create.json_body = nlohmann::json{{"fields", {"id", "email", "firstName"}},
                                    {"format", "CSV"},
                                    {"filter", {{"createdAt", {{"startAt", marketo::iso8601(now - std::chrono::hours{24 * 30})},
                                                               {"endAt", marketo::iso8601(now + 1h)}}}}}}.dump();
  auto made = r.call(create);
  REQUIRE(made);
  const auto id = made.answer.result[0]["exportId"].get<std::string>();
  marketo::call_spec enqueue;
  enqueue.method = "POST";
  enqueue.path = "/bulk/v1/leads/export/" + id + "/enqueue.json";
  REQUIRE(r.call(enqueue));
  marketo::call_spec status;
  status.path = "/bulk/v1/leads/export/" + id + "/status.json";
  auto st = r.call(status);
  REQUIRE(st);
  REQUIRE(st.answer.result[0]["status"] == "Completed");
  const auto size = st.answer.result[0]["fileSize"].get<std::uint64_t>();
  REQUIRE(size > 100);
  r.standin.fail_next(1, 606); // Marketo's JSON refusal where the file would be: not the file
  r.standin.truncate_next_download(50);
  marketo::call_spec file;
  file.path = "/bulk/v1/leads/export/" + id + "/file.json";
  file.raw = true;
  file.headers.push_back({"Range", "bytes=0-" + std::to_string(size - 1)});
  auto got = r.call(file);
  REQUIRE(got);
  CHECK(got.body.size() == size);
  CHECK(got.body.find("\"success\"") == std::string::npos);
  CHECK(got.attempts == 3);
  CHECK(got.status == 206);
  CHECK(got.content_range == "bytes 0-" + std::to_string(size - 1) + "/" + std::to_string(size));
}

TEST_CASE("shutdown ends what waits with cancelled", "[marketo][client]") {
  testing::standin_options so;
  so.call_latency = 300ms;
  rig r{so};
  std::promise<marketo::call_result> p;
  marketo::call_spec s;
  s.path = "/rest/v1/leads/describe.json";
  r.api->call(s, [&p](marketo::call_result res) { p.set_value(std::move(res)); });
  std::this_thread::sleep_for(20ms);
  r.api->shutdown();
  auto f = p.get_future();
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  // Its answer comes after the shutdown (the stand-in holds it 300 ms): it ends cancelled.
  auto res = f.get();
  REQUIRE_FALSE(res);
  CHECK(res.failure.kind == marketo::failure_kind::cancelled);
}

TEST_CASE("a 606 holds every call for one window", "[marketo][client]") {
  rig r; // window 300 ms
  REQUIRE(r.describe());
  r.standin.clear_calls();
  r.standin.fail_next(1, 606);
  REQUIRE(r.describe());
  auto calls = r.standin.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].error == "606");
  CHECK(calls[1].at - calls[0].at >= 290ms);
}
