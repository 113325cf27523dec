#pragma once
// Every tunable of dynchatd in one place, with its default. config/dynchat.toml
// mirrors this struct section by section; docs/operations.md explains each one.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

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
  std::string log_level = "info";        // trace, debug, info, warn, error, critical, off
  seconds shutdown_timeout{10};
  // Every accepted TCP connection, HTTP and websocket alike, counts against this cap. It
  // is lowered at start-up to the open-file limit minus reserved_descriptors.
  std::size_t max_connections = 19500;
  std::size_t reserved_descriptors = 128; // kept free for LMDB, logs and the process itself
  std::size_t health_reserve = 16;        // the last connections below the cap serve only /healthz and /metrics
  std::size_t max_connections_per_address = 512; // from one client address (IPv6: its /64); trusted proxies exempt
  std::size_t max_api_tokens = 1000;              // REST API tokens that may exist at once
  std::size_t max_dialogues = 1000;               // dialogues that may exist at once (drafts included)
  seconds header_timeout{5};              // a request's headers must be complete within this
  seconds request_timeout{30};            // the body, and writing the answer
  std::size_t max_header_bytes = 16384;   // request line and headers; more: 431
  std::size_t max_url_bytes = 8192;       // request target; more: 414
  // Addresses (or CIDR blocks) of reverse proxies whose X-Forwarded-For is believed.
  std::vector<std::string> trusted_proxies;
  // PEM files: both set, the port speaks only TLS (HTTPS, wss://); neither, plain TCP.
  // Read once at start-up: a renewed certificate takes a restart.
  std::string tls_cert; // the certificate, then any intermediates
  std::string tls_key;  // its private key, unencrypted
};

struct store_settings {
  std::uint64_t map_size_mb = 4096;
  bool group_commit = true;             // false: one durable commit per write request
  std::size_t max_batch_requests = 4096; // write requests folded into one transaction at most
  bool durable = true;                   // false only for tests: MDB_NOSYNC
};

struct websocket_settings {
  std::size_t max_frame_bytes = 64 * 1024;
  unsigned max_fragments = 64;         // websocket frames one message may be split into
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
  seconds idle_timeout{60};            // silence: a ping; no answer within as long again: closed
  seconds handshake_timeout{10};
  std::size_t max_connections = 19000; // websocket upgrades past this get HTTP 503
  std::size_t max_http_body = 1024 * 1024;
};

struct chat_settings {
  seconds visitor_grace{120};          // a session outlives its dropped socket this long
  seconds offer_timeout{100};          // an offer not accepted in time is missed
  unsigned max_offer_attempts = 2;     // refused offers in a row before the visitor hears it waits in line
  seconds decline_cooldown{30};        // an agent who declined or missed a chat is not offered it again sooner
  bool away_after_missed = true;       // an agent who misses an offer is set to away
  seconds chat_idle_timeout{600};      // a live chat silent this long ends
  std::uint32_t default_max_chats = 5; // 1..10
  std::uint32_t bot_response_delay_ms = 1000; // the bot shows typing this long before each message
  std::uint32_t meeting_slots_shown = 8;       // free times a meeting card shows at once
  std::size_t max_in_flight = 64;      // unacked messages per conversation
  std::size_t max_replay = 10000;      // messages replayed on resume at most
  std::uint32_t history_page = 50;     // newest messages in an offer or chat frame; default history page
  std::size_t max_sockets_per_conversation = 8; // a visitor's open tabs
  std::size_t max_sockets_per_agent = 8;        // an agent's open consoles
  // New conversations per source address: a token bucket.
  double new_conversations_per_second = 1;
  double new_conversations_burst = 20;
};

/// Meetings: connected iCal feeds, and the SMTP relay that delivers invites (docs/meetings.md).
struct meetings_settings {
  seconds feed_refresh{900};                // each iCal feed is read again this often
  seconds feed_timeout{20};                 // one read of a feed, start to end
  std::size_t feed_max_bytes = 8 * 1024 * 1024; // a feed's text at most
  std::string feed_ca_file;                 // further CAs to trust for https feeds (PEM); empty: the system's
  std::string smtp_url;                     // smtp://host:port or smtps://host:port; empty: invites stay in the outbox
  std::string smtp_user, smtp_password;
  std::string smtp_from = "dynchat@localhost"; // the invites' sender
  bool smtp_starttls = true;                // STARTTLS on smtp:// (required when true)
  std::string smtp_ca_file;                 // further CAs to trust for the relay (PEM)
  seconds smtp_timeout{30};                 // one delivery, start to end
  unsigned smtp_max_attempts = 8;           // then the invite is marked failed, and stays visible
  seconds smtp_retry_base{30};              // back-off after a failure: doubles each time, capped at an hour
};

/// Who gets a meeting or a chat: the rule book's limits (docs/meetings.md, "Routing").
struct routing_settings {
  std::size_t agents_tried_per_rule = 2; // inside the rule that matched; then round robin over everyone
  std::size_t max_rules = 100;
  std::size_t max_teams = 100;
  std::size_t max_members = 100;         // agents of one rule or team
  std::size_t max_accounts = 100'000;
};

/// The Marketo sync (docs/marketo.md): Marketo's documented limits, and our pace.
struct marketo_settings {
  std::size_t poll_interval_ms = 300'000;   // export status polls: Marketo updates it once a minute at most
  std::size_t download_chunk_bytes = 8 * 1024 * 1024; // one ranged read of an export file
  std::size_t sync_batch_leads = 200;       // leads per store commit: chat commits interleave between
  std::size_t max_calls = 100;              // per call window, as Marketo allows
  std::size_t call_window_ms = 20'000;
  std::size_t max_concurrent = 10;
  unsigned max_retries = 5;
  std::size_t retry_base_ms = 1'000;        // back-off doubles from here
  std::size_t retry_cap_ms = 60'000;
  seconds request_timeout{60};              // one call's answer
  std::string ca_file;                      // further CAs to trust for Marketo (PEM); empty: the system's
  std::string full_sync_since = "2006-01-01"; // the oldest createdAt a full sync asks for
  seconds incremental_every{3600};          // after a sync: the next incremental one
  seconds activity_settle{30};              // an activity waits this long for its row to settle
  std::size_t activity_interval_ms = 5'000; // how often the outbox and the lead updates are looked at
  std::size_t lookup_timeout_ms = 3'000;    // a hello waits this long for a point look-up
  std::size_t recent_activities = 25;       // shown on an agent's visitor card
  std::string cpu_priority = "low";          // the sync's own threads: low (SCHED_BATCH, nice 19), idle (SCHED_IDLE), normal
};

struct settings {
  server_settings server;
  store_settings store;
  websocket_settings websocket;
  chat_settings chat;
  meetings_settings meetings;
  routing_settings routing;
  protocol::decode_limits limits;
  marketo_settings marketo;
};

/// Reads a TOML file over the defaults. Throws std::runtime_error naming the bad key.
settings load_settings_file(const std::filesystem::path& path, settings base = {});
/// The same for TOML text (used for `--set section.key=value`).
settings load_settings_text(std::string_view toml_text, settings base = {});
/// Checks ranges (capacity 1..10, positive limits); throws std::runtime_error.
void validate(const settings& s);
/// Every "section.key" the loader accepts.
std::vector<std::string> setting_keys();

/// The CAF worker count to run: server.actor_threads, or when 0 the cores left over by
/// the io threads (at least one). More workers than cores only adds wake-ups.
unsigned effective_actor_threads(const server_settings& s, unsigned hardware_threads);

} // namespace dynchat
