#pragma once
// Process-wide counters, gauges and histograms, lock-free, rendered as Prometheus text.
// One instance is owned by the daemon and passed by reference: no globals.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "dynchat/core/log_throttle.hpp"

namespace dynchat {

class histogram {
public:
  explicit histogram(std::vector<double> upper_bounds);
  void observe(double value) noexcept;
  void render(std::string& out, const char* name, const char* help) const;
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

private:
  std::vector<double> bounds_;
  std::vector<std::atomic<std::uint64_t>> buckets_; // one per bound, plus +Inf
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

struct metrics {
  metrics();
  std::atomic<std::int64_t> open_visitor_sockets{0};
  std::atomic<std::int64_t> open_agent_sockets{0};
  std::atomic<std::int64_t> open_http_connections{0};
  std::atomic<std::int64_t> live_visitor_sessions{0};
  std::atomic<std::int64_t> live_agents{0};
  std::atomic<std::int64_t> queued_conversations{0};
  std::atomic<std::int64_t> pending_offers{0};
  std::atomic<std::int64_t> store_pending_writes{0};
  std::atomic<std::uint64_t> frames_in{0};
  std::atomic<std::uint64_t> frames_out{0};
  std::atomic<std::uint64_t> messages_stored{0};
  std::atomic<std::uint64_t> acks_sent{0};
  std::atomic<std::uint64_t> duplicate_messages{0};
  std::atomic<std::uint64_t> errors_sent{0};
  std::atomic<std::uint64_t> rate_limited_frames{0};
  std::atomic<std::uint64_t> slow_consumers_closed{0};
  std::atomic<std::uint64_t> upgrades_rejected{0};
  std::atomic<std::uint64_t> offers_made{0};
  std::atomic<std::uint64_t> offers_missed{0};
  std::atomic<std::uint64_t> chats_started{0};
  std::atomic<std::uint64_t> chats_ended{0};
  std::atomic<std::uint64_t> store_commits{0};
  std::atomic<std::uint64_t> store_failures{0};
  std::atomic<std::uint64_t> connections_refused{0};      // accepted and closed at once: over the cap
  std::atomic<std::uint64_t> accept_failures{0};          // accept() failed (EMFILE and the like)
  std::atomic<std::uint64_t> http_errors{0};              // malformed or over-limit HTTP requests answered 4xx
  std::atomic<std::uint64_t> conversations_refused{0};    // new conversations over the per-address limit
  std::atomic<std::uint64_t> flood_closes{0};             // sockets closed for frame or fragment floods
  std::atomic<std::uint64_t> failed_logins{0};            // agent hellos with an unknown token
  std::atomic<std::uint64_t> tls_handshake_failures{0};   // TLS handshakes that failed or timed out
  histogram commit_batch_size;
  histogram commit_latency_seconds;
  histogram bulk_commit_latency_seconds;                  // a Marketo sync's batches: chat waits for one at most

  // Warnings that a hostile client could repeat at will are logged at most once a
  // second per kind; the lines held back are counted in the next one.
  mutable log_throttle log_hello_timeout, log_flood, log_slow_consumer, log_failed_login, log_accept_failure,
    log_connection_cap, log_conversation_limit, log_bad_request, log_tls_handshake;

  std::string render_prometheus() const;
};

} // namespace dynchat
