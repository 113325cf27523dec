#pragma once
// Marketo's REST API, asynchronously, on the HTTP client's io thread: every call ends in
// exactly one callback there. The client keeps what every call needs and no caller
// should repeat:
//
//   call ─▶ access token? ──(none or expiring: one identity call, others wait)──┐
//        ◀───────────────────────────────────────────────────────────────────────┘
//        ─▶ limiter (100 calls / 20 s, 10 at once) ─▶ HTTP ─▶ success:false?
//              601/602 → new token, once more · 604 606 608 611 615 713, 5xx → back-off
//              1029 → the caller waits (queue full or daily quota) · others → fail
//
// A call that may have changed something in Marketo (a POST that is not idempotent) is
// retried only when Marketo surely did not act on it: a connection never made, 606 and
// 615 (refused before any work). Otherwise it fails as `ambiguous`, and the caller
// checks Marketo before sending again. See docs/marketo.md.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dynchat/http/runner.hpp"
#include "dynchat/marketo/api.hpp"

namespace dynchat::marketo {

/// What an admin gives to connect (PUT /v1/integrations/marketo).
struct connection_settings {
  std::string rest_url;     // https://123-ABC-456.mktorest.com/rest (the /rest is optional)
  std::string identity_url; // https://123-ABC-456.mktorest.com/identity; empty: beside rest_url
  std::string client_id;
  std::string client_secret;
  std::string munchkin_id;  // 123-ABC-456
};

struct client_options {
  std::size_t max_calls = 100;                  // per window, as Marketo allows
  std::chrono::milliseconds window{20'000};
  std::size_t max_concurrent = 10;
  unsigned max_retries = 5;                     // after the first attempt
  std::chrono::milliseconds backoff_base{1'000};
  std::chrono::milliseconds backoff_cap{60'000};
  std::chrono::seconds token_margin{60};        // a token is renewed this long before it expires
};

enum class failure_kind {
  none,
  marketo,    // Marketo said no (its code and message), or the retries ran out
  quota,      // 1029: wait (until `retry_at`) and try again
  auth,       // no token: the identity service refused the credentials (its words)
  ambiguous,  // a changing call whose fate is unknown: check before sending again
  transport,  // no answer (connect, timeout, ...) after the retries
  cancelled,  // the client shut down
};
std::string_view to_string(failure_kind k) noexcept;

struct call_failure {
  failure_kind kind = failure_kind::none;
  std::string code;    // Marketo's ("606"), "http 404", or the transport error's kind
  std::string message; // for people
  std::chrono::system_clock::time_point retry_at{}; // quota: when to try again
};

struct call_spec {
  std::string method = "GET";
  std::string path;               // /rest/v1/leads.json, /bulk/v1/leads/export/create.json
  std::vector<std::pair<std::string, std::string>> query; // encoded for you
  std::string json_body;          // sent as application/json when not empty
  std::vector<http::header> headers; // e.g. Range
  bool idempotent = true;         // false: see above
  bool raw = false;               // the answer is not JSON (a bulk export file)
};

struct call_result {
  call_failure failure;          // kind none: success
  envelope answer;               // JSON calls
  unsigned status = 0;           // HTTP status
  std::string body;              // raw calls: the bytes; JSON calls: empty
  std::string content_range;     // raw calls: the Content-Range header
  unsigned attempts = 0;
  explicit operator bool() const { return failure.kind == failure_kind::none; }
};

struct client_stats {
  std::uint64_t calls = 0;        // HTTP requests sent to /rest and /bulk
  std::uint64_t token_requests = 0;
  std::uint64_t retries = 0;
  std::uint64_t reauthentications = 0;
  std::uint64_t limiter_waits = 0; // calls that waited for the limiter
  std::size_t peak_in_flight = 0;
};

class client : public std::enable_shared_from_this<client> {
public:
  using callback = std::function<void(call_result)>;
  /// `http` must outlive the client; destroy the client (or shutdown()) first.
  static std::shared_ptr<client> make(http::runner& http, connection_settings conn, client_options options = {});
  ~client();

  /// Runs a call; `done` runs once, on the io thread, never inside call(). Thread-safe.
  void call(call_spec spec, callback done);
  /// Gets a fresh token (testing the connection): failure says Marketo's words.
  void authenticate(std::function<void(call_failure)> done);
  /// Fails what waits with `cancelled`, stops the timers. Thread-safe; idempotent.
  void shutdown();
  client_stats stats() const;
  const connection_settings& connection() const { return conn_; }

  struct impl;

private:
  client(http::runner& http, connection_settings conn, client_options options);
  connection_settings conn_;
  std::shared_ptr<impl> impl_;
};

/// The base (scheme://host[:port]) that /rest and /bulk paths hang from, from what an
/// admin pasted ("https://x.mktorest.com/rest/", "https://x.mktorest.com").
std::string rest_base(const std::string& rest_url);
/// The token URL: identity_url (or rest base + /identity) + /oauth/token.
std::string token_url(const connection_settings& conn);

} // namespace dynchat::marketo
