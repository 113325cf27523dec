#pragma once
// Marketo's REST answers, read without I/O: the envelope every /rest and /bulk JSON call
// answers with (HTTP 200 even on failure: success:false and errors[]), the identity
// service's token, and what to do about each documented error code
// (help/rest-api/error-codes.md in AdobeDocs/marketo-developer.en).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace dynchat::marketo {

struct api_error {
  std::string code;    // as Marketo sends it: "601"; "http 503" for an HTTP status
  std::string message;
  bool operator==(const api_error&) const = default;
};

/// What a failed call calls for.
enum class remedy {
  authenticate, // 601, 602: get a new access token, then send it again
  retry,        // 604, 606, 608, 611, 615, 713 and HTTP 5xx: again after a back-off
  wait_quota,   // 1029: the export queue is full or the daily export quota is spent
  fail,         // anything else: the job fails with Marketo's message
};
std::string_view to_string(remedy r) noexcept;
remedy remedy_for(std::string_view code) noexcept;
/// An HTTP status that is not 200: 5xx retries, 401/403 authenticate, others fail.
remedy remedy_for_status(unsigned status) noexcept;

struct envelope {
  std::string request_id;
  bool success = false;
  std::vector<api_error> errors;
  std::vector<api_error> warnings;
  nlohmann::json result = nlohmann::json::array();
  bool more_result = false;
  std::string next_page_token;
};

/// Reads a JSON answer; nullopt (with `why`) when it is not Marketo's envelope.
std::optional<envelope> parse_envelope(std::string_view body, std::string* why = nullptr);

/// The most telling error of a failed envelope: the first whose remedy is not `fail`
/// when there is one (so a 606 among others is retried), else the first.
api_error main_error(const envelope& e);

struct access_token {
  std::string value;
  std::chrono::seconds expires_in{0};
};
/// The identity service's answer (`GET /identity/oauth/token`): a token, or Marketo's
/// own words for why not ("invalid_client: Bad client credentials").
std::variant<access_token, std::string> parse_token(unsigned status, std::string_view body);

/// Which 1029 it is: the queue is full (try again soon) or the daily quota is spent
/// (try again after midnight US Central time, when it resets).
bool is_quota_spent(const api_error& e) noexcept;

/// The next reset of the daily export quota after `now`: 00:00 in America/Chicago.
std::chrono::system_clock::time_point next_quota_reset(std::chrono::system_clock::time_point now);

/// Back-off before retry `attempt` (1-based): base × 2^(attempt-1), at most `cap`, with
/// up to a quarter of jitter from `jitter01` (0..1) so many clients do not retry together.
std::chrono::milliseconds backoff(unsigned attempt, std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                  double jitter01);

/// ISO 8601 in UTC as Marketo's filters take it: 2026-12-07T18:00:00Z.
std::string iso8601(std::chrono::system_clock::time_point t);
/// Parses Marketo's times: `Z` or `±hh:mm` / `±hhmm` offsets, with or without fractions.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view s);

/// Splits [from, to) into consecutive windows of at most `max_days` days, as the bulk
/// export's createdAt/updatedAt filters require (31 days at most).
struct time_window {
  std::chrono::system_clock::time_point start, end;
  bool operator==(const time_window&) const = default;
};
std::vector<time_window> split_windows(std::chrono::system_clock::time_point from,
                                       std::chrono::system_clock::time_point to, int max_days = 31);

/// URL query percent-encoding (RFC 3986 unreserved characters stay).
std::string url_encode(std::string_view s);

} // namespace dynchat::marketo
