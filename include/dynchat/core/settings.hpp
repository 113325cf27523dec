#pragma once
// Every tunable of dynchatd in one place, with its default. config/dynchat.toml
// mirrors this struct section by section; docs/operations.md explains each one.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "dynchat/protocol/frames.hpp"

namespace dynchat {

using seconds = std::chrono::seconds;

struct server_settings {
  std::string listen = "127.0.0.1:8080";
  unsigned io_threads = 1;
  unsigned actor_threads = 0; // 0: as many as the cores the io threads leave (at least 1)
  std::string data_dir = "./data";
  std::string admin_token; // empty: generated (and printed) on first start
  bool seed_demo = true;
  std::string log_level = "info";
  seconds shutdown_timeout{10};
};

struct store_settings {
  std::uint64_t map_size_mb = 4096;
  bool group_commit = true;             // false: one durable commit per write request
  std::size_t max_batch_requests = 4096; // write requests folded into one transaction at most
  bool durable = true;                   // false only for tests: MDB_NOSYNC
};

struct websocket_settings {
  std::size_t max_frame_bytes = 64 * 1024;
  double rate_per_second = 20;         // sustained frames per second per connection
  double rate_burst = 40;              // bucket size
  unsigned flood_strikes = 20;         // rate-limited frames before the socket is closed (1008)
  std::size_t max_outbound_frames = 1024;
  std::size_t max_outbound_bytes = 1024 * 1024;
  // An agent's socket carries up to max_chats conversations (and echoes of its own
  // messages), so it gets a deeper queue before a stall counts as not reading.
  std::size_t agent_max_outbound_frames = 8192;
  std::size_t agent_max_outbound_bytes = 8 * 1024 * 1024;
  seconds hello_timeout{10};
  seconds idle_timeout{60};            // no traffic: ping, then close after another idle_timeout
  seconds handshake_timeout{10};
  std::size_t max_connections = 19000; // websocket upgrades past this get HTTP 503
  std::size_t max_http_body = 1024 * 1024;
};

struct chat_settings {
  seconds visitor_grace{120};          // a session outlives its dropped socket this long
  seconds offer_timeout{100};          // an offer not accepted in time is missed
  unsigned max_offer_attempts = 2;     // agents tried before the conversation is queued
  bool away_after_missed = true;       // an agent who misses an offer is set to away
  seconds chat_idle_timeout{600};      // a live chat silent this long ends
  std::uint32_t default_max_chats = 5; // 1..10
  std::size_t max_in_flight = 64;      // unacked messages per conversation
  std::size_t max_replay = 10000;      // messages replayed on resume at most
};

struct settings {
  server_settings server;
  store_settings store;
  websocket_settings websocket;
  chat_settings chat;
  protocol::decode_limits limits;
};

/// Reads a TOML file over the defaults. Throws std::runtime_error naming the bad key.
settings load_settings_file(const std::filesystem::path& path, settings base = {});
/// The same for TOML text (used for `--set section.key=value`).
settings load_settings_text(std::string_view toml_text, settings base = {});
/// Checks ranges (capacity 1..10, positive limits); throws std::runtime_error.
void validate(const settings& s);

/// The CAF worker count to run: server.actor_threads, or when 0 the cores left over by
/// the io threads (at least one). More workers than cores only adds wake-ups.
unsigned effective_actor_threads(const server_settings& s, unsigned hardware_threads);

} // namespace dynchat
