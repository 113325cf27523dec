// The HTTP client against real servers on 127.0.0.1: a scripted Beast server (plain and
// TLS, with certificates made at test time), a listener that never speaks, and one whose
// accept queue is full. The client's io_context runs on the test thread (run_until), or
// on two threads where the test is about threads. Every deadline here is short, and
// every wait has a limit, so a broken client fails a test instead of hanging it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "dynchat/http/client.hpp"
#include "http/test_pki.hpp"
#include "http/test_server.hpp"

using namespace dynchat::http;
using namespace dynchat::testing;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

// Deadlines short enough that a wrong wait shows as a failure in seconds, long enough
// for a loaded machine (or a sanitizer build) on loopback.
client_options quick() {
  client_options o;
  o.timeouts.queue = 3s;
  o.timeouts.resolve = 3s;
  o.timeouts.connect = 3s;
  o.timeouts.tls_handshake = 3s;
  o.timeouts.write = 3s;
  o.timeouts.headers = 3s;
  o.timeouts.body = 3s;
  return o;
}

// Runs `ioc` on this thread until `done()`, at most `limit`. True if done.
template <class Pred>
bool run_until(asio::io_context& ioc, Pred done, std::chrono::milliseconds limit = 5s) {
  const auto deadline = steady::now() + limit;
  while (!done()) {
    if (steady::now() >= deadline) return false;
    if (ioc.run_one_for(10ms) == 0 && ioc.stopped()) {
      ioc.restart(); // out of work for now: what is awaited comes from another thread
      std::this_thread::sleep_for(1ms);
    }
  }
  return true;
}

// Runs `ioc` for `period` (timers due in it fire).
void run_for(asio::io_context& ioc, std::chrono::milliseconds period) {
  const auto until = steady::now() + period;
  run_until(ioc, [&] { return steady::now() >= until; }, period + 1s);
}

request_spec get(std::string url) {
  request_spec s;
  s.url = std::move(url);
  return s;
}

struct rig {
  explicit rig(client_options o = quick()) : client(ioc, std::move(o)) {}
  asio::io_context ioc;
  dynchat::http::client client;

  outcome fetch(request_spec spec, std::chrono::milliseconds limit = 8s) {
    std::optional<outcome> got;
    client.request(std::move(spec), [&](outcome o) { got.emplace(std::move(o)); });
    REQUIRE(run_until(ioc, [&] { return got.has_value(); }, limit));
    return std::move(*got);
  }
};

canned_reply ok(std::string body = "ok") {
  canned_reply r;
  r.body = std::move(body);
  return r;
}

canned_reply redirect(unsigned status, std::string location) {
  canned_reply r;
  r.status = status;
  r.headers = {{"Location", std::move(location)}};
  return r;
}

test_pki& pki() {
  static test_pki p;
  return p;
}

test_server::tls_identity localhost_identity() {
  static const auto id = pki().issue("localhost", {"DNS:localhost", "IP:127.0.0.1"});
  return {id.cert_file, id.key_file};
}

client_options trusting_test_ca() {
  auto o = quick();
  o.tls.ca_file = pki().ca_file();
  return o;
}

#define CHECK_FAILED(outcome_, kind_, phase_)                                                                          \
  do {                                                                                                                 \
    const auto& o_ = (outcome_);                                                                                       \
    REQUIRE_FALSE(o_);                                                                                                 \
    INFO(o_.failure().message);                                                                                        \
    CHECK(to_string(o_.failure().kind) == to_string(kind_));                                                           \
    CHECK(to_string(o_.failure().where) == to_string(phase_));                                                         \
    CHECK_FALSE(o_.failure().message.empty());                                                                         \
  } while (false)

} // namespace

// ---------------------------------------------------------------------------------------
// Requests and responses

TEST_CASE("a request carries method, target, headers and body, the response comes back whole", "[http][client]") {
  test_server server{[](const served_request& r) {
    canned_reply reply;
    reply.status = r.method == "POST" ? 201 : 200;
    reply.headers = {{"X-Seen-Method", r.method}, {"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}};
    reply.body = "you sent " + std::to_string(r.body.size()) + " bytes";
    return reply;
  }};
  rig r;
  auto got = r.fetch(get(server.url("/path/x?q=1&r=%20")));
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(got->reason == "OK");
  CHECK(got->body == "you sent 0 bytes");
  CHECK(got->header_value("x-seen-method") == "GET"); // names compare case-insensitively
  CHECK(got->header_value("Set-Cookie") == "a=1");    // the first of repeated headers...
  CHECK(std::count(got->headers.begin(), got->headers.end(), header{"Set-Cookie", "b=2"}) == 1); // ...all kept
  CHECK(got->url == server.url("/path/x?q=1&r=%20"));
  CHECK(got->redirects == 0);

  request_spec post;
  post.method = "POST";
  post.url = server.url("/items");
  post.headers = {{"Content-Type", "application/json"}, {"X-Trace", "t-1"}};
  post.body = R"({"name":"Ann"})";
  got = r.fetch(post);
  REQUIRE(got);
  CHECK(got->status == 201);
  CHECK(got->body == "you sent 14 bytes");

  const auto seen = server.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].method == "GET");
  CHECK(seen[0].target == "/path/x?q=1&r=%20");
  CHECK(seen[0].header("Host") == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(seen[0].header("User-Agent") == client_options{}.user_agent);
  CHECK_FALSE(seen[0].has_header("Content-Length")); // a GET without a body says nothing of one
  CHECK(seen[1].method == "POST");
  CHECK(seen[1].target == "/items");
  CHECK(seen[1].body == R"({"name":"Ann"})");
  CHECK(seen[1].header("Content-Length") == "14");
  CHECK(seen[1].header("Content-Type") == "application/json");
  CHECK(seen[1].header("X-Trace") == "t-1");
}

TEST_CASE("a HEAD answer's Content-Length announces no body to wait for", "[http][client]") {
  test_server server{[](const served_request&) {
    canned_reply r;
    r.raw = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    return r;
  }};
  rig r;
  request_spec head = get(server.url("/"));
  head.method = "HEAD";
  auto got = r.fetch(head);
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(got->body.empty());
  CHECK(got->header_value("Content-Length") == "5");
}

TEST_CASE("interim 1xx answers are skipped, a malformed answer is a protocol error", "[http][client]") {
  test_server server{[](const served_request& r) {
    canned_reply reply;
    if (r.target == "/early")
      reply.raw = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"; // raw: no second request
    else if (r.target == "/garbage")
      reply.raw = "SPDY/9 what\r\n\r\n";
    else
      reply.raw = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: nonsense\r\nConnection: upgrade\r\n\r\n";
    return reply;
  }};
  rig r;
  auto early = r.fetch(get(server.url("/early")));
  REQUIRE(early);
  CHECK(early->status == 200);
  CHECK(early->body == "ok");
  CHECK_FAILED(r.fetch(get(server.url("/garbage"))), error_kind::protocol, phase::headers);
  CHECK_FAILED(r.fetch(get(server.url("/switch"))), error_kind::protocol, phase::headers);
}

TEST_CASE("URLs and requests that cannot be sent fail at once, before any connection", "[http][client]") {
  rig r;
  CHECK_FAILED(r.fetch(get("ftp://127.0.0.1/")), error_kind::bad_url, phase::queued);
  CHECK_FAILED(r.fetch(get("http://user:pw@127.0.0.1/")), error_kind::bad_url, phase::queued);
  CHECK_FAILED(r.fetch(get("not a url")), error_kind::bad_url, phase::queued);
  auto injected = get("http://127.0.0.1:1/");
  injected.headers = {{"X-A", "1\r\nX-Injected: 2"}};
  CHECK_FAILED(r.fetch(injected), error_kind::bad_request, phase::queued);
  auto bad_method = get("http://127.0.0.1:1/");
  bad_method.method = "GE T";
  CHECK_FAILED(r.fetch(bad_method), error_kind::bad_request, phase::queued);
  auto bad_name = get("http://127.0.0.1:1/");
  bad_name.headers = {{"X A", "1"}};
  CHECK_FAILED(r.fetch(bad_name), error_kind::bad_request, phase::queued);
}

TEST_CASE("a refused connection is a connect error, a name that does not resolve, a dns error", "[http][client]") {
  rig r;
  CHECK_FAILED(r.fetch(get("http://127.0.0.1:" + std::to_string(closed_port()) + "/")), error_kind::connect,
               phase::connect);
  // .invalid never resolves (RFC 6761). Where no DNS server answers at all, the lookup
  // may run into its own deadline instead: still the resolve phase.
  auto got = r.fetch(get("http://no-such-host.invalid/"));
  REQUIRE_FALSE(got);
  INFO(got.failure().message);
  CHECK((got.failure().kind == error_kind::dns || got.failure().kind == error_kind::timeout));
  CHECK(got.failure().where == phase::resolve);
}

// ---------------------------------------------------------------------------------------
// Deadlines, one per phase

TEST_CASE("a connect that gets no answer times out in the connect phase", "[http][client][timeout]") {
  full_listener full;
  auto o = quick();
  o.timeouts.connect = 200ms;
  rig r{o};
  const auto start = steady::now();
  CHECK_FAILED(r.fetch(get("http://127.0.0.1:" + std::to_string(full.port()) + "/")), error_kind::timeout,
               phase::connect);
  CHECK(steady::now() - start < 2s);
}

TEST_CASE("a server that never speaks TLS times out the handshake", "[http][client][timeout]") {
  silent_listener silent;
  auto o = trusting_test_ca();
  o.timeouts.tls_handshake = 200ms;
  rig r{o};
  CHECK_FAILED(r.fetch(get("https://127.0.0.1:" + std::to_string(silent.port()) + "/")), error_kind::timeout,
               phase::tls_handshake);
}

TEST_CASE("a server that never reads the request times out the write", "[http][client][timeout]") {
  silent_listener silent;
  auto o = quick();
  o.timeouts.write = 300ms;
  rig r{o};
  request_spec big;
  big.method = "PUT";
  big.url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/upload";
  big.body.assign(64 * 1024 * 1024, 'x'); // far more than the socket buffers hold
  CHECK_FAILED(r.fetch(big), error_kind::timeout, phase::write);
}

TEST_CASE("a server that accepts but never answers times out waiting for the headers", "[http][client][timeout]") {
  silent_listener silent;
  test_server withholding{[](const served_request&) {
    canned_reply r;
    r.never = true;
    return r;
  }};
  auto o = quick();
  o.timeouts.headers = 200ms;
  rig r{o};
  const auto start = steady::now();
  CHECK_FAILED(r.fetch(get("http://127.0.0.1:" + std::to_string(silent.port()) + "/")), error_kind::timeout,
               phase::headers);
  CHECK_FAILED(r.fetch(get(withholding.url("/"))), error_kind::timeout, phase::headers);
  CHECK(steady::now() - start < 2s);
}

TEST_CASE("a body that stops arriving times out the body phase", "[http][client][timeout]") {
  test_server server{[](const served_request&) {
    canned_reply r;
    r.raw = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
    return r;
  }};
  auto o = quick();
  o.timeouts.body = 200ms;
  rig r{o};
  auto got = r.fetch(get(server.url("/feed.ics?access_token=SECRET")));
  CHECK_FAILED(got, error_kind::timeout, phase::body);
  // Messages end up in logs: they name the URL without its query, where tokens travel.
  CHECK_THAT(got.failure().message, Catch::Contains("/feed.ics") && !Catch::Contains("SECRET"));
}

TEST_CASE("a server that hangs up mid-response is connection_closed", "[http][client]") {
  test_server server{[](const served_request&) {
    canned_reply r;
    r.raw = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc";
    r.close_after = true;
    return r;
  }};
  rig r;
  CHECK_FAILED(r.fetch(get(server.url("/"))), error_kind::connection_closed, phase::body);
}

// ---------------------------------------------------------------------------------------
// Size limits

TEST_CASE("a body over the limit is too_large, and that connection is not used again", "[http][client][limits]") {
  test_server server{[](const served_request& r) {
    canned_reply reply;
    if (r.target == "/big") reply.body.assign(2000, 'b');
    else if (r.target == "/exact") reply.body.assign(1000, 'e');
    else if (r.target == "/chunked") {
      // No Content-Length to refuse up front: the limit must hold while reading.
      reply.raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
      for (int i = 0; i < 30; ++i) reply.raw += "64\r\n" + std::string(100, 'c') + "\r\n";
      reply.raw += "0\r\n\r\n";
    } else
      reply.body = "small";
    return reply;
  }};
  auto o = quick();
  o.max_body_bytes = 1000;
  rig r{o};
  auto exact = r.fetch(get(server.url("/exact")));
  REQUIRE(exact);
  CHECK(exact->body.size() == 1000);
  CHECK(server.accepted() == 1);

  auto big = r.fetch(get(server.url("/big")));
  REQUIRE_FALSE(big);
  CHECK(big.failure().kind == error_kind::too_large);
  CHECK_THAT(big.failure().message, Catch::Contains("1000 bytes"));
  auto small = r.fetch(get(server.url("/small")));
  REQUIRE(small);
  CHECK(server.accepted() == 2); // the connection that carried /big was dropped

  CHECK_FAILED(r.fetch(get(server.url("/chunked"))), error_kind::too_large, phase::body);
}

TEST_CASE("response headers over the limit are too_large", "[http][client][limits]") {
  test_server server{[](const served_request&) {
    canned_reply reply;
    reply.headers = {{"X-Big", std::string(2000, 'h')}};
    return reply;
  }};
  auto o = quick();
  o.max_header_bytes = 1024;
  rig r{o};
  CHECK_FAILED(r.fetch(get(server.url("/"))), error_kind::too_large, phase::headers);
  o.max_header_bytes = 4096;
  rig roomy{o};
  CHECK(roomy.fetch(get(server.url("/"))));
}

// ---------------------------------------------------------------------------------------
// TLS

TEST_CASE("TLS succeeds with the test CA trusted, by address and by name", "[http][client][tls]") {
  test_server server{[](const served_request& r) { return ok("secret " + r.header("Host")); }, localhost_identity()};
  rig r{trusting_test_ca()};
  auto by_address = r.fetch(get(server.url("/")));
  REQUIRE(by_address);
  CHECK(by_address->body == "secret 127.0.0.1:" + std::to_string(server.port()));
  // By name: resolved, sent as SNI, matched against the certificate's DNS name.
  auto by_name = r.fetch(get("https://localhost:" + std::to_string(server.port()) + "/"));
  REQUIRE(by_name);
  CHECK(by_name->body == "secret localhost:" + std::to_string(server.port()));
}

TEST_CASE("TLS fails verification when the server's CA is not trusted", "[http][client][tls]") {
  test_server server{[](const served_request&) { return ok(); }, localhost_identity()};
  rig r; // the system trust store only
  auto got = r.fetch(get(server.url("/")));
  CHECK_FAILED(got, error_kind::tls, phase::tls_handshake);
  CHECK_THAT(got.failure().message, Catch::Contains("certificate"));
  CHECK(server.requests().empty());
}

TEST_CASE("TLS fails when the certificate names another host", "[http][client][tls]") {
  static const auto other = pki().issue("other", {"DNS:other.example"});
  test_server server{[](const served_request&) { return ok(); }, test_server::tls_identity{other.cert_file, other.key_file}};
  rig r{trusting_test_ca()}; // the chain is trusted: only the name is wrong
  auto by_address = r.fetch(get(server.url("/")));
  CHECK_FAILED(by_address, error_kind::tls, phase::tls_handshake);
  CHECK_THAT(by_address.failure().message, Catch::Contains("mismatch"));
  auto by_name = r.fetch(get("https://localhost:" + std::to_string(server.port()) + "/"));
  CHECK_FAILED(by_name, error_kind::tls, phase::tls_handshake);
  CHECK_THAT(by_name.failure().message, Catch::Contains("hostname mismatch"));
  CHECK(server.requests().empty());
}

TEST_CASE("verification is on unless explicitly turned off", "[http][client][tls]") {
  CHECK(client_options{}.tls.verify);
  CHECK(client_options{}.tls.system_trust_store);
  CHECK(client_options{}.tls.ca_file.empty());
  static const auto other = pki().issue("unverified", {"DNS:other.example"});
  test_server server{[](const served_request&) { return ok("plain sailing"); },
                     test_server::tls_identity{other.cert_file, other.key_file}};
  auto o = quick();
  o.tls.verify = false; // neither the CA nor the name would pass
  rig r{o};
  auto got = r.fetch(get(server.url("/")));
  REQUIRE(got);
  CHECK(got->body == "plain sailing");
}

TEST_CASE("a CA file that cannot be loaded is refused when the client is made", "[http][client][tls]") {
  asio::io_context ioc;
  client_options o;
  o.tls.ca_file = "/nonexistent/ca.pem";
  CHECK_THROWS_WITH(dynchat::http::client(ioc, o), Catch::Contains("/nonexistent/ca.pem"));
}

// ---------------------------------------------------------------------------------------
// Redirects

TEST_CASE("redirects are followed up to the limit, and no further", "[http][client][redirect]") {
  CHECK(client_options{}.max_redirects == 5);
  // /r/N answers a redirect to /r/N-1, each with another status; /r/0 answers.
  test_server server{[](const served_request& r) {
    if (r.target == "/loop") return redirect(302, "/loop");
    const int n = std::stoi(r.target.substr(3));
    if (n == 0) return ok("arrived");
    static const std::array<unsigned, 5> statuses{301, 302, 303, 307, 308};
    return redirect(statuses[n % 5], "/r/" + std::to_string(n - 1));
  }};
  auto o = quick();
  o.max_redirects = 4;
  rig r{o};
  auto got = r.fetch(get(server.url("/r/4")));
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(got->body == "arrived");
  CHECK(got->redirects == 4);
  CHECK(got->url == server.url("/r/0"));
  CHECK(server.accepted() == 1); // every hop on the same kept-alive connection

  CHECK_FAILED(r.fetch(get(server.url("/r/5"))), error_kind::too_many_redirects, phase::body);
  CHECK_FAILED(r.fetch(get(server.url("/loop"))), error_kind::too_many_redirects, phase::body);
  CHECK(server.requests().size() == 5 + 5 + 5);

  // Not following: the 3xx is the answer.
  auto no_follow = get(server.url("/r/1"));
  no_follow.follow_redirects = false;
  auto plain = r.fetch(no_follow);
  REQUIRE(plain);
  CHECK(plain->status == 302);
  CHECK(plain->header_value("Location") == "/r/0");
}

TEST_CASE("a relative Location is resolved against the URL that sent it", "[http][client][redirect]") {
  test_server server{[](const served_request& r) {
    if (r.target == "/a/b/c") return redirect(302, "../d?x=1");
    if (r.target == "/a/d?x=1") return redirect(301, "e#fragment");
    if (r.target == "/a/e") return redirect(307, "?only=query");
    return ok("at " + r.target);
  }};
  rig r;
  auto got = r.fetch(get(server.url("/a/b/c")));
  REQUIRE(got);
  CHECK(got->body == "at /a/e?only=query");
  CHECK(got->redirects == 3);
  const auto seen = server.requests();
  REQUIRE(seen.size() == 4);
  CHECK(seen[1].target == "/a/d?x=1");
  CHECK(seen[2].target == "/a/e");
}

TEST_CASE("303 turns a POST into a GET, 307 and 308 repeat it with its body", "[http][client][redirect]") {
  test_server server{[](const served_request& r) {
    if (r.target == "/see-other") return redirect(303, "/result");
    if (r.target == "/temporary") return redirect(307, "/result");
    if (r.target == "/permanent") return redirect(308, "/result");
    return ok(r.method + " " + r.body);
  }};
  rig r;
  request_spec post;
  post.method = "POST";
  post.headers = {{"Content-Type", "text/plain"}};
  post.body = "payload";
  post.url = server.url("/see-other");
  auto got = r.fetch(post);
  REQUIRE(got);
  CHECK(got->body == "GET ");
  CHECK_FALSE(server.requests().back().has_header("Content-Type"));
  post.url = server.url("/temporary");
  got = r.fetch(post);
  REQUIRE(got);
  CHECK(got->body == "POST payload");
  post.url = server.url("/permanent");
  got = r.fetch(post);
  REQUIRE(got);
  CHECK(got->body == "POST payload");
}

TEST_CASE("a redirect from https down to http is refused", "[http][client][redirect]") {
  test_server plain{[](const served_request&) { return ok("unencrypted"); }};
  const auto target = plain.url("/");
  test_server secure{[&](const served_request&) { return redirect(302, target); }, localhost_identity()};
  rig r{trusting_test_ca()};
  auto got = r.fetch(get(secure.url("/")));
  CHECK_FAILED(got, error_kind::redirect_refused, phase::body);
  CHECK(plain.accepted() == 0);
}

TEST_CASE("a redirect to another origin leaves the credentials behind", "[http][client][redirect]") {
  test_server other{[](const served_request&) { return ok("elsewhere"); }};
  const auto target = other.url("/landing");
  test_server first{[&](const served_request&) { return redirect(302, target); }};
  rig r;
  auto spec = get(first.url("/"));
  spec.headers = {{"Authorization", "Bearer secret"}, {"Cookie", "s=1"}, {"X-Keep", "yes"}};
  auto got = r.fetch(spec);
  REQUIRE(got);
  CHECK(got->body == "elsewhere");
  CHECK(first.requests().at(0).header("Authorization") == "Bearer secret");
  const auto landed = other.requests().at(0);
  CHECK_FALSE(landed.has_header("Authorization"));
  CHECK_FALSE(landed.has_header("Cookie"));
  CHECK(landed.header("X-Keep") == "yes");
  CHECK(landed.header("Host") == "127.0.0.1:" + std::to_string(other.port()));
}

// ---------------------------------------------------------------------------------------
// Connection reuse

TEST_CASE("sequential requests to one server reuse one TCP connection", "[http][client][pool]") {
  test_server server{[](const served_request&) { return ok(); }};
  rig r;
  REQUIRE(r.fetch(get(server.url("/one"))));
  REQUIRE(r.fetch(get(server.url("/two"))));
  REQUIRE(r.fetch(get(server.url("/three"))));
  CHECK(server.accepted() == 1);
  const auto seen = server.requests();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].connection == 1);
  CHECK(seen[2].connection == 1);
}

TEST_CASE("sequential requests over TLS reuse one connection too", "[http][client][pool][tls]") {
  test_server server{[](const served_request&) { return ok(); }, localhost_identity()};
  rig r{trusting_test_ca()};
  REQUIRE(r.fetch(get(server.url("/one"))));
  REQUIRE(r.fetch(get(server.url("/two"))));
  CHECK(server.accepted() == 1);
}

TEST_CASE("connections the server closes, or asks to close, are not reused", "[http][client][pool]") {
  test_server server{[](const served_request& r) {
    auto reply = ok();
    if (r.target == "/close-header") reply.headers = {{"Connection", "close"}};
    if (r.target == "/silent-close") reply.close_after = true; // keep-alive implied, then a FIN
    return reply;
  }};
  rig r;
  REQUIRE(r.fetch(get(server.url("/close-header"))));
  REQUIRE(r.fetch(get(server.url("/silent-close"))));
  REQUIRE(r.fetch(get(server.url("/after"))));
  CHECK(server.accepted() == 3);
}

TEST_CASE("an idle connection is closed after the idle timeout", "[http][client][pool]") {
  test_server server{[](const served_request&) { return ok(); }};
  auto o = quick();
  o.idle_timeout = 100ms;
  rig r{o};
  REQUIRE(r.fetch(get(server.url("/"))));
  REQUIRE(r.fetch(get(server.url("/"))));
  CHECK(server.accepted() == 1);
  run_for(r.ioc, 300ms);
  REQUIRE(r.fetch(get(server.url("/"))));
  CHECK(server.accepted() == 2);
}

TEST_CASE("a request lost on a pooled connection is retried once on a fresh one, if idempotent",
          "[http][client][pool]") {
  // Every connection's second request finds the server hanging up on it, as a server
  // that closes an idle connection just as a request arrives does.
  test_server server{[per_connection = std::map<std::size_t, int>{}](const served_request& r) mutable {
    auto reply = ok(r.method + " on connection " + std::to_string(r.connection));
    reply.drop = ++per_connection[r.connection] == 2;
    return reply;
  }};
  rig r;
  REQUIRE(r.fetch(get(server.url("/a"))));
  auto got = r.fetch(get(server.url("/b")));
  REQUIRE(got);
  CHECK(got->body == "GET on connection 2");
  CHECK(server.accepted() == 2);
  // A POST is not sent twice: the server may have acted on it before hanging up.
  auto post = get(server.url("/c"));
  post.method = "POST";
  post.body = "once";
  CHECK_FAILED(r.fetch(post), error_kind::connection_closed, phase::headers);
  CHECK(server.accepted() == 2);
  CHECK(server.requests().size() == 4);
}

// ---------------------------------------------------------------------------------------
// Concurrency limits and the queue

namespace {

// Fires one request per target and runs until all have ended.
std::vector<outcome> fire_all(rig& r, const std::vector<std::string>& urls, std::vector<int>* completion_order = nullptr,
                              std::chrono::milliseconds limit = 8s) {
  std::vector<std::optional<outcome>> got(urls.size());
  for (std::size_t i = 0; i < urls.size(); ++i)
    r.client.request(get(urls[i]), [&got, completion_order, i](outcome o) {
      got[i].emplace(std::move(o));
      if (completion_order) completion_order->push_back(static_cast<int>(i));
    });
  REQUIRE(run_until(r.ioc, [&] { return std::all_of(got.begin(), got.end(), [](auto& g) { return g.has_value(); }); },
                    limit));
  std::vector<outcome> out;
  for (auto& g : got) out.push_back(std::move(*g));
  return out;
}

canned_reply held_for(std::chrono::milliseconds d) {
  auto r = ok();
  r.delay = d;
  return r;
}

} // namespace

TEST_CASE("at most max_in_flight_per_origin requests reach one server at once, the rest wait",
          "[http][client][limits]") {
  test_server server{[](const served_request&) { return held_for(150ms); }};
  auto o = quick();
  o.max_in_flight_per_origin = 2;
  rig r{o};
  std::vector<std::string> urls;
  for (int i = 0; i < 5; ++i) urls.push_back(server.url("/" + std::to_string(i)));
  for (auto& got : fire_all(r, urls)) CHECK(got);
  CHECK(server.max_concurrent() == 2);
  CHECK(server.accepted() == 2); // the waiting requests took over the two connections
}

TEST_CASE("max_in_flight bounds the requests in flight across all origins", "[http][client][limits]") {
  auto gauge = std::make_shared<concurrency_gauge>();
  test_server a{[](const served_request&) { return held_for(100ms); }, std::nullopt, gauge};
  test_server b{[](const served_request&) { return held_for(100ms); }, std::nullopt, gauge};
  auto o = quick();
  o.max_in_flight = 2;
  o.max_in_flight_per_origin = 5;
  rig r{o};
  std::vector<std::string> urls;
  for (int i = 0; i < 3; ++i) {
    urls.push_back(a.url("/"));
    urls.push_back(b.url("/"));
  }
  for (auto& got : fire_all(r, urls)) CHECK(got);
  CHECK(gauge->peak() == 2);
  CHECK(a.requests().size() == 3);
  CHECK(b.requests().size() == 3);
}

TEST_CASE("waiting requests start first come, first served", "[http][client][limits]") {
  test_server server{[](const served_request&) { return held_for(20ms); }};
  auto o = quick();
  o.max_in_flight_per_origin = 1;
  rig r{o};
  std::vector<std::string> urls;
  for (int i = 0; i < 5; ++i) urls.push_back(server.url("/" + std::to_string(i)));
  std::vector<int> order;
  for (auto& got : fire_all(r, urls, &order)) CHECK(got);
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
  std::vector<std::string> targets;
  for (const auto& seen : server.requests()) targets.push_back(seen.target);
  CHECK(targets == std::vector<std::string>{"/0", "/1", "/2", "/3", "/4"});
}

TEST_CASE("an origin at its limit does not hold back the requests queued behind it for others",
          "[http][client][limits]") {
  test_server slow{[](const served_request&) { return held_for(300ms); }};
  test_server fast{[](const served_request&) { return ok(); }};
  auto o = quick();
  o.max_in_flight_per_origin = 1;
  rig r{o};
  std::vector<int> order;
  for (auto& got : fire_all(r, {slow.url("/1"), slow.url("/2"), fast.url("/")}, &order)) CHECK(got);
  CHECK(order == std::vector<int>{2, 0, 1});
}

TEST_CASE("the queue is bounded: past max_queued a request fails with queue_full", "[http][client][limits]") {
  test_server server{[](const served_request&) { return held_for(150ms); }};
  auto o = quick();
  o.max_in_flight = 1;
  o.max_queued = 2;
  rig r{o};
  std::vector<int> order;
  auto got = fire_all(r, {server.url("/0"), server.url("/1"), server.url("/2"), server.url("/3")}, &order);
  CHECK(got[0]);
  CHECK(got[1]);
  CHECK(got[2]);
  CHECK_FAILED(got[3], error_kind::queue_full, phase::queued);
  CHECK(order.front() == 3); // refused at once, not after a wait
  CHECK(server.requests().size() == 3);
}

TEST_CASE("a request that waits in the queue past its deadline times out there", "[http][client][limits][timeout]") {
  test_server server{[](const served_request&) {
    canned_reply r;
    r.never = true;
    return r;
  }};
  auto o = quick();
  o.max_in_flight = 1;
  o.timeouts.queue = 100ms;
  o.timeouts.headers = 600ms;
  rig r{o};
  auto got = fire_all(r, {server.url("/held"), server.url("/waiting")});
  CHECK_FAILED(got[0], error_kind::timeout, phase::headers);
  CHECK_FAILED(got[1], error_kind::timeout, phase::queued);
}

// ---------------------------------------------------------------------------------------
// Cancellation, shutdown, destruction

TEST_CASE("cancelling one request ends it, once, with cancelled, the others go on", "[http][client][cancel]") {
  silent_listener silent;
  test_server server{[](const served_request&) { return held_for(100ms); }};
  auto o = quick();
  o.max_in_flight = 1;
  rig r{o};

  int calls = 0;
  std::optional<outcome> got;
  auto running = r.client.request(get("http://127.0.0.1:" + std::to_string(silent.port()) + "/"), [&](outcome out) {
    ++calls;
    got.emplace(std::move(out));
  });
  run_for(r.ioc, 100ms); // connected, written, waiting for headers
  running.cancel();
  REQUIRE(run_until(r.ioc, [&] { return got.has_value(); }));
  CHECK_FAILED(*got, error_kind::cancelled, phase::headers);
  running.cancel(); // too late: nothing happens
  run_for(r.ioc, 50ms);
  CHECK(calls == 1);

  // A queued request, cancelled, gives its place up; the slot is not lost.
  std::optional<outcome> first, queued;
  r.client.request(get(server.url("/first")), [&](outcome out) { first.emplace(std::move(out)); });
  auto waiting = r.client.request(get(server.url("/queued")), [&](outcome out) { queued.emplace(std::move(out)); });
  waiting.cancel();
  REQUIRE(run_until(r.ioc, [&] { return first && queued; }));
  CHECK(*first);
  CHECK_FAILED(*queued, error_kind::cancelled, phase::queued);
  CHECK(r.fetch(get(server.url("/after"))));
  CHECK(server.requests().size() == 2);

  request_handle{}.cancel(); // a handle to nothing
}

TEST_CASE("shutdown cancels running and queued requests, each callback once, and the io_context runs out of work",
          "[http][client][cancel]") {
  test_server held{[](const served_request&) {
    canned_reply r;
    r.never = true;
    return r;
  }};
  test_server quick_server{[](const served_request&) { return ok(); }};
  auto o = quick();
  o.max_in_flight_per_origin = 1;
  asio::io_context ioc;
  dynchat::http::client c{ioc, o};

  // A pooled connection, whose idle timer (30 s) would otherwise keep the io_context busy.
  std::optional<outcome> warm;
  c.request(get(quick_server.url("/")), [&](outcome out) { warm.emplace(std::move(out)); });
  REQUIRE(run_until(ioc, [&] { return warm.has_value(); }));
  REQUIRE(*warm);

  std::array<int, 4> calls{};
  std::array<std::optional<error>, 4> errors;
  for (std::size_t i = 0; i < calls.size(); ++i)
    c.request(get(held.url("/" + std::to_string(i))), [&, i](outcome out) {
      ++calls[i];
      if (!out) errors[i] = out.failure();
    });
  REQUIRE(run_until(ioc, [&] { return held.requests().size() == 1; }));
  run_for(ioc, 50ms); // the client, too, has seen its write complete
  c.shutdown();

  const auto start = steady::now();
  ioc.restart();
  auto runner = std::async(std::launch::async, [&] { ioc.run(); });
  if (runner.wait_for(3s) != std::future_status::ready) {
    ioc.stop();
    runner.wait();
    FAIL("the io_context still had work 3 s after shutdown()");
  }
  CHECK(steady::now() - start < 1s);
  for (std::size_t i = 0; i < calls.size(); ++i) {
    INFO("request " << i);
    CHECK(calls[i] == 1);
    REQUIRE(errors[i]);
    CHECK(errors[i]->kind == error_kind::cancelled);
    CHECK(errors[i]->where == (i == 0 ? phase::headers : phase::queued));
  }

  // Afterwards: cancelled at once, and shutdown() again is harmless.
  c.shutdown();
  std::optional<outcome> late;
  c.request(get(quick_server.url("/")), [&](outcome out) { late.emplace(std::move(out)); });
  REQUIRE(run_until(ioc, [&] { return late.has_value(); }));
  CHECK_FAILED(*late, error_kind::cancelled, phase::queued);
  CHECK(quick_server.requests().size() == 1);
}

namespace {

// The io_context on `n` threads, kept busy by a work guard until finish().
class io_threads {
public:
  io_threads(asio::io_context& ioc, int n) : ioc_(ioc), guard_(asio::make_work_guard(ioc)) {
    for (int i = 0; i < n; ++i)
      threads_.emplace_back([this] {
        ioc_.run();
        ++finished_;
      });
  }
  ~io_threads() {
    if (!threads_.empty()) finish(0ms);
  }
  /// Lets the io_context run out of work; true if it did within `limit` (else stops it).
  bool finish(std::chrono::milliseconds limit) {
    guard_.reset();
    const auto deadline = steady::now() + limit;
    while (finished_ < static_cast<int>(threads_.size()) && steady::now() < deadline) std::this_thread::sleep_for(5ms);
    const bool ran_out = finished_ == static_cast<int>(threads_.size());
    if (!ran_out) ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    return ran_out;
  }

private:
  asio::io_context& ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
  std::atomic<int> finished_{0};
};

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = steady::now() + limit;
  while (!done()) {
    if (steady::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

} // namespace

TEST_CASE("destroying the client with requests in flight cancels them safely", "[http][client][cancel]") {
  silent_listener silent;
  test_server held{[](const served_request&) {
    canned_reply r;
    r.never = true;
    return r;
  }, localhost_identity()};
  asio::io_context ioc;
  io_threads threads{ioc, 2};
  std::atomic<int> calls{0}, cancelled{0};
  {
    auto o = trusting_test_ca();
    o.max_in_flight_per_origin = 3; // some run, some wait
    dynchat::http::client c{ioc, o};
    for (int i = 0; i < 10; ++i) {
      const auto url = i % 2 ? held.url("/") : "http://127.0.0.1:" + std::to_string(silent.port()) + "/";
      c.request(get(url), [&](outcome out) {
        ++calls;
        if (!out && out.failure().kind == error_kind::cancelled) ++cancelled;
      });
    }
    std::this_thread::sleep_for(100ms); // let them connect and shake hands
  }
  CHECK(wait_for([&] { return calls == 10; }, 3s));
  CHECK(threads.finish(3s)); // nothing of the client is left running
  CHECK(calls == 10);
  CHECK(cancelled == 10);
}

TEST_CASE("a client and its io_context destroyed without running again leave nothing behind", "[http][client][cancel]") {
  // Their callbacks never run (the io_context that would run them is gone); what must
  // hold is that nothing leaks or is touched after it is freed (the sanitizer build).
  silent_listener silent;
  test_server server{[](const served_request&) { return ok(); }};
  bool called = false;
  {
    asio::io_context ioc;
    dynchat::http::client c{ioc, quick()};
    std::optional<outcome> warm;
    c.request(get(server.url("/")), [&](outcome out) { warm.emplace(std::move(out)); });
    REQUIRE(run_until(ioc, [&] { return warm.has_value(); })); // one pooled connection
    c.request(get("http://127.0.0.1:" + std::to_string(silent.port()) + "/"), [&](outcome) { called = true; });
    run_for(ioc, 50ms);
  }
  CHECK_FALSE(called);
}

TEST_CASE("requests made from several threads, handled on two io threads, all complete within the limits",
          "[http][client][threads]") {
  test_server plain{[](const served_request& r) { return ok(r.target); }};
  test_server secure{[](const served_request& r) { return ok(r.target); }, localhost_identity()};
  auto o = trusting_test_ca();
  o.max_in_flight_per_origin = 4;
  asio::io_context ioc;
  io_threads threads{ioc, 2};
  std::mutex mutex;
  std::vector<std::string> failures;
  std::atomic<int> done{0};
  constexpr int per_thread = 40;
  {
    dynchat::http::client c{ioc, o};
    auto fire = [&](int from) {
      for (int i = 0; i < per_thread; ++i) {
        const auto target = "/" + std::to_string(from) + "/" + std::to_string(i);
        const auto url = (i % 4 == 0 ? secure : plain).url(target);
        c.request(get(url), [&, target](outcome out) {
          if (!out || out->body != target) {
            std::lock_guard lock{mutex};
            failures.push_back(out ? "wrong body " + out->body : out.failure().message);
          }
          ++done;
        });
      }
    };
    std::thread other{fire, 1};
    fire(0);
    other.join();
    CHECK(wait_for([&] { return done == 2 * per_thread; }, 8s));
  }
  CHECK(threads.finish(3s));
  CHECK(failures.empty());
  CHECK(plain.max_concurrent() <= 4);
  CHECK(secure.max_concurrent() <= 4);
  CHECK(plain.accepted() <= 4);
  CHECK(secure.accepted() <= 4);
}
