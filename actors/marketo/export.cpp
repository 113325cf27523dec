// Sync jobs: the whole database (createdAt windows) or what changed (updatedAt windows
// from the high-water mark), one bulk export per window of at most 31 days:
//
//   create ─▶ enqueue ─▶ poll status (every marketo.poll_interval_ms) ─▶ Completed
//     ─▶ ranged reads of the file (marketo.download_chunk_bytes), the next one fetched
//        while the last one's rows are stored, marketo.sync_batch_leads per commit, each
//        commit carrying the job's progress ─▶ checksum ─▶ next window
//
// 1029 waits (the queue, or the daily quota until it resets) and says so; a restart
// resumes from the stored job: the window, the export and the byte just past the last
// committed row.
#include <openssl/evp.h>

#include <utility>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/marketo/state.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/store/writes.hpp"

namespace dynchat::marketo_sync {
namespace {

using sys_clock = std::chrono::system_clock;
using marketo::call_result;
using marketo::call_spec;
using marketo::failure_kind;

std::int64_t ms_of(sys_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

void advance(sync_actor self);

// Runs `fn` if the job it was started for is still the current one.
template <class Fn>
auto for_job(sync_actor self, Fn fn) {
  const auto gen = self->state.generation;
  return on_actor(self, [self, gen, fn = std::move(fn)](call_result r) mutable {
    if (self->state.generation != gen || !self->state.job.active()) return;
    fn(std::move(r));
  });
}

// The job as stored (binary-safe: a bad byte from Marketo is replaced, never thrown on).
std::string job_text(const marketo::sync_job& job) {
  return marketo::to_json(job).dump(-1, ' ', false, json::error_handler_t::replace);
}

// On the bulk lane, like the sync's batches: a job's state is stored in the order it
// was sent, so a "cancelled" or "failed" is never overwritten by a batch's "running".
void save_job(sync_actor self) {
  auto& st = self->state;
  st.job.updated_ms = now_ms();
  store::write_batch batch;
  store::writes::put_meta(batch, marketo::sync_meta_key, job_text(st.job));
  self->request(st.ctx.writer, caf::infinite, msg::bulk_write_atom::value, std::move(batch))
    .then([](std::uint64_t) {}, [](caf::error& e) { spdlog::error("marketo: the sync's state could not be stored: {}", to_string(e)); });
}

// Back to the progress of the last committed batch: rows parsed ahead, or in the writer
// still, are read again (merging a lead twice changes nothing). The download stops.
void rewind_to_committed(sync_actor self) {
  auto& st = self->state;
  auto errors = std::move(st.job.errors);
  st.job = st.committed;
  st.job.errors = std::move(errors);
  st.file = {};
  ++st.generation;
}

void fail_job(sync_actor self, const std::string& why) {
  auto& st = self->state;
  spdlog::warn("marketo: the {} sync failed: {}", st.job.kind, why);
  st.job.state = "failed";
  st.job.message = why;
  st.job.add_error(why, now_ms());
  st.job.finished_ms = now_ms();
  st.file = {};
  ++st.generation;
  save_job(self);
  schedule_incremental(self);
}

void later(sync_actor self, std::chrono::milliseconds delay, std::function<void()> fn) {
  const auto gen = self->state.generation;
  self->delayed_send(self, delay, msg::mstep_atom::value, msg::marketo_step{[self, gen, fn = std::move(fn)] {
                       if (self->state.generation == gen && self->state.job.active()) fn();
                     }});
}

void wait_job(sync_actor self, sys_clock::time_point until, const std::string& why) {
  auto& st = self->state;
  rewind_to_committed(self);
  st.job.state = "waiting";
  st.job.message = why;
  st.job.wait_until_ms = ms_of(until);
  save_job(self);
  const auto delay = std::max<std::chrono::milliseconds>(
    std::chrono::milliseconds{1}, std::chrono::duration_cast<std::chrono::milliseconds>(until - sys_clock::now()));
  later(self, delay, [self] {
    auto& st = self->state;
    st.job.state = "running";
    st.job.message.clear();
    st.job.wait_until_ms = 0;
    advance(self);
  });
}

// A failed call: wait on a quota, otherwise the job fails with Marketo's words.
void failed_call(sync_actor self, const call_result& r, const std::string& doing) {
  if (r.failure.kind == failure_kind::quota) {
    const bool spent = r.failure.message.find("uota") != std::string::npos;
    const auto until = r.failure.retry_at;
    wait_job(self, until,
             spent ? "Marketo's daily export quota is spent (" + r.failure.message + "); the sync waits until " +
                       marketo::iso8601(until) + ", when it resets"
                   : "Marketo's export queue is full (" + r.failure.message + "); trying again at " + marketo::iso8601(until));
    return;
  }
  fail_job(self, doing + ": " + r.failure.message);
}

const marketo::time_window& current_window(sync_actor self) { return self->state.job.windows[self->state.job.window]; }
std::string window_name(sync_actor self) {
  return "window " + std::to_string(self->state.job.window + 1) + " of " + std::to_string(self->state.job.windows.size());
}

void create_export(sync_actor self) {
  auto& st = self->state;
  const auto& w = current_window(self);
  json body = {{"fields", st.job.fields},
               {"format", "CSV"},
               {"filter", {{st.job.filter, {{"startAt", marketo::iso8601(w.start)}, {"endAt", marketo::iso8601(w.end)}}}}}};
  call_spec spec;
  spec.method = "POST";
  spec.path = "/bulk/v1/leads/export/create.json";
  spec.json_body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  st.api->call(std::move(spec), for_job(self, [self](call_result r) {
    if (!r) return failed_call(self, r, "creating the export of " + window_name(self));
    auto& job = self->state.job;
    if (r.answer.result.empty() || !r.answer.result[0].is_object() || !r.answer.result[0].contains("exportId"))
      return fail_job(self, "Marketo's answer to creating an export has no exportId");
    job.export_id = r.answer.result[0].value("exportId", "");
    job.export_status = r.answer.result[0].value("status", "Created");
    save_job(self);
    advance(self);
  }));
}

void enqueue_export(sync_actor self) {
  auto& st = self->state;
  call_spec spec;
  spec.method = "POST";
  spec.path = "/bulk/v1/leads/export/" + marketo::url_encode(st.job.export_id) + "/enqueue.json";
  st.api->call(std::move(spec), for_job(self, [self](call_result r) {
    if (!r) return failed_call(self, r, "enqueueing the export of " + window_name(self));
    auto& job = self->state.job;
    job.export_status = !r.answer.result.empty() && r.answer.result[0].is_object()
                          ? r.answer.result[0].value("status", "Queued") : "Queued";
    if (job.export_status == "Created") job.export_status = "Queued";
    save_job(self);
    later(self, std::chrono::milliseconds{self->state.ctx.cfg->marketo.poll_interval_ms}, [self] { advance(self); });
  }));
}

void poll_export(sync_actor self) {
  auto& st = self->state;
  call_spec spec;
  spec.path = "/bulk/v1/leads/export/" + marketo::url_encode(st.job.export_id) + "/status.json";
  st.api->call(std::move(spec), for_job(self, [self](call_result r) {
    if (!r) return failed_call(self, r, "polling the export of " + window_name(self));
    auto& job = self->state.job;
    if (r.answer.result.empty() || !r.answer.result[0].is_object())
      return fail_job(self, "Marketo's export status answer has no result");
    const auto& s = r.answer.result[0];
    job.export_status = s.value("status", "");
    if (job.export_status == "Completed") {
      job.file_size = s.value("fileSize", std::uint64_t{0});
      job.checksum = s.value("fileChecksum", "");
      job.records_total += s.value("numberOfRecords", std::uint64_t{0});
    }
    save_job(self);
    if (job.export_status == "Queued" || job.export_status == "Processing")
      later(self, std::chrono::milliseconds{self->state.ctx.cfg->marketo.poll_interval_ms}, [self] { advance(self); });
    else
      advance(self);
  }));
}

// ---- the file ----

struct sha_free {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string hex_digest(EVP_MD_CTX* sha) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(sha, out, &n);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < n; ++i) {
    hex.push_back(digits[out[i] >> 4]);
    hex.push_back(digits[out[i] & 15]);
  }
  return hex;
}

void fetch(sync_actor self);
void ingest(sync_actor self, std::string bytes, bool last);

void start_download(sync_actor self) {
  auto& st = self->state;
  auto& job = st.job;
  st.file = {};
  st.file.parser = std::make_unique<marketo::csv_stream>(',', marketo::csv_limits{}, job.offset, job.line);
  if (job.offset == 0) {
    job.header.clear();
    job.resumed = false;
    st.file.sha = std::shared_ptr<EVP_MD_CTX>(EVP_MD_CTX_new(), sha_free{});
    EVP_DigestInit_ex(st.file.sha.get(), EVP_sha256(), nullptr);
  } else {
    // Resumed after a restart: the header was read before; the checksum cannot be.
    job.resumed = true;
    std::vector<std::string_view> header(job.header.begin(), job.header.end());
    std::string why;
    st.file.columns = marketo::map_header(header, marketo::schema_fields(job.header), &why);
    if (!st.file.columns) return fail_job(self, why);
    st.file.parser->expect_fields(job.header.size());
  }
  st.file.next_byte = job.offset;
  fetch(self);
}

void fetch(sync_actor self) {
  auto& st = self->state;
  if (st.file.fetching || st.file.next_byte >= st.job.file_size) return;
  st.file.fetching = true;
  const auto from = st.file.next_byte;
  const auto to = std::min<std::uint64_t>(from + st.ctx.cfg->marketo.download_chunk_bytes, st.job.file_size) - 1;
  call_spec spec;
  spec.path = "/bulk/v1/leads/export/" + marketo::url_encode(st.job.export_id) + "/file.json";
  spec.headers.push_back({"Range", "bytes=" + std::to_string(from) + "-" + std::to_string(to)});
  spec.raw = true;
  st.api->call(std::move(spec), for_job(self, [self, from, to](call_result r) {
    auto& st = self->state;
    st.file.fetching = false;
    if (!r) {
      // Files are kept 7 days: one gone is exported again.
      if (r.status == 404 || r.failure.code == "http 404") {
        rewind_to_committed(self);
        st.job.add_error("the export file of " + window_name(self) + " is gone; exporting the window again", now_ms());
        st.job.export_id.clear();
        st.job.export_status.clear();
        st.job.offset = 0;
        st.job.line = 1;
        st.job.header.clear();
        save_job(self);
        return advance(self);
      }
      return failed_call(self, r, "reading the export file of " + window_name(self));
    }
    std::string bytes = std::move(r.body);
    if (r.status == 200 && from > 0) {
      // The server sent the whole file, not the range: skip what we have.
      if (bytes.size() <= from)
        return fail_job(self, "the export file is shorter than its status said (HTTP 200 for bytes=" + std::to_string(from) +
                                "-" + std::to_string(to) + ": " + std::to_string(bytes.size()) + " bytes of " +
                                std::to_string(st.job.file_size) + ")");
      bytes.erase(0, from);
    }
    if (bytes.size() > to - from + 1) bytes.resize(to - from + 1);
    if (bytes.empty()) return fail_job(self, "Marketo sent an empty range of the export file");
    st.file.next_byte = from + bytes.size();
    const bool last = st.file.next_byte >= st.job.file_size;
    if (st.file.committing) {
      st.file.ready = std::move(bytes);
      st.file.ready_last = last;
      return;
    }
    ingest(self, std::move(bytes), last);
  }));
}

// Commits the batches one after another (each with the job's progress it stores), then
// `then`. What `then` throws fails the job: it must not end the actor.
void commit_batches(sync_actor self, std::shared_ptr<parsed_rows> step, std::size_t i, std::function<void()> then) {
  auto& st = self->state;
  if (i >= step->batches.size()) return then();
  const auto gen = st.generation;
  self->request(st.ctx.writer, caf::infinite, msg::bulk_write_atom::value, std::move(step->batches[i]))
    .then(
      [self, step, i, then, gen](std::uint64_t) {
        auto& st = self->state;
        if (st.generation != gen) return;
        st.committed = std::move(step->progress[i]);
        try {
          commit_batches(self, step, i + 1, then);
        } catch (const std::exception& e) {
          fail_job(self, std::string{"storing the leads failed: "} + e.what());
        }
      },
      [self, gen](caf::error& e) {
        if (self->state.generation != gen) return;
        fail_job(self, "the leads could not be stored: " + to_string(e) + " (start the sync again to resume)");
      });
}

struct batch_builder {
  explicit batch_builder(sync_actor s) : self(s) {}
  sync_actor self;
  parsed_rows rows;
  store::write_batch current;
  std::size_t leads = 0;

  void close() {
    auto& job = self->state.job;
    if (current.empty()) return;
    add(std::move(current), job);
    current.clear();
    leads = 0;
  }
  void add(store::write_batch batch, const marketo::sync_job& job) {
    store::writes::put_meta(batch, marketo::sync_meta_key, job_text(job));
    rows.batches.push_back(std::move(batch));
    rows.progress.push_back(job);
  }
};

void take_header(sync_actor self, const marketo::csv_row& row, batch_builder& out) {
  auto& st = self->state;
  auto& job = st.job;
  job.header.assign(row.fields.begin(), row.fields.end());
  std::string why;
  const auto schema = marketo::schema_fields(job.header);
  st.file.columns = marketo::map_header(row.fields, schema, &why);
  if (!st.file.columns) return;
  st.file.parser->expect_fields(job.header.size());
  job.schema = ensure_schema(self, schema, out.current);
}

// One chunk is stored a batch at a time: a step parses up to marketo.sync_batch_leads
// rows (fed in slices), and the writer gets them as a bulk write, which waits behind chat's
// writes. While one batch commits the next is parsed; one is in the writer at a time.

// A slice is a quarter of a chunk, 4..64 KiB: short steps, and several to a chunk.
std::size_t parse_slice_bytes(std::size_t chunk_bytes) {
  return std::clamp<std::size_t>(chunk_bytes / 4, 4 * 1024, 64 * 1024);
}

bool parse_step(sync_actor self);
void chunk_stored(sync_actor self, bool window_done);
void pump(sync_actor self);

void ingest(sync_actor self, std::string bytes, bool last) {
  auto& st = self->state;
  st.file.committing = true;
  if (st.file.sha) EVP_DigestUpdate(st.file.sha.get(), bytes.data(), bytes.size());
  st.file.chunk = std::move(bytes);
  st.file.chunk_pos = 0;
  st.file.chunk_last = last;
  st.file.chunk_parsed = false;
  st.file.chunk_started = std::chrono::steady_clock::now();
  if (!last) fetch(self); // the next range comes while these rows are stored
  pump(self);
}

// Sends the parsed batch to the writer if none is there, and parses the next meanwhile.
void pump(sync_actor self) {
  auto& f = self->state.file;
  if (!f.parsed && !f.chunk_parsed && !parse_step(self)) return;
  if (f.storing || !f.parsed) return;
  auto step = std::make_shared<parsed_rows>(std::move(*f.parsed));
  const bool chunk_done = step->chunk_done, window_done = step->window_done;
  f.parsed.reset();
  f.storing = true;
  commit_batches(self, step, 0, [self, chunk_done, window_done] {
    self->state.file.storing = false;
    if (chunk_done) return chunk_stored(self, window_done);
    pump(self);
  });
  if (!f.chunk_parsed) parse_step(self);
}

// The chunk's rows are all stored: the next chunk, or the next window.
void chunk_stored(sync_actor self, bool window_done) {
  auto& st = self->state;
  st.job.ingest_ms +=
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - st.file.chunk_started).count();
  st.file.committing = false;
  st.file.chunk.clear();
  st.file.chunk_pos = 0;
  // The writer has read most of the file's pages through the map by now: let them go,
  // or dynchatd's RSS would grow with the lead count.
  st.ctx.db->release_mapped_pages();
  if (window_done) {
    st.file = {};
    return advance(self);
  }
  if (st.file.ready) {
    auto next = std::move(*st.file.ready);
    st.file.ready.reset();
    ingest(self, std::move(next), st.file.ready_last);
  } else if (!st.file.fetching) {
    fetch(self);
  }
}

// Parses the next batch of the chunk into st.file.parsed; false when the job failed.
// Leads are merged over the stored copy inside the commit (store::writes::merge_lead),
// so parsing ahead of the writer never works from a stale copy.
bool parse_step(sync_actor self) {
  auto& st = self->state;
  auto& job = st.job;
  batch_builder out{self};
  out.current = std::move(st.file.carry); // the rows the last step read past its batch
  out.leads = std::exchange(st.file.carry_leads, 0);
  st.file.carry.clear();
  const auto batch_leads = st.ctx.cfg->marketo.sync_batch_leads;
  const auto now = now_ms();
  bool bad_header = false;
  auto on_row = [&](const marketo::csv_row& row) {
    job.offset = row.end_offset;
    job.line = row.next_line;
    if (!st.file.columns) {
      take_header(self, row, out);
      if (!st.file.columns) bad_header = true;
      return;
    }
    auto lead = marketo::row_to_lead(row.fields, *st.file.columns, job.schema, now);
    if (auto* why = std::get_if<std::string>(&lead)) {
      job.add_problem({static_cast<std::uint32_t>(job.window + 1), row.line, *why});
      return;
    }
    auto& fresh = std::get<store::lead_record>(lead);
    job.high_water_ms = std::max(job.high_water_ms, fresh.updated_ms);
    marketo::upsert_lead(out.current, std::move(fresh));
    ++job.records_done;
    if (++out.leads >= batch_leads) out.close();
  };
  auto on_problem = [&](const marketo::csv_problem& p) {
    job.offset = p.end_offset;
    job.line = p.next_line;
    job.add_problem({static_cast<std::uint32_t>(job.window + 1), p.line, p.reason});
  };
  auto& chunk = st.file.chunk;
  const auto slice = parse_slice_bytes(st.ctx.cfg->marketo.download_chunk_bytes);
  while (st.file.chunk_pos < chunk.size() && out.rows.batches.empty() && !bad_header) {
    const auto n = std::min(slice, chunk.size() - st.file.chunk_pos);
    st.file.parser->feed(std::string_view(chunk).substr(st.file.chunk_pos, n), on_row, on_problem);
    st.file.chunk_pos += n;
  }
  const bool chunk_done = st.file.chunk_pos >= chunk.size();
  if (chunk_done && st.file.chunk_last && !bad_header) st.file.parser->finish(on_row, on_problem);
  if (bad_header) return fail_job(self, "the export file of " + window_name(self) + " has no id column"), false;
  bool window_done = false;
  if (chunk_done && st.file.chunk_last) {
    if (st.file.sha && !job.checksum.empty()) {
      const auto got = "sha256:" + hex_digest(st.file.sha.get());
      if (got != job.checksum)
        job.add_error("the export file of " + window_name(self) + " did not match its checksum (" + got + " vs " +
                        job.checksum + "); its rows were stored as read",
                      now);
    }
    // The window is done: the next one starts from nothing.
    ++job.window;
    job.export_id.clear();
    job.export_status.clear();
    job.offset = 0;
    job.line = 1;
    job.header.clear();
    job.file_size = 0;
    job.checksum.clear();
    window_done = true;
  }
  if (chunk_done) {
    out.close(); // the chunk's last rows
  } else {
    // The slice went on past the batch that ended the loop: those rows start the next
    // batch, so every commit but a chunk's last holds a whole marketo.sync_batch_leads.
    st.file.carry = std::move(out.current);
    st.file.carry_leads = out.leads;
  }
  if (out.rows.batches.empty()) out.add({}, job); // the progress alone
  out.rows.chunk_done = chunk_done;
  out.rows.window_done = window_done;
  st.file.chunk_parsed = chunk_done;
  st.file.parsed = std::move(out.rows);
  return true;
}

void complete(sync_actor self) {
  auto& st = self->state;
  st.job.state = "completed";
  st.job.finished_ms = now_ms();
  st.job.message = "synced " + std::to_string(st.job.records_done) + " leads";
  spdlog::info("marketo: the {} sync completed: {} leads, {} bad rows", st.job.kind, st.job.records_done, st.job.bad_rows);
  ++st.generation;
  store::write_batch batch;
  store::writes::put_meta(batch, marketo::sync_meta_key, job_text(st.job));
  store::writes::put_meta(batch, high_water_key, std::to_string(st.job.high_water_ms));
  self->request(st.ctx.writer, caf::infinite, msg::bulk_write_atom::value, std::move(batch))
    .then([](std::uint64_t) {}, [](caf::error& e) { spdlog::error("marketo: the sync's end could not be stored: {}", to_string(e)); });
  schedule_incremental(self);
}

void advance(sync_actor self) {
  auto& st = self->state;
  auto& job = st.job;
  if (!job.active()) return;
  if (!st.api) return fail_job(self, "the Marketo connection was removed");
  if (job.window >= job.windows.size()) return complete(self);
  if (job.export_id.empty()) return create_export(self);
  const auto& s = job.export_status;
  if (s == "Created") return enqueue_export(self);
  if (s == "Queued" || s == "Processing") return poll_export(self);
  if (s == "Completed") return start_download(self);
  if (s == "Cancelled" || s == "Canceled") {
    job.add_error("Marketo cancelled the export of " + window_name(self) + "; exporting it again", now_ms());
    job.export_id.clear();
    return create_export(self);
  }
  return fail_job(self, "Marketo's export of " + window_name(self) + " ended " + (s.empty() ? "without a status" : s));
}

sys_clock::time_point parse_since(const std::string& text) {
  if (auto t = marketo::parse_iso8601(text.size() == 10 ? text + "T00:00:00Z" : text)) return *t;
  return sys_clock::time_point{std::chrono::hours{24 * 365 * 36}}; // 2006
}

} // namespace

void start_sync(sync_actor self, const std::string& kind) {
  auto& st = self->state;
  const auto now = sys_clock::now();
  sys_clock::time_point from = parse_since(st.ctx.cfg->marketo.full_sync_since);
  std::string k = kind;
  if (kind == "incremental") {
    std::int64_t high = 0;
    {
      auto txn = st.ctx.db->read();
      if (auto v = txn.get(store::table::meta, high_water_key)) high = std::atoll(std::string{*v}.c_str());
    }
    if (high > 0) from = sys_clock::time_point{std::chrono::milliseconds{high}} - std::chrono::minutes{1};
    else k = "full";
  }
  std::int64_t high_water = 0;
  {
    auto txn = st.ctx.db->read();
    if (auto v = txn.get(store::table::meta, high_water_key)) high_water = std::atoll(std::string{*v}.c_str());
  }
  ++st.generation;
  st.file = {};
  // Marketo's filters are in whole seconds: the last window ends after this second, so
  // a lead created a moment ago is in it.
  const auto to = std::chrono::ceil<std::chrono::seconds>(now + std::chrono::milliseconds{1});
  st.job = marketo::plan_sync(k, st.fields, from, to, now_ms());
  st.job.high_water_ms = high_water; // only ever moves forward
  st.committed = st.job;
  spdlog::info("marketo: a {} sync starts: {} windows, {} fields", k, st.job.windows.size(), st.job.fields.size());
  save_job(self);
  advance(self);
}

void resume_sync(sync_actor self) {
  auto& st = self->state;
  ++st.generation;
  st.committed = st.job; // as stored
  if (st.job.state == "waiting" && st.job.wait_until_ms > now_ms()) {
    return wait_job(self, sys_clock::time_point{std::chrono::milliseconds{st.job.wait_until_ms}}, st.job.message);
  }
  st.job.state = "running";
  st.job.message.clear();
  advance(self);
}

void cancel_sync(sync_actor self, const std::string& why) {
  auto& st = self->state;
  if (st.api && !st.job.export_id.empty() && (st.job.export_status == "Queued" || st.job.export_status == "Processing")) {
    call_spec spec;
    spec.method = "POST";
    spec.path = "/bulk/v1/leads/export/" + marketo::url_encode(st.job.export_id) + "/cancel.json";
    st.api->call(std::move(spec), [](call_result) {});
  }
  ++st.generation;
  st.file = {};
  st.job.state = "cancelled";
  st.job.message = why;
  st.job.finished_ms = now_ms();
  save_job(self);
}

json sync_status(sync_actor self) {
  auto j = marketo::progress_json(self->state.job, now_ms());
  j["leads_stored"] = store::count_leads(self->state.ctx.db->read());
  return j;
}

void schedule_incremental(sync_actor self) {
  const auto every = self->state.ctx.cfg->marketo.incremental_every;
  const auto token = ++self->state.incremental_token;
  self->delayed_send(self, every, msg::mstep_atom::value, msg::marketo_step{[self, token] {
                       auto& st = self->state;
                       if (token == st.incremental_token && st.api && !st.job.active()) start_sync(self, "incremental");
                     }});
}

} // namespace dynchat::marketo_sync
