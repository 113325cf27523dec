#include "dynchat/store/lmdb.hpp"

#include <cinttypes>
#include <cstdio>
#include <tuple>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include <fcntl.h>
#include <lmdb.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

namespace dynchat::store {
namespace {

constexpr const char* table_names[] = {
  "meta", "conversations", "messages", "client_ids", "resume_tokens",
  "visitors", "agents", "agent_tokens", "agent_chats", "waiting", "open_conversations", "api_tokens", "api_token_ids",
  "dialogues", "dialogue_versions", "visitor_dialogues", "dialogue_visits", "activities", "live_chats",
  "calendars", "meetings", "agent_meetings", "meeting_outbox", "routing_rules", "routing_teams", "routing_accounts",
  "leads", "lead_emails", "lead_cookies", "lead_schemas", "lead_updates", "activity_pending", "activity_dead",
};
static_assert(std::size(table_names) == static_cast<std::size_t>(table::count_));

void check(int rc, const char* what) {
  if (rc != MDB_SUCCESS) throw store_error(std::string{what} + ": " + mdb_strerror(rc), rc);
}

MDB_val to_val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
std::string_view from_val(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

// RAII cursor, closed before its transaction ends.
struct cursor {
  MDB_cursor* c = nullptr;
  cursor(MDB_txn* txn, MDB_dbi dbi) { check(mdb_cursor_open(txn, dbi, &c), "mdb_cursor_open"); }
  ~cursor() { mdb_cursor_close(c); }
  cursor(const cursor&) = delete;
  cursor& operator=(const cursor&) = delete;
};

bool has_prefix(std::string_view key, std::string_view prefix) {
  return key.substr(0, prefix.size()) == prefix;
}

// LMDB lets several processes share an environment, but each dynchatd keeps its
// conversations' next seqs in memory: two on one folder would hand out the same seqs.
// An exclusive flock on a file in the folder, held for the process's life (the kernel
// drops it when the process dies, kill -9 included), lets only one in.
int lock_folder(const std::filesystem::path& dir) {
  const auto file = dir / "dynchat.lock";
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) throw store_error("cannot open " + file.string() + ": " + std::strerror(errno), errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder;
    std::ifstream{file} >> holder;
    ::close(fd);
    if (err == EWOULDBLOCK)
      throw store_error("the data folder " + dir.string() + " is in use by another dynchatd" +
                          (holder.empty() ? std::string{} : " (pid " + holder + ")") + "; refusing to start",
                        err);
    throw store_error("cannot lock " + file.string() + ": " + std::strerror(err), err);
  }
  // The pid only serves a second process's refusal message; the lock holds without it.
  const auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) [[maybe_unused]] auto written = ::pwrite(fd, pid.data(), pid.size(), 0);
  return fd;
}

// A data.mdb cut short (a full disk while copying, a bad restore). LMDB would take an
// empty one for a new database, silently, and map a partial page past the file's end.
// (A file cut at a page boundary cannot be told from a healthy one by its size: the meta
// page's last page number may lie past the end legitimately, on pages freed before they
// were ever written. The daemon names the file if a read then faults; see SIGBUS there.)
std::optional<std::string> truncation_of(const std::filesystem::path& dir) {
  const auto file = dir / "data.mdb";
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return std::nullopt; // absent: a new folder
  const auto page = static_cast<std::uintmax_t>(::sysconf(_SC_PAGESIZE));
  if (size >= 2 * page && size % page == 0) return std::nullopt;
  return "the data file " + file.string() + " is truncated: " + std::to_string(size) +
         " bytes, not a whole number of pages; restore the folder from a backup (or, if it is a new folder that "
         "never served, delete the file)";
}

} // namespace

namespace {
// The largest mapping of `file` in this process (mdb_env_info's me_mapaddr is only set
// for MDB_FIXEDMAP): where LMDB mapped data.mdb.
std::pair<void*, std::size_t> find_mapping(const std::filesystem::path& file) {
  std::error_code ec;
  const auto target = std::filesystem::canonical(file, ec).string();
  std::pair<void*, std::size_t> best{nullptr, 0};
  if (ec) return best;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const auto path_at = line.find('/');
    if (path_at == std::string::npos || line.compare(path_at, std::string::npos, target) != 0) continue;
    std::uintptr_t begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR, &begin, &end) != 2 || end <= begin) continue;
    if (end - begin > best.second) best = {reinterpret_cast<void*>(begin), static_cast<std::size_t>(end - begin)};
  }
  return best;
}
} // namespace

std::shared_ptr<database> database::open(const std::filesystem::path& dir, const open_options& opts) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw store_error("cannot create the data folder " + dir.string() + ": " + ec.message(), ec.value());
  std::shared_ptr<database> db{new database};
  db->dir_ = dir;
  db->lock_fd_ = lock_folder(dir);
  if (auto problem = truncation_of(dir)) throw store_error(*problem, MDB_CORRUPTED);
  check(mdb_env_create(&db->env_), "mdb_env_create");
  check(mdb_env_set_maxdbs(db->env_, static_cast<MDB_dbi>(table::count_)), "mdb_env_set_maxdbs");
  check(mdb_env_set_mapsize(db->env_, opts.map_size_bytes), "mdb_env_set_mapsize");
  unsigned flags = MDB_NOTLS;
  if (!opts.durable) flags |= MDB_NOSYNC;
  int rc = mdb_env_open(db->env_, dir.c_str(), flags, 0640);
  if (rc != MDB_SUCCESS) {
    mdb_env_close(db->env_);
    db->env_ = nullptr;
    throw store_error("cannot open the data folder " + dir.string() + ": " + mdb_strerror(rc), rc);
  }
  MDB_txn* txn = nullptr;
  check(mdb_txn_begin(db->env_, nullptr, 0, &txn), "mdb_txn_begin");
  for (std::size_t i = 0; i < std::size(table_names); ++i) {
    rc = mdb_dbi_open(txn, table_names[i], MDB_CREATE, &db->dbis_[i]);
    if (rc != MDB_SUCCESS) {
      mdb_txn_abort(txn);
      check(rc, "mdb_dbi_open");
    }
  }
  check(mdb_txn_commit(txn), "mdb_txn_commit");
  std::tie(db->map_, db->map_bytes_) = find_mapping(dir / "data.mdb");
  return db;
}

database::~database() {
  if (env_) mdb_env_close(env_);
  if (lock_fd_ >= 0) ::close(lock_fd_); // releases the folder lock
}

void database::release_mapped_pages() const {
  // A shared, read-only file mapping: MADV_DONTNEED drops our page-table entries only;
  // a reader that comes next faults the same bytes back in from the page cache.
  if (map_ != nullptr) ::madvise(map_, map_bytes_, MADV_DONTNEED);
}

read_txn database::read() const { return read_txn{*this, false}; }
write_txn database::write() { return write_txn{*this}; }

read_txn::read_txn(const database& db, bool writable) : db_(&db) {
  check(mdb_txn_begin(db.env_, nullptr, writable ? 0 : MDB_RDONLY, &txn_), "mdb_txn_begin");
}

read_txn::read_txn(read_txn&& other) noexcept : db_(other.db_), txn_(other.txn_) {
  other.txn_ = nullptr;
}

read_txn::~read_txn() {
  if (txn_) mdb_txn_abort(txn_);
}

std::optional<std::string_view> read_txn::get(table t, std::string_view key) const {
  MDB_val k = to_val(key);
  MDB_val v;
  int rc = mdb_get(txn_, db_->dbis_[static_cast<int>(t)], &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  check(rc, "mdb_get");
  return from_val(v);
}

void read_txn::scan_prefix(table t, std::string_view prefix, std::string_view from, const scan_fn& fn) const {
  cursor cur{txn_, db_->dbis_[static_cast<int>(t)]};
  std::string_view start = from.empty() ? prefix : from;
  MDB_val k = to_val(start);
  MDB_val v;
  int rc = start.empty() ? mdb_cursor_get(cur.c, &k, &v, MDB_FIRST) : mdb_cursor_get(cur.c, &k, &v, MDB_SET_RANGE);
  while (rc == MDB_SUCCESS) {
    auto key = from_val(k);
    if (!has_prefix(key, prefix) || !fn(key, from_val(v))) return;
    rc = mdb_cursor_get(cur.c, &k, &v, MDB_NEXT);
  }
  if (rc != MDB_NOTFOUND) check(rc, "mdb_cursor_get");
}

void read_txn::scan_prefix_reverse(table t, std::string_view prefix, std::string_view before,
                                   const scan_fn& fn) const {
  cursor cur{txn_, db_->dbis_[static_cast<int>(t)]};
  MDB_val k = to_val(before);
  MDB_val v;
  // Position on the first key >= before, then step back once; past the end, start at the last key.
  int rc = before.empty() ? mdb_cursor_get(cur.c, &k, &v, MDB_LAST) : mdb_cursor_get(cur.c, &k, &v, MDB_SET_RANGE);
  if (!before.empty()) {
    rc = rc == MDB_SUCCESS ? mdb_cursor_get(cur.c, &k, &v, MDB_PREV) : mdb_cursor_get(cur.c, &k, &v, MDB_LAST);
  }
  while (rc == MDB_SUCCESS) {
    auto key = from_val(k);
    if (!has_prefix(key, prefix) || !fn(key, from_val(v))) return;
    rc = mdb_cursor_get(cur.c, &k, &v, MDB_PREV);
  }
  if (rc != MDB_NOTFOUND) check(rc, "mdb_cursor_get");
}

std::uint64_t read_txn::entries(table t) const {
  MDB_stat st;
  check(mdb_stat(txn_, db_->dbis_[static_cast<int>(t)], &st), "mdb_stat");
  return st.ms_entries;
}

void write_txn::put(table t, std::string_view key, std::string_view value) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  check(mdb_put(txn_, db_->dbis_[static_cast<int>(t)], &k, &v, 0), "mdb_put");
}

bool write_txn::erase(table t, std::string_view key) {
  MDB_val k = to_val(key);
  int rc = mdb_del(txn_, db_->dbis_[static_cast<int>(t)], &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  check(rc, "mdb_del");
  return true;
}

void write_txn::commit() {
  MDB_txn* txn = txn_;
  txn_ = nullptr; // a failed commit frees the transaction too
  check(mdb_txn_commit(txn), "mdb_txn_commit");
}

void write_txn::abort() noexcept {
  if (txn_) mdb_txn_abort(txn_);
  txn_ = nullptr;
}

} // namespace dynchat::store
