#pragma once
// RAII over one LMDB environment with named tables. Only src/store includes lmdb.h.
//
// Threading: the environment is opened with MDB_NOTLS, so a read transaction may be
// used on any thread but must begin and end inside one message handler. Exactly one
// write transaction exists at a time: the store writer's.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct MDB_env;
struct MDB_txn;

namespace dynchat::store {

enum class table : std::uint8_t {
  meta,          // key -> value: settings, seeded flag, admin token hash, routing cursor
  conversations, // conversation id -> conversation_record
  messages,      // conversation id | be64(seq) -> message_record
  client_ids,    // conversation id | sender (visitor, agent:<id>) \0 client_msg_id -> be64(seq)
  resume_tokens, // sha256(resume token) -> conversation id
  visitors,      // visitor id -> visitor_record
  agents,        // agent id -> agent_record
  agent_tokens,  // sha256(agent token) -> agent id
  agent_chats,   // agent id | conversation id -> "" (the agent's open chats)
  waiting,       // be64(requested_ms) | conversation id -> "" (the line, in request order)
  open_conversations, // conversation id -> "" (waiting or live: restored at start-up)
  api_tokens,    // sha256(API token) -> api_token_record
  api_token_ids, // API token id -> sha256(API token)
  dialogues,     // dialogue id -> dialogue_record (its draft and where it stands)
  dialogue_versions, // dialogue id | be64(version) -> the published definition's JSON, immutable
  visitor_dialogues, // visitor id | dialogue id -> dialogue_visit (what each visitor met: triggered once)
  dialogue_visits,   // dialogue id | be64(triggered_ms) | conversation id -> dialogue_visit (reports)
  activities,        // conversation id | kind \0 name -> activity_record: the outbox Marketo delivers from
  live_chats,        // be64(requested_ms) | conversation id -> live_chat_visit: each request for an agent (reports)
  calendars,         // agent id -> calendar_record: settings, connected calendar, its busy times
  meetings,          // meeting id -> meeting_record
  agent_meetings,    // agent id | be64(start_ms) | meeting id -> "" (an agent's meetings in time order)
  meeting_outbox,    // meeting id | be64(sequence) | recipient -> invite_delivery (the invites SMTP sends)
  routing_rules,     // rule id -> the rule's JSON (routing/rule_book.hpp)
  routing_teams,     // team id -> the team's JSON
  routing_accounts,  // "domain:acme.com" | "company:acme" -> the account's JSON (its owner)
  leads,             // Marketo lead id -> lead_record (store/leads.hpp): the synced fields
  lead_emails,       // lower-case email -> lead id
  lead_cookies,      // Munchkin cookie token (_mch-…) -> lead id
  lead_schemas,      // be32(schema) -> the field names a lead_record's values follow
  lead_updates,      // conversation id | attribute -> lead_update: captured in chat, not yet written to Marketo
  activity_pending,  // be64(updated_ms) | activity key -> "": activities not yet delivered, oldest first
  activity_dead,     // activity key -> dead_activity: what Marketo refused, and why
  count_
};

/// Thrown by the store on an LMDB failure (map full, I/O error, corrupt file).
class store_error : public std::runtime_error {
public:
  store_error(std::string what, int code) : std::runtime_error(std::move(what)), code_(code) {}
  int code() const noexcept { return code_; }
private:
  int code_;
};

struct open_options {
  std::uint64_t map_size_bytes = 4ull << 30; // address space reserved, not disk used
  bool durable = true;                       // false: MDB_NOSYNC, for tests only
};

class read_txn;
class write_txn;

class database {
public:
  /// Creates the folder if needed, takes its lock (one process per folder) and opens
  /// every table. Throws store_error naming the folder: in use by another process (with
  /// its pid), not creatable, not openable.
  static std::shared_ptr<database> open(const std::filesystem::path& dir, const open_options& opts);
  ~database();
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  read_txn read() const;
  write_txn write();
  const std::filesystem::path& path() const { return dir_; }
  /// Unmaps the file pages this process has touched through LMDB's read-only map (they
  /// stay in the page cache; the next read maps them again). A bulk load that touches
  /// the whole file calls it now and then, so the process's RSS does not grow with it.
  void release_mapped_pages() const;

private:
  database() = default;
  friend class read_txn;
  friend class write_txn;
  MDB_env* env_ = nullptr;
  int lock_fd_ = -1;
  unsigned int dbis_[static_cast<int>(table::count_)] = {};
  std::filesystem::path dir_;
  void* map_ = nullptr; // LMDB's map of data.mdb, as /proc/self/maps shows it (LMDB does not tell)
  std::size_t map_bytes_ = 0;
};

/// Visitor for scans: return false to stop.
using scan_fn = std::function<bool(std::string_view key, std::string_view value)>;

class read_txn {
public:
  read_txn(read_txn&& other) noexcept;
  read_txn& operator=(read_txn&&) = delete;
  ~read_txn();

  /// The value stays valid until the transaction ends.
  std::optional<std::string_view> get(table t, std::string_view key) const;
  /// Keys >= from, in order, while they start with prefix.
  void scan_prefix(table t, std::string_view prefix, std::string_view from, const scan_fn& fn) const;
  /// Keys < before, newest first, while they start with prefix.
  void scan_prefix_reverse(table t, std::string_view prefix, std::string_view before, const scan_fn& fn) const;
  std::uint64_t entries(table t) const;

protected:
  friend class database;
  read_txn(const database& db, bool writable);
  const database* db_;
  MDB_txn* txn_ = nullptr;
};

class write_txn : public read_txn {
public:
  write_txn(write_txn&&) noexcept = default;
  void put(table t, std::string_view key, std::string_view value);
  bool erase(table t, std::string_view key);
  /// Durable on return unless opened with durable = false. Throws store_error.
  void commit();
  void abort() noexcept;

private:
  friend class database;
  explicit write_txn(const database& db) : read_txn(db, true) {}
};

} // namespace dynchat::store
