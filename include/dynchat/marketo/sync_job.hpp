#pragma once
// A sync from Marketo as it stands, stored (as JSON in the meta table) in the same
// commit as the leads it brought: after a crash it resumes at the window, the export and
// the byte offset of the last committed row. Plus the pure rules it follows: which
// columns to export, how a CSV row becomes a lead, what progress to report.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "dynchat/marketo/api.hpp"
#include "dynchat/store/leads.hpp"

namespace dynchat::marketo {

inline constexpr std::string_view sync_meta_key = "marketo.sync";

struct sync_problem {
  std::uint32_t window = 0; // 1-based
  std::uint64_t line = 0;
  std::string reason;
};

struct sync_job {
  std::string state = "idle"; // idle | running | waiting | completed | failed | cancelled
  std::string kind;           // full | incremental
  std::string filter = "createdAt"; // the windows' field: createdAt (full) or updatedAt (incremental)
  std::vector<std::string> fields;  // the export's columns
  std::vector<time_window> windows;
  std::size_t window = 0;           // the one under way (index)
  std::string export_id;            // its export job in Marketo; empty: not created yet
  std::string export_status;        // as Marketo last said
  std::uint64_t file_size = 0;
  std::string checksum;             // sha256:<hex>
  std::uint64_t offset = 0;         // bytes of the file committed (just past the last row)
  std::uint64_t line = 1;           // the next line of the file
  std::vector<std::string> header;  // the file's header row, once read
  bool resumed = false;             // this file was resumed after a restart: no checksum check
  std::uint64_t records_done = 0;   // leads stored by this sync
  std::uint64_t records_total = 0;  // the records of the windows exported so far (Marketo's counts)
  std::uint64_t bad_rows = 0;
  std::vector<sync_problem> problems; // the latest, at most max_problems
  std::vector<std::string> errors;    // the latest, at most max_errors
  std::string message;                // what it waits for, or why it failed
  std::int64_t started_ms = 0;
  std::int64_t updated_ms = 0;
  std::int64_t finished_ms = 0;
  std::int64_t wait_until_ms = 0;     // waiting: until then (quota, queue, polling)
  std::int64_t high_water_ms = 0;     // the newest updatedAt seen
  std::uint32_t schema = 0;           // the lead schema its rows are stored with
  std::int64_t ingest_ms = 0;         // time spent fetching and storing rows: the rate's denominator

  static constexpr std::size_t max_problems = 100;
  static constexpr std::size_t max_errors = 20;
  bool active() const { return state == "running" || state == "waiting"; }
  void add_problem(sync_problem p);
  void add_error(std::string e, std::int64_t now_ms);
};

nlohmann::json to_json(const sync_job& job);
std::optional<sync_job> sync_job_from_json(std::string_view text);
/// What GET /v1/integrations/marketo/sync shows: the job, its rate and its ETA.
nlohmann::json progress_json(const sync_job& job, std::int64_t now_ms);

/// A new sync over [from, to): full (createdAt windows) or incremental (updatedAt, from
/// the high-water mark). `selected` are the chosen fields; the export always carries id,
/// email and updatedAt too.
sync_job plan_sync(std::string kind, const std::vector<std::string>& selected, std::chrono::system_clock::time_point from,
                   std::chrono::system_clock::time_point to, std::int64_t now_ms, int max_window_days = 31);
/// The schema's fields: the export's columns but id and email (kept on the record itself).
std::vector<std::string> schema_fields(const std::vector<std::string>& export_fields);

/// Where each of a file's columns goes.
struct lead_columns {
  int id = -1;
  int email = -1;
  int updated_at = -1;
  std::vector<int> values; // per schema field: its column, or -1
  std::size_t count = 0;   // columns in the header
};
/// From the header row; nullopt with `why` when it lacks the id column.
std::optional<lead_columns> map_header(std::span<const std::string_view> header, const std::vector<std::string>& schema,
                                       std::string* why);
/// One row as a lead (`null` and empty are both empty), or why it is not one.
std::variant<store::lead_record, std::string> row_to_lead(std::span<const std::string_view> row, const lead_columns& cols,
                                                          std::uint32_t schema, std::int64_t now_ms);

/// Adds the lead to `batch`, merged at commit over the stored copy if there is one (whose
/// cookies it keeps, and whose indexes it moves): what a sync and an offline import both
/// do with a row.
void upsert_lead(store::write_batch& batch, store::lead_record fresh);

} // namespace dynchat::marketo
