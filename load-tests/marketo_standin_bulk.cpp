// Bulk lead export (bulk-extract.md, bulk-lead-extract.md).
//
//   create ─► Created ─enqueue─► Queued ─(a slot of 2)─► Processing ─(export_delay and
//   the file written)─► Completed        cancel: Created/Queued/Processing ─► Cancelled
//
// Time moves only when asked: every export call first advances the jobs to now, with the
// times they would have had (a queued job starts when a slot was freed, not when polled).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <random>

#include "marketo_standin_impl.hpp"

namespace dynchat::testing {

using standin::clock;
using standin::export_job;
using standin::job_status;
using standin::json;
using outcome = marketo_standin::impl::outcome;

namespace {

constexpr std::size_t max_processing = 2;
constexpr std::size_t max_queued = 10; // inclusive of the processing ones
constexpr std::int64_t max_span = 31 * 86400;

bool is_json_content(const served_request& r) {
  auto t = r.header("Content-Type");
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t.find("application/json") != std::string::npos;
}

std::string uuid4() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) s += '-';
    s += hex[rng() & 15];
  }
  return s;
}

std::string content_type(const std::string& format) {
  if (format == "TSV") return "text/tab-separated-values";
  if (format == "SSV") return "text/plain";
  return "text/csv";
}

// bytes=a-b, bytes=a-, bytes=-n; also "bytes a-b", as bulk-extract.md writes it once.
// Answers [first, last] within the file, or nothing if unsatisfiable or not understood.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_range(std::string_view h, std::uint64_t size,
                                                                   bool& malformed) {
  malformed = false;
  if (!h.starts_with("bytes") || h.size() < 7 || (h[5] != '=' && h[5] != ' ')) {
    malformed = true;
    return std::nullopt;
  }
  auto spec = h.substr(6);
  while (!spec.empty() && spec.front() == ' ') spec.remove_prefix(1);
  while (!spec.empty() && spec.back() == ' ') spec.remove_suffix(1);
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) {
    malformed = true;
    return std::nullopt;
  }
  auto number = [](std::string_view s) -> std::optional<std::uint64_t> {
    std::uint64_t v = 0;
    if (s.empty()) return std::nullopt;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc{} || r.ptr != s.data() + s.size()) return std::nullopt;
    return v;
  };
  const auto a = spec.substr(0, dash), b = spec.substr(dash + 1);
  if (a.empty()) { // the last n bytes
    const auto n = number(b);
    if (!n) {
      malformed = true;
      return std::nullopt;
    }
    if (*n == 0 || size == 0) return std::nullopt;
    return std::pair{size - std::min(*n, size), size - 1};
  }
  const auto first = number(a);
  const auto last = b.empty() ? std::optional<std::uint64_t>{UINT64_MAX} : number(b);
  if (!first || !last || *last < *first) {
    malformed = true;
    return std::nullopt;
  }
  if (*first >= size) return std::nullopt;
  return std::pair{*first, std::min(*last, size - 1)};
}

} // namespace

json marketo_standin::impl::job_json(const export_job& j) const {
  json o = json::object();
  o["exportId"] = j.id;
  o["format"] = j.format;
  o["status"] = std::string{standin::status_name(j.status)};
  o["createdAt"] = standin::time_text(j.created_at);
  if (j.queued_at != clock::time_point{}) o["queuedAt"] = standin::time_text(j.queued_at);
  if (j.started_at != clock::time_point{}) o["startedAt"] = standin::time_text(j.started_at);
  if (j.finished_at != clock::time_point{}) o["finishedAt"] = standin::time_text(j.finished_at);
  if (j.status == job_status::completed) {
    o["numberOfRecords"] = j.file->records;
    o["fileSize"] = j.file->size;
    o["fileChecksum"] = "sha256:" + j.file->sha256;
  }
  return o;
}

void marketo_standin::impl::start_processing(export_job& j) {
  j.status = job_status::processing;
  j.started_at = std::max(j.queued_at, slot_freed);
  // The file holds the leads as they are when processing begins (bulk-lead-extract.md).
  auto snapshot = std::make_shared<const standin::lead_store>(leads);
  const auto threads = opt.export_threads;
  j.generating = std::async(std::launch::async, [snapshot, spec = j.spec, threads] {
                   const auto began = clock::now();
                   auto file = standin::build_export(*snapshot, spec, threads);
                   return standin::generated_file{std::move(file), clock::now() - began};
                 }).share();
}

void marketo_standin::impl::advance(lock_type& lock, bool wait) {
  // Jobs are replayed in the times they would have had: a queued job starts when a slot
  // was freed (not when someone looked), and takes max(export_delay, the time its file
  // took to write) from there.
  auto fill_slots = [&] {
    std::size_t processing = 0;
    for (const auto& [id, j] : jobs) processing += j->status == job_status::processing;
    while (processing < max_processing) {
      export_job* next = nullptr;
      for (const auto& [id, j] : jobs)
        if (j->status == job_status::queued && (!next || j->queue_seq < next->queue_seq)) next = j.get();
      if (!next) return;
      start_processing(*next);
      ++processing;
    }
  };
  fill_slots();
  for (;;) {
    const auto now = clock::now();
    export_job* done = nullptr;
    export_job* writing = nullptr;
    clock::time_point done_at;
    for (const auto& [id, j] : jobs) {
      if (j->status != job_status::processing || j->started_at + opt.export_delay > now) continue;
      if (j->generating.wait_for(std::chrono::seconds{0}) != std::future_status::ready) {
        writing = j.get();
        continue;
      }
      const auto at = j->started_at + std::max<clock::duration>(opt.export_delay, j->generating.get().took);
      if (at <= now && (!done || at < done_at)) {
        done = j.get();
        done_at = at;
      }
    }
    if (done) {
      done->file = done->generating.get().file;
      done->status = job_status::completed;
      done->finished_at = done_at;
      quota_used += done->file->size;
      ++completed;
      slot_freed = done_at;
      fill_slots();
      continue;
    }
    if (!writing || !wait) return;
    auto pending = writing->generating; // jobs stay put in `jobs`; the future is shared
    lock.unlock();
    pending.wait();
    lock.lock();
  }
}

outcome marketo_standin::impl::create_export(const request& q) {
  if (!is_json_content(q.raw)) return error(612);
  const auto body = nlohmann::json::parse(q.raw.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return error(609);
  if (quota_used >= opt.daily_quota_bytes) return error(1029, "Export daily quota exceeded");

  export_job j;
  const auto fields = body.find("fields");
  if (fields == body.end() || !fields->is_array() || fields->empty()) return error(701, "fields cannot be blank");
  for (const auto& f : *fields) {
    if (!f.is_string()) return error(1003, "Invalid field " + f.dump());
    const int index = catalog->index_of(f.get<std::string>());
    if (index < 0) return error(1006, "Field '" + f.get<std::string>() + "' not found");
    j.spec.fields.push_back(index);
    j.spec.headers.push_back(f.get<std::string>());
  }
  j.format = body.value("format", std::string{"CSV"});
  if (j.format == "CSV")
    j.spec.delimiter = ',';
  else if (j.format == "TSV")
    j.spec.delimiter = '\t';
  else if (j.format == "SSV")
    j.spec.delimiter = opt.ssv_delimiter;
  else
    return error(1003, "Invalid format '" + j.format + "', one of CSV, TSV, SSV");
  if (const auto names = body.find("columnHeaderNames"); names != body.end() && !names->is_null()) {
    if (!names->is_object()) return error(1003, "Invalid columnHeaderNames");
    for (const auto& [field, header] : names->items()) {
      // "The key must be the name of a field included in the export job."
      if (std::find_if(fields->begin(), fields->end(), [&](const auto& f) { return f == field; }) == fields->end())
        return error(1003, "columnHeaderNames: '" + field + "' is not one of the fields");
      if (!header.is_string()) return error(1003, "columnHeaderNames: the name of '" + field + "' is not a string");
      // Every column of that field (a field may be listed twice) gets the name.
      for (std::size_t i = 0; i < fields->size(); ++i)
        if ((*fields)[i] == field) j.spec.headers[i] = header.get<std::string>();
    }
  }

  const auto filter = body.find("filter");
  if (filter == body.end() || !filter->is_object() || filter->empty()) return error(701, "filter cannot be blank");
  if (filter->size() > 1) return error(1003, "Only one filter type may be specified");
  const std::string kind = filter->begin().key();
  const auto& range = filter->begin().value();
  if (kind == "staticListId" || kind == "staticListName" || kind == "smartListId" || kind == "smartListName")
    return error(1035, "Unsupported filter type for target subscription");
  if (kind != "createdAt" && kind != "updatedAt") return error(1003, "Invalid filter type '" + kind + "'");
  if (!range.is_object()) return error(1003, "Invalid filter '" + kind + "'");
  for (const char* member : {"startAt", "endAt"})
    if (!range.contains(member) || !range[member].is_string())
      return error(701, kind + "." + member + " cannot be blank");
  const auto start = standin::parse_time(range["startAt"].get<std::string>());
  const auto end = standin::parse_time(range["endAt"].get<std::string>());
  if (!start || !end) return error(704, "Invalid date format in filter '" + kind + "'");
  if (*end <= *start) return error(1003, "endAt must be after startAt");
  if (*end - *start > max_span) return error(1003, "Date range of filter '" + kind + "' exceeds 31 days");
  j.spec.by_updated_at = kind == "updatedAt";
  j.spec.start_at = *start;
  j.spec.end_at = *end;
  j.spec.end_inclusive = opt.export_end_inclusive;

  j.id = uuid4();
  j.created_at = q.now;
  auto owned = std::make_unique<export_job>(std::move(j));
  auto& stored = *owned;
  jobs.emplace(stored.id, std::move(owned));
  return ok(json::array({job_json(stored)}));
}

outcome marketo_standin::impl::list_exports(const request& q, lock_type& lock) {
  advance(lock);
  const auto wanted = q.list("status");
  json result = json::array();
  for (const auto& [id, j] : jobs) {
    const auto name = standin::status_name(j->status);
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), name) == wanted.end()) continue;
    result.push_back(job_json(*j));
  }
  return ok(std::move(result));
}

outcome marketo_standin::impl::enqueue_export(const request& q, std::string_view id, lock_type& lock) {
  advance(lock, false);
  const auto it = jobs.find(std::string{id});
  if (it == jobs.end()) return error(1003, "Export id '" + std::string{id} + "' not found");
  auto& j = *it->second;
  if (j.status == job_status::queued || j.status == job_status::processing) return error(1029, "Job already queued");
  if (j.status != job_status::created)
    return error(1003, "Export '" + j.id + "' is " + std::string{standin::status_name(j.status)});
  if (quota_used >= opt.daily_quota_bytes) return error(1029, "Export daily quota exceeded");
  std::size_t in_queue = 0;
  for (const auto& [other, o] : jobs)
    in_queue += o->status == job_status::queued || o->status == job_status::processing;
  if (in_queue >= max_queued) return error(1029, "Too many jobs in queue");
  j.status = job_status::queued;
  j.queued_at = q.now;
  j.queue_seq = ++queue_seq;
  // Answered Queued, as Marketo does; it starts processing now if a slot is free, and
  // with no delay the next status poll reads Completed.
  json answer = job_json(j);
  advance(lock, false);
  return ok(json::array({std::move(answer)}));
}

outcome marketo_standin::impl::export_status(const request&, std::string_view id, lock_type& lock) {
  const auto it = jobs.find(std::string{id});
  advance(lock);
  if (it == jobs.end()) return error(1003, "Export id '" + std::string{id} + "' not found");
  return ok(json::array({job_json(*it->second)}));
}

outcome marketo_standin::impl::cancel_export(const request& q, std::string_view id, lock_type& lock) {
  advance(lock, false);
  const auto it = jobs.find(std::string{id});
  if (it == jobs.end()) return error(1003, "Export id '" + std::string{id} + "' not found");
  auto& j = *it->second;
  if (j.status != job_status::created && j.status != job_status::queued && j.status != job_status::processing)
    return error(1003, "Export '" + j.id + "' is " + std::string{standin::status_name(j.status)});
  const bool was_processing = j.status == job_status::processing;
  j.status = job_status::cancelled;
  if (was_processing) slot_freed = q.now; // the file being written is dropped when done
  advance(lock, false);
  return ok(json::array({job_json(j)}));
}

outcome marketo_standin::impl::export_file(const request& q, std::string_view id, lock_type& lock) {
  // Not ready or not known: 404 with a plain-text message, unlike other endpoints
  // (bulk-extract.md).
  const auto it = jobs.find(std::string{id});
  if (it == jobs.end()) return http_status(404, "Export job " + std::string{id} + " not found");
  auto& j = *it->second;
  advance(lock);
  if (j.status != job_status::completed)
    return http_status(404, "Export job " + j.id + " is " + std::string{standin::status_name(j.status)} +
                              ", not Completed");
  const auto file = j.file;
  const auto size = file->size;

  std::uint64_t first = 0, last = size ? size - 1 : 0;
  bool partial = false;
  if (const auto h = q.raw.header("Range"); !h.empty()) {
    bool malformed = false;
    const auto r = parse_range(h, size, malformed);
    if (!r && !malformed) {
      auto o = http_status(416, "Range Not Satisfiable");
      o.reply.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
      return o;
    }
    if (r) { // a malformed Range is ignored (RFC 7233): the whole file
      first = r->first;
      last = r->second;
      partial = true;
    }
  }
  const auto length = size == 0 ? 0 : last - first + 1;
  canned_reply reply;
  reply.status = partial ? 206 : 200;
  reply.headers = {{"Content-Type", content_type(j.format)}, {"Accept-Ranges", "bytes"}};
  if (partial)
    reply.headers.emplace_back("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                                                  std::to_string(size));

  if (truncate_next) {
    // Headers promising the whole body, part of it, then a closed connection.
    const auto cut = std::min(*truncate_next, length);
    truncate_next.reset();
    std::string raw = "HTTP/1.1 " + std::to_string(reply.status) + (partial ? " Partial Content" : " OK") + "\r\n";
    for (const auto& [n, v] : reply.headers) raw += n + ": " + v + "\r\n";
    raw += "Content-Length: " + std::to_string(length) + "\r\n\r\n";
    lock.unlock();
    file->copy(first, cut, raw);
    lock.lock();
    reply.raw = std::move(raw);
    reply.close_after = true;
    return {std::move(reply), {}};
  }
  lock.unlock(); // the file does not change; copying 500 MB need not hold everyone up
  file->copy(first, length, reply.body);
  lock.lock();
  return {std::move(reply), {}};
}

} // namespace dynchat::testing
