#include <catch2/catch.hpp>

#include "dynchat/marketo/api.hpp"
#include "dynchat/marketo/call_limiter.hpp"

using namespace dynchat::marketo;
using namespace std::chrono_literals;

TEST_CASE("every documented error code has its remedy", "[marketo]") {
  for (const char* c : {"601", "602"}) CHECK(remedy_for(c) == remedy::authenticate);
  for (const char* c : {"604", "606", "608", "611", "615", "713", "http 502"}) CHECK(remedy_for(c) == remedy::retry);
  CHECK(remedy_for("1029") == remedy::wait_quota);
  for (const char* c : {"603", "609", "610", "1003", "1035", "", "6060"}) CHECK(remedy_for(c) == remedy::fail);
  CHECK(remedy_for_status(503) == remedy::retry);
  CHECK(remedy_for_status(401) == remedy::authenticate);
  CHECK(remedy_for_status(404) == remedy::fail);
}

TEST_CASE("an envelope reads success and errors as Marketo sends them", "[marketo]") {
  auto ok = parse_envelope(R"({"requestId":"e42b#1","success":true,"result":[{"id":1}],"moreResult":true,"nextPageToken":"T"})");
  REQUIRE(ok);
  CHECK(ok->success);
  CHECK(ok->request_id == "e42b#1");
  CHECK(ok->result.size() == 1);
  CHECK(ok->more_result);
  CHECK(ok->next_page_token == "T");

  auto bad = parse_envelope(R"({"success":false,"errors":[{"code":"1003","message":"x"},{"code":606,"message":"Max rate limit"}]})");
  REQUIRE(bad);
  CHECK_FALSE(bad->success);
  REQUIRE(bad->errors.size() == 2);
  CHECK(bad->errors[1].code == "606"); // a number is read as its text
  CHECK(main_error(*bad).code == "606"); // the one worth retrying is the one acted on

  auto silent = parse_envelope(R"({"success":false})");
  REQUIRE(silent);
  CHECK(silent->errors.size() == 1);

  std::string why;
  CHECK_FALSE(parse_envelope("<html>", &why));
  CHECK(why == "the answer is not JSON");
  CHECK_FALSE(parse_envelope("[1]", &why));
  CHECK_FALSE(parse_envelope(R"({"result":[]})", &why));
  CHECK(why == "the answer has no `success`");
}

TEST_CASE("the identity answer gives a token or Marketo's own words", "[marketo]") {
  auto t = parse_token(200, R"({"access_token":"cdf0:int","token_type":"bearer","expires_in":3599,"scope":"a@b"})");
  REQUIRE(std::holds_alternative<access_token>(t));
  CHECK(std::get<access_token>(t).value == "cdf0:int");
  CHECK(std::get<access_token>(t).expires_in == 3599s);
  auto refused = parse_token(401, R"({"error":"invalid_client","error_description":"Bad client credentials"})");
  REQUIRE(std::holds_alternative<std::string>(refused));
  CHECK(std::get<std::string>(refused) == "invalid_client: Bad client credentials");
  CHECK(std::get<std::string>(parse_token(502, "gateway")) == "the identity service answered HTTP 502");
  CHECK(std::get<std::string>(parse_token(200, "{}")) == "the identity service's answer has no access_token");
}

TEST_CASE("1029 tells a full queue from a spent quota", "[marketo]") {
  CHECK(is_quota_spent({"1029", "Export daily quota exceeded"}));
  CHECK(is_quota_spent({"1029", "Export daily quota 500MB exceeded"}));
  CHECK_FALSE(is_quota_spent({"1029", "Too many jobs in queue"}));
  CHECK_FALSE(is_quota_spent({"606", "quota"}));
}

TEST_CASE("the quota resets at midnight US Central time", "[marketo]") {
  // 2026-12-07 18:00 UTC is 12:00 CST: the reset is 2026-12-08 06:00 UTC.
  auto now = *parse_iso8601("2026-12-07T18:00:00Z");
  CHECK(iso8601(next_quota_reset(now)) == "2026-12-08T06:00:00Z");
  // In summer Chicago is UTC-5: 2026-07-01 04:59 UTC is 23:59 CDT, the reset a minute later.
  auto summer = *parse_iso8601("2026-07-01T04:59:00Z");
  CHECK(iso8601(next_quota_reset(summer)) == "2026-07-01T05:00:00Z");
}

TEST_CASE("times parse in every form Marketo writes them", "[marketo]") {
  CHECK(iso8601(*parse_iso8601("2023-01-21T11:47:30-08:00")) == "2023-01-21T19:47:30Z");
  CHECK(iso8601(*parse_iso8601("2023-01-21T11:47:30+0530")) == "2023-01-21T06:17:30Z");
  CHECK(iso8601(*parse_iso8601("2023-01-21T11:47:30.123Z")) == "2023-01-21T11:47:30Z");
  CHECK(iso8601(*parse_iso8601("2023-01-21 11:47:30Z")) == "2023-01-21T11:47:30Z");
  for (const char* bad : {"", "2023-01-21", "2023-13-01T00:00:00Z", "2023-02-30T00:00:00Z", "2023-01-21T11:47:30",
                          "2023-01-21T11:47:30Zjunk", "2023-01-21T25:00:00Z", "null",
                          "0622-01-01T00:00:00Z", "9999-12-31T23:59:59Z"}) // found by the fuzzer: beyond the clock
    CHECK_FALSE(parse_iso8601(bad));
}

TEST_CASE("windows are at most 31 days and cover the span exactly", "[marketo]") {
  auto from = *parse_iso8601("2026-01-01T00:00:00Z");
  auto to = *parse_iso8601("2026-03-15T12:00:00Z");
  auto w = split_windows(from, to, 31);
  REQUIRE(w.size() == 3);
  CHECK(w[0].start == from);
  CHECK(iso8601(w[0].end) == "2026-02-01T00:00:00Z");
  CHECK(w[1].start == w[0].end);
  CHECK(w[2].end == to);
  for (const auto& x : w) CHECK(x.end - x.start <= std::chrono::hours{24 * 31});
  CHECK(split_windows(to, from).empty());
  CHECK(split_windows(from, from).empty());
}

TEST_CASE("back-off doubles up to its cap with at most a quarter of jitter", "[marketo]") {
  CHECK(backoff(1, 1000ms, 60000ms, 0.0) == 1000ms);
  CHECK(backoff(2, 1000ms, 60000ms, 0.0) == 2000ms);
  CHECK(backoff(4, 1000ms, 60000ms, 0.0) == 8000ms);
  CHECK(backoff(20, 1000ms, 60000ms, 0.0) == 60000ms);
  CHECK(backoff(1, 1000ms, 60000ms, 1.0) == 750ms);
  CHECK(backoff(200, 1000ms, 60000ms, 0.5) == 52500ms); // no overflow far out
}

TEST_CASE("url encoding keeps only the unreserved characters", "[marketo]") {
  CHECK(url_encode("a-b_c.d~e") == "a-b_c.d~e");
  CHECK(url_encode("id:123-ABC&token:_mch x") == "id%3A123-ABC%26token%3A_mch%20x");
  CHECK(url_encode("a+b@c.com") == "a%2Bb%40c.com");
}

TEST_CASE("the limiter holds 100 calls per 20 s and 10 at once", "[marketo]") {
  using clock = call_limiter::clock;
  call_limiter lim{100, 20s, 10};
  auto t0 = clock::time_point{} + 1h;
  for (int i = 0; i < 10; ++i) CHECK_FALSE(lim.try_start(t0));
  CHECK(lim.try_start(t0) == call_limiter::retry_hint); // the 11th waits for one to end
  for (int i = 0; i < 10; ++i) lim.release();
  // 100 in the window: the 101st waits for the oldest to leave it.
  for (int i = 10; i < 100; ++i) {
    REQUIRE_FALSE(lim.try_start(t0 + std::chrono::milliseconds{i}));
    lim.release();
  }
  auto wait = lim.try_start(t0 + 5s);
  REQUIRE(wait);
  CHECK(*wait == 15s);
  CHECK(lim.started_in_window(t0 + 5s) == 100);
  CHECK_FALSE(lim.try_start(t0 + 20s)); // the first ten left the window
  CHECK(lim.started_in_window(t0 + 20s) == 91);
  lim.release();
  lim.release(); // more releases than starts change nothing
  CHECK(lim.in_flight() == 0);
  lim.hold_until(t0 + 30s); // Marketo said 606
  CHECK(lim.try_start(t0 + 25s) == 5s);
  CHECK_FALSE(lim.try_start(t0 + 30s));
  lim.release();
  CHECK(lim.in_flight() == 0);
}
