#pragma once
// The state behind marketo_standin and the pieces its request files share
// (marketo_standin.cpp: the pipeline, identity and the public methods;
// marketo_standin_rest.cpp: leads and activities; marketo_standin_bulk.cpp: exports).
// Every member is guarded by `mutex`, held while a request is answered; a file being
// generated works on its own snapshot of the leads, without the lock.
#include <chrono>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/test_server.hpp"
#include "marketo_standin.hpp"
#include "marketo_standin_activities.hpp"
#include "marketo_standin_leads.hpp"

namespace dynchat::testing::standin {

using clock = std::chrono::system_clock;
using json = nlohmann::ordered_json; // answers keep Marketo's member order

std::int64_t to_unix(clock::time_point t);
clock::time_point from_unix(std::int64_t s);
std::string time_text(clock::time_point t);

/// A request with its query (and, for POST …?_method=GET, its form body) decoded.
struct request {
  const served_request& raw;
  std::string method; // GET for a POST with _method=GET
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> params;
  clock::time_point now;

  bool has(std::string_view name) const;
  /// The first value, or empty.
  std::string param(std::string_view name) const;
  /// Every value of every occurrence, split at commas, empty ones dropped.
  std::vector<std::string> list(std::string_view name) const;
};

std::vector<std::pair<std::string, std::string>> parse_form(std::string_view s);
std::string percent_decode(std::string_view s); // '+' is a space
/// The token of a `_mkto_trk` value (id:…&token:…), or the value itself if it is one.
std::optional<std::string> token_of(std::string_view cookie);

struct outcome {
  canned_reply reply;
  std::string error; // "" when the call succeeded (it counts against the rate limit)
};

/// The documented message of a Marketo error code.
std::string documented_message(unsigned code);

enum class job_status { created, queued, processing, completed, cancelled, failed };
std::string_view status_name(job_status s);

struct generated_file {
  std::shared_ptr<const export_file> file;
  clock::duration took; // the job completes max(export_delay, took) after it started
};

struct export_job {
  std::string id;
  std::string format;
  export_spec spec;
  job_status status = job_status::created;
  clock::time_point created_at, queued_at, started_at, finished_at;
  std::uint64_t queue_seq = 0;
  std::shared_future<generated_file> generating; // valid from Processing on
  std::shared_ptr<const export_file> file;       // once Completed
};

} // namespace dynchat::testing::standin

namespace dynchat::testing {

struct marketo_standin::impl {
  using lock_type = std::unique_lock<std::mutex>;
  using request = standin::request;
  using outcome = standin::outcome;
  using json = standin::json;

  explicit impl(standin_options o);
  ~impl();

  // pipeline (marketo_standin.cpp)
  canned_reply handle(const served_request& r);
  outcome identity(const request& q);
  std::optional<outcome> authenticate(const request& q);
  outcome route(const request& q, lock_type& lock);

  // answers
  std::string next_request_id();
  outcome ok(json result);
  outcome ok_envelope(json envelope); // adds requestId and success
  outcome error(unsigned code, std::string message = {});
  outcome error(std::string code, std::string message);
  static outcome http_status(unsigned status, std::string text);

  // leads and activities (marketo_standin_rest.cpp)
  outcome describe_leads(const request& q);
  outcome get_leads(const request& q);
  outcome get_lead(const request& q, std::string_view id);
  outcome sync_leads(const request& q);
  outcome paging_token(const request& q);
  outcome get_activities(const request& q);
  outcome activity_types(const request& q);
  outcome custom_activity_types(const request& q);
  outcome describe_custom_activity_type(const request& q, std::string_view api_name);
  outcome add_custom_activities(const request& q);
  json lead_json(std::uint64_t id, const std::vector<int>& fields) const;
  json activity_json(const standin::activity& a) const;

  // exports (marketo_standin_bulk.cpp)
  outcome create_export(const request& q);
  outcome list_exports(const request& q, lock_type& lock);
  outcome enqueue_export(const request& q, std::string_view id, lock_type& lock);
  outcome export_status(const request& q, std::string_view id, lock_type& lock);
  outcome export_file(const request& q, std::string_view id, lock_type& lock);
  outcome cancel_export(const request& q, std::string_view id, lock_type& lock);
  /// Moves jobs along as time passed: completes the due ones, starts queued ones. With
  /// `wait`, a job past its delay whose file is still being written is waited for
  /// (without the lock), so that it reads Completed.
  void advance(lock_type& lock, bool wait = true);
  void start_processing(standin::export_job& job);
  json job_json(const standin::export_job& job) const;

  standin_options opt;
  std::int64_t started_s;
  std::shared_ptr<const standin::field_catalog> catalog;

  mutable std::mutex mutex;
  standin::lead_store leads;
  standin::activity_log activities;

  // identity
  struct token_state {
    standin::clock::time_point expires;
    bool expired = false;
  };
  std::unordered_map<std::string, token_state> tokens;
  std::string current_token;

  // faults
  unsigned fail_count = 0;
  unsigned fail_code = 0;
  std::string fail_message;
  bool fail_identity = false;
  std::optional<std::uint64_t> truncate_next;

  // limits
  std::deque<standin::clock::time_point> window; // successful API calls, oldest first
  std::multiset<standin::clock::time_point> in_flight; // when the held answers go out
  int peak = 0;
  std::uint64_t answered_606 = 0, answered_615 = 0;

  // exports
  std::map<std::string, std::unique_ptr<standin::export_job>> jobs;
  std::uint64_t queue_seq = 0;
  std::uint64_t quota_used = 0;
  std::uint64_t completed = 0;
  standin::clock::time_point slot_freed{};

  // observation
  std::vector<standin_call> calls;
  nlohmann::json external_received = nlohmann::json::array();
  nlohmann::json leads_pushed = nlohmann::json::array();
  std::uint64_t request_seq = 0;

  // Last: destroyed first, so that no request is answered while the rest goes.
  std::unique_ptr<test_server> server;
};

} // namespace dynchat::testing
