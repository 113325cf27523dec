#pragma once
// The Marketo sync actor's state, shared by its files: sync.cpp (the behaviour, the
// connection, the fields), export.cpp (sync jobs: export, download, ingest),
// outbox.cpp (activities and captured attributes to Marketo), lookup.cpp (visitors).
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/context.hpp"
#include "dynchat/http/runner.hpp"
#include "dynchat/marketo/client.hpp"
#include "dynchat/marketo/csv_stream.hpp"
#include "dynchat/marketo/fields.hpp"
#include "dynchat/marketo/sync_job.hpp"

struct evp_md_ctx_st;

namespace dynchat::marketo_sync {

using json = nlohmann::json;

inline constexpr std::string_view connection_key = "marketo.connection";
inline constexpr std::string_view fields_key = "marketo.fields";
inline constexpr std::string_view high_water_key = "marketo.high_water";
inline constexpr std::string_view inflight_key = "marketo.outbox_inflight";

/// The connection as stored: the settings, and how its last test went.
struct connection_record {
  marketo::connection_settings settings;
  std::string status = "not_connected"; // not_connected | connected | failing
  std::string error;                    // Marketo's words, when failing
  std::int64_t checked_ms = 0;
};
json to_json(const connection_record& c, bool with_secret);
std::optional<connection_record> connection_from_json(const json& j);

/// Rows parsed into store batches, waiting for the writer.
struct parsed_rows {
  std::vector<store::write_batch> batches;
  std::vector<marketo::sync_job> progress; // the job as each batch stores it
  bool chunk_done = false;  // the chunk's last rows
  bool window_done = false; // the file's last rows
};

/// The export file being read: the parser, where its columns go, the running checksum.
struct download {
  std::unique_ptr<marketo::csv_stream> parser;
  std::optional<marketo::lead_columns> columns;
  std::shared_ptr<evp_md_ctx_st> sha; // over the whole file; null when resumed mid-file
  std::uint64_t next_byte = 0;        // the next byte to ask for
  bool fetching = false;
  bool committing = false;
  std::optional<std::string> ready;   // a chunk fetched ahead while the last one commits
  bool ready_last = false;
  std::string chunk;                  // the chunk being stored, a batch per step
  std::size_t chunk_pos = 0;          // how much of it the parser has been fed
  bool chunk_last = false;            // the file's last chunk
  bool chunk_parsed = false;          // every row of the chunk is parsed
  std::optional<parsed_rows> parsed;  // the next batch, parsed while the last one commits
  bool storing = false;               // a batch is with the writer
  store::write_batch carry;           // rows parsed past the last batch, the next one's start
  std::size_t carry_leads = 0;
  std::chrono::steady_clock::time_point chunk_started;
};

struct state {
  actor_context ctx;
  std::unique_ptr<http::runner> http;
  std::shared_ptr<marketo::client> api; // null: not connected
  connection_record connection;
  std::vector<std::string> fields;      // selected
  std::vector<marketo::described_field> described; // Marketo's, as last described
  marketo::sync_job job;                // as parsed: may run a batch or two ahead of the store
  marketo::sync_job committed;          // as the last committed batch (or save) stored it
  download file;
  std::uint64_t generation = 0;        // bumped when a job starts or stops: older answers are ignored
  bool delivering = false;             // an activity batch is on its way
  bool pushing = false;                // a lead-update batch is on its way
  std::map<std::string, int> activity_types; // custom activity apiName -> Marketo's id
  std::string outbox_error;            // the last delivery failure, for GET
  std::uint64_t delivered = 0, dead = 0;
  std::uint64_t incremental_token = 0;  // only the latest scheduled incremental sync runs
  std::optional<store::lead_schema> schema; // the newest lead schema, as stored or about to be
  static inline const char* name = "marketo_sync";
};
using sync_actor = marketo_sync_actor::stateful_pointer<state>;

/// Runs `fn` in the actor once `result` is back on its thread.
template <class Fn>
auto on_actor(sync_actor self, Fn fn) {
  marketo_sync_actor me = self;
  return [me, fn = std::move(fn)](auto result) mutable {
    caf::anon_send(me, msg::mstep_atom::value,
                   msg::marketo_step{[fn = std::move(fn), result = std::move(result)]() mutable { fn(std::move(result)); }});
  };
}

msg::json_reply reply(unsigned status, const json& body);
msg::json_reply problem(unsigned status, std::string code, std::string message, json details = nullptr);
void persist_meta(sync_actor self, std::string key, std::string value);

// export.cpp
void start_sync(sync_actor self, const std::string& kind);
void resume_sync(sync_actor self);   // at start-up, or after a wait
void cancel_sync(sync_actor self, const std::string& why);
json sync_status(sync_actor self);
void schedule_incremental(sync_actor self);

// outbox.cpp
void outbox_tick(sync_actor self);
json outbox_status(sync_actor self);
void retry_dead_letters(sync_actor self, caf::typed_response_promise<msg::json_reply> promise);

// lookup.cpp
void resolve_lead(sync_actor self, const std::string& email, const std::string& cookie,
                  caf::typed_response_promise<msg::lead_found> promise);
void lead_activities(sync_actor self, const std::string& lead_id, caf::typed_response_promise<msg::json_reply> promise);
/// The schema id for leads of these fields: the newest if it has them, else a new one
/// (its row added to `batch`).
std::uint32_t ensure_schema(sync_actor self, const std::vector<std::string>& fields, store::write_batch& batch);
/// Stores leads as Marketo answered them (a look-up or a push) through the writer.
store::write_batch lead_rows(sync_actor self, const json& marketo_leads, std::vector<store::lead_record>* stored = nullptr);

} // namespace dynchat::marketo_sync
