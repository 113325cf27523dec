#include "dynchat/core/metrics.hpp"

#include <fmt/format.h>

namespace dynchat {

histogram::histogram(std::vector<double> upper_bounds)
  : bounds_(std::move(upper_bounds)), buckets_(bounds_.size() + 1) {}

void histogram::observe(double value) noexcept {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double old = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(old, old + value, std::memory_order_relaxed)) {}
}

void histogram::render(std::string& out, const char* name, const char* help) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cumulative);
  }
  cumulative += buckets_.back().load(std::memory_order_relaxed);
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, cumulative, name,
                     sum_.load(std::memory_order_relaxed), name, cumulative);
}

metrics::metrics()
  : commit_batch_size({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096}),
    commit_latency_seconds({0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1}),
    bulk_commit_latency_seconds({0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1}) {}

std::string metrics::render_prometheus() const {
  std::string out;
  out.reserve(4096);
  auto gauge = [&](const char* name, const char* help, std::int64_t v, const char* labels = "") {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{}{} {}\n", name, help, name, name, labels, v);
  };
  auto counter = [&](const char* name, const char* help, std::uint64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, v);
  };
  out += "# HELP dynchat_open_sockets Open websocket connections by endpoint.\n"
         "# TYPE dynchat_open_sockets gauge\n";
  out += fmt::format("dynchat_open_sockets{{kind=\"visitor\"}} {}\n", open_visitor_sockets.load());
  out += fmt::format("dynchat_open_sockets{{kind=\"agent\"}} {}\n", open_agent_sockets.load());
  gauge("dynchat_open_http_connections", "Open HTTP connections not upgraded to websockets (TLS ones too).",
        open_http_connections.load());
  gauge("dynchat_live_visitor_sessions", "visitor_session actors alive.", live_visitor_sessions.load());
  gauge("dynchat_live_agents", "agent actors alive.", live_agents.load());
  gauge("dynchat_queue_length", "Conversations waiting in the FIFO queue for an agent.", queued_conversations.load());
  gauge("dynchat_pending_offers", "Offers sent to agents and not yet answered.", pending_offers.load());
  gauge("dynchat_store_pending_writes", "Write requests waiting for the next commit.", store_pending_writes.load());
  counter("dynchat_frames_in_total", "Frames received from clients.", frames_in.load());
  counter("dynchat_frames_out_total", "Frames queued to clients.", frames_out.load());
  counter("dynchat_messages_stored_total", "Chat messages durably stored.", messages_stored.load());
  counter("dynchat_acks_total", "Acks sent after a durable commit.", acks_sent.load());
  counter("dynchat_duplicate_messages_total", "Repeated client_msg_ids answered from the store.", duplicate_messages.load());
  counter("dynchat_errors_sent_total", "error frames sent.", errors_sent.load());
  counter("dynchat_rate_limited_total", "Frames refused by the per-connection rate limit.", rate_limited_frames.load());
  counter("dynchat_slow_consumers_closed_total", "Sockets closed at the outbound queue limit.", slow_consumers_closed.load());
  counter("dynchat_upgrades_rejected_total", "Websocket upgrades refused at the connection cap.", upgrades_rejected.load());
  counter("dynchat_offers_total", "Conversations offered to agents.", offers_made.load());
  counter("dynchat_offers_missed_total", "Offers not accepted in time.", offers_missed.load());
  counter("dynchat_chats_started_total", "Live chats accepted by an agent.", chats_started.load());
  counter("dynchat_chats_ended_total", "Live chats ended.", chats_ended.load());
  counter("dynchat_store_commits_total", "Durable LMDB commits.", store_commits.load());
  counter("dynchat_store_failures_total", "Failed LMDB commits.", store_failures.load());
  counter("dynchat_connections_refused_total", "TCP connections closed at once: over server.max_connections.", connections_refused.load());
  counter("dynchat_accept_failures_total", "accept() failures (out of descriptors and the like).", accept_failures.load());
  counter("dynchat_http_errors_total", "Malformed or over-limit HTTP requests answered with 4xx.", http_errors.load());
  counter("dynchat_conversations_refused_total", "New conversations refused by the per-address limit.", conversations_refused.load());
  counter("dynchat_flood_closes_total", "Sockets closed for a frame, ping or fragment flood.", flood_closes.load());
  counter("dynchat_failed_logins_total", "Agent hellos with an unknown token.", failed_logins.load());
  counter("dynchat_tls_handshake_failures_total", "TLS handshakes that failed or timed out (plain HTTP to the TLS port among them).",
          tls_handshake_failures.load());
  commit_batch_size.render(out, "dynchat_commit_batch_size", "Write requests per durable commit.");
  commit_latency_seconds.render(out, "dynchat_commit_latency_seconds", "Time of one durable commit.");
  bulk_commit_latency_seconds.render(out, "dynchat_bulk_commit_latency_seconds",
                                     "Time of one durable commit of a bulk write (a Marketo sync's batch of leads).");
  return out;
}

} // namespace dynchat
