#pragma once
// A stand-in Marketo instance on 127.0.0.1 for tests and benchmarks: the documented REST
// endpoints (identity, describe, leads, activities, custom activities, bulk lead export)
// over real HTTP, with generated leads, Marketo's limits, injectable faults and a record
// of every call. A real Marketo client runs against it unchanged: base_url() is both
// its REST endpoint host and its identity host.
//
//   request ─► record ─► injected fault? ─► 615 / 606 (when enforced) ─► Bearer token
//           ─► route ─► leads · activities · bulk export jobs ─► answer (held call_latency)
//
// Export jobs move Created → Queued → Processing (at most 2) → Completed, export_delay
// after they started processing; the file is generated from the leads as they were when
// processing began, by a few threads, then served with Range support from memory.
//
// Thread-safety: every public method may be called from any thread while it serves.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dynchat::testing {

struct standin_options {
  std::uint64_t leads = 1000;   // generated leads, ids 1..leads
  unsigned custom_fields = 60;  // customField1..N (string)
  std::string client_id = "standin-client";
  std::string client_secret = "standin-secret";
  std::chrono::seconds token_ttl{3600};
  /// Leads' createdAt is spread evenly from first_created (lead 1) to last_created (lead N).
  std::chrono::system_clock::time_point first_created = std::chrono::system_clock::now() - std::chrono::days{400};
  std::chrono::system_clock::time_point last_created = std::chrono::system_clock::now();
  std::chrono::milliseconds export_delay{0}; // Processing → Completed; 0: done on enqueue
  std::uint64_t daily_quota_bytes = 500ull << 20;
  bool enforce_rate_limits = true; // 606 past 100 calls in 20 s, 615 past 10 at once
  std::string munchkin_id = "123-ABC-456";
  // Not in Marketo's terms:
  std::chrono::milliseconds call_latency{0}; // every API answer is held this long (calls overlap)
  bool export_end_inclusive = false;         // filter window [startAt, endAt] instead of [startAt, endAt)
  char ssv_delimiter = ';';                  // the docs disagree: semicolon or space
  unsigned export_threads = 4;               // file generation
};

/// Which calls an injected fault hits.
enum class fault_scope { api, with_identity };

/// One request as it arrived, and what it was answered.
struct standin_call {
  std::string method;
  std::string path;  // without the query
  std::string query; // as sent (percent-encoded), without '?'
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::system_clock::time_point at;
  unsigned status = 0; // HTTP status answered
  std::string error;   // "" on success, Marketo's code ("601"), or "http 404"
  /// The first header of that name (case-insensitive), or empty.
  std::string header(std::string_view name) const;
};

class marketo_standin {
public:
  explicit marketo_standin(standin_options options = {});
  ~marketo_standin();
  marketo_standin(const marketo_standin&) = delete;
  marketo_standin& operator=(const marketo_standin&) = delete;

  /// http://127.0.0.1:PORT — the REST base (…/rest/v1, …/bulk/v1) and the identity base.
  std::string base_url() const;
  std::uint16_t port() const;
  const standin_options& options() const;

  // --- faults ---
  /// Every token issued so far answers 602 "Access token expired" from now on.
  void expire_tokens();
  /// Every token issued so far is forgotten: it answers 601 "Access token invalid".
  void invalidate_tokens();
  /// The next `count` API calls (and identity calls too with fault_scope::with_identity)
  /// fail: a code below 600 is answered as that HTTP status (500, 502, 503, 413…), others
  /// as success:false with that code and its documented message (or `message`).
  void fail_next(unsigned count, unsigned code, fault_scope scope = fault_scope::api);
  void fail_next(unsigned count, unsigned code, std::string message, fault_scope scope = fault_scope::api);
  /// The next file download sends its headers (the full Content-Length) and `bytes` of the
  /// body, then closes the connection.
  void truncate_next_download(std::uint64_t bytes);
  void set_quota_used(std::uint64_t bytes);
  void reset_quota();
  std::uint64_t quota_used() const;
  void set_export_delay(std::chrono::milliseconds delay);
  void set_rate_limits(bool enforce);
  void set_call_latency(std::chrono::milliseconds latency);

  // --- observation ---
  std::vector<standin_call> calls() const;
  std::size_t call_count() const;
  void clear_calls();
  /// The most API calls held at once (with call_latency 0, answers do not overlap: 1).
  int peak_concurrency() const;
  /// Every record of every Add Custom Activities body, as sent (a JSON array).
  nlohmann::json external_activities() const;
  /// Every record of every Sync Leads body, as sent (a JSON array).
  nlohmann::json pushed_leads() const;
  std::uint64_t rate_limited() const;       // 606 answered
  std::uint64_t concurrency_limited() const; // 615 answered
  std::uint64_t exports_completed() const;

  // --- leads ---
  /// lead<n>@example<n%97>.com
  std::string lead_email(std::uint64_t n) const;
  /// id:<munchkin>&token:_mch-example.com-<n>-<5 digits>, the `_mkto_trk` value.
  std::string lead_cookie(std::uint64_t n) const;
  /// Associates another `_mkto_trk` value (or its token) with the lead.
  void add_cookie(std::uint64_t lead_id, std::string cookie);
  /// Sets a field ("" = empty) and bumps updatedAt to now. Throws std::invalid_argument for
  /// an unknown or read-only field, std::out_of_range for an unknown lead.
  void set_lead_field(std::uint64_t lead_id, std::string_view field, std::string value);
  /// The field's text as exports carry it ("" when empty).
  std::string lead_field(std::uint64_t lead_id, std::string_view field) const;
  std::chrono::system_clock::time_point lead_created_at(std::uint64_t lead_id) const;
  std::chrono::system_clock::time_point lead_updated_at(std::uint64_t lead_id) const;
  /// Generated plus created through the API.
  std::uint64_t lead_count() const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace dynchat::testing
