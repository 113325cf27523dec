#include "dynchat/marketo/sync_job.hpp"

#include <algorithm>
#include <charconv>

namespace dynchat::marketo {

using nlohmann::json;
using clock = std::chrono::system_clock;

namespace {
std::int64_t ms_of(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
clock::time_point at_ms(std::int64_t ms) { return clock::time_point{std::chrono::milliseconds{ms}}; }
std::string iso_or_empty(std::int64_t ms) { return ms > 0 ? iso8601(at_ms(ms)) : std::string{}; }
} // namespace

void sync_job::add_problem(sync_problem p) {
  ++bad_rows;
  problems.push_back(std::move(p));
  if (problems.size() > max_problems) problems.erase(problems.begin());
}

void sync_job::add_error(std::string e, std::int64_t now_ms) {
  errors.push_back(iso8601(at_ms(now_ms)) + " " + std::move(e));
  if (errors.size() > max_errors) errors.erase(errors.begin());
}

json to_json(const sync_job& j) {
  json windows = json::array();
  for (const auto& w : j.windows) windows.push_back({ms_of(w.start), ms_of(w.end)});
  json problems = json::array();
  for (const auto& p : j.problems) problems.push_back({{"window", p.window}, {"line", p.line}, {"reason", p.reason}});
  return {{"state", j.state}, {"kind", j.kind}, {"filter", j.filter}, {"fields", j.fields}, {"windows", windows},
          {"window", j.window}, {"export_id", j.export_id}, {"export_status", j.export_status},
          {"file_size", j.file_size}, {"checksum", j.checksum}, {"offset", j.offset}, {"line", j.line},
          {"header", j.header}, {"resumed", j.resumed}, {"records_done", j.records_done},
          {"records_total", j.records_total}, {"bad_rows", j.bad_rows}, {"problems", problems}, {"errors", j.errors},
          {"message", j.message}, {"started_ms", j.started_ms}, {"updated_ms", j.updated_ms},
          {"finished_ms", j.finished_ms}, {"wait_until_ms", j.wait_until_ms}, {"high_water_ms", j.high_water_ms},
          {"schema", j.schema}, {"ingest_ms", j.ingest_ms}};
}

std::optional<sync_job> sync_job_from_json(std::string_view text) {
  json d = json::parse(text, nullptr, false);
  if (!d.is_object()) return std::nullopt;
  try {
    sync_job j;
    j.state = d.value("state", "idle");
    j.kind = d.value("kind", "");
    j.filter = d.value("filter", "createdAt");
    j.fields = d.value("fields", std::vector<std::string>{});
    for (const auto& w : d.value("windows", json::array()))
      j.windows.push_back({at_ms(w.at(0).get<std::int64_t>()), at_ms(w.at(1).get<std::int64_t>())});
    j.window = d.value("window", std::size_t{0});
    j.export_id = d.value("export_id", "");
    j.export_status = d.value("export_status", "");
    j.file_size = d.value("file_size", std::uint64_t{0});
    j.checksum = d.value("checksum", "");
    j.offset = d.value("offset", std::uint64_t{0});
    j.line = d.value("line", std::uint64_t{1});
    j.header = d.value("header", std::vector<std::string>{});
    j.resumed = d.value("resumed", false);
    j.records_done = d.value("records_done", std::uint64_t{0});
    j.records_total = d.value("records_total", std::uint64_t{0});
    j.bad_rows = d.value("bad_rows", std::uint64_t{0});
    for (const auto& p : d.value("problems", json::array()))
      j.problems.push_back({p.value("window", 0u), p.value("line", std::uint64_t{0}), p.value("reason", "")});
    j.errors = d.value("errors", std::vector<std::string>{});
    j.message = d.value("message", "");
    j.started_ms = d.value("started_ms", std::int64_t{0});
    j.updated_ms = d.value("updated_ms", std::int64_t{0});
    j.finished_ms = d.value("finished_ms", std::int64_t{0});
    j.wait_until_ms = d.value("wait_until_ms", std::int64_t{0});
    j.high_water_ms = d.value("high_water_ms", std::int64_t{0});
    j.schema = d.value("schema", 0u);
    j.ingest_ms = d.value("ingest_ms", std::int64_t{0});
    return j;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

json progress_json(const sync_job& j, std::int64_t now_ms) {
  json out = {{"state", j.state}, {"kind", j.kind}, {"filter", j.filter}, {"fields", j.fields.size()},
              {"records_done", j.records_done}, {"records_total", j.records_total}, {"bad_rows", j.bad_rows},
              {"errors", j.errors}, {"message", j.message}, {"started_at", iso_or_empty(j.started_ms)},
              {"finished_at", iso_or_empty(j.finished_ms)}, {"wait_until", iso_or_empty(j.wait_until_ms)}};
  json problems = json::array();
  for (const auto& p : j.problems) problems.push_back({{"window", p.window}, {"line", p.line}, {"reason", p.reason}});
  out["problems"] = problems;
  if (!j.windows.empty()) {
    const auto i = std::min(j.window, j.windows.size() - 1);
    out["window"] = {{"number", std::min(j.window + 1, j.windows.size())}, {"of", j.windows.size()},
                     {"start", iso8601(j.windows[i].start)}, {"end", iso8601(j.windows[i].end)},
                     {"export_id", j.export_id}, {"export_status", j.export_status},
                     {"bytes_done", j.offset}, {"bytes_total", j.file_size}};
  }
  const double seconds = static_cast<double>(j.ingest_ms) / 1000.0;
  const double rate = seconds > 0 ? static_cast<double>(j.records_done) / seconds : 0.0;
  out["rate_per_s"] = static_cast<std::uint64_t>(rate);
  // The ETA counts what is left of the windows known so far; later windows' counts come
  // as their exports finish, so it is a floor until the last window.
  if (j.active() && rate > 0 && j.records_total > j.records_done)
    out["eta_s"] = static_cast<std::uint64_t>(static_cast<double>(j.records_total - j.records_done) / rate);
  else
    out["eta_s"] = nullptr;
  out["elapsed_s"] = j.started_ms > 0 ? ((j.finished_ms > 0 ? j.finished_ms : now_ms) - j.started_ms) / 1000 : 0;
  return out;
}

std::vector<std::string> export_columns(const std::vector<std::string>& selected) {
  std::vector<std::string> out{"id", "email", "updatedAt"};
  for (const auto& f : selected)
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  return out;
}

sync_job plan_sync(std::string kind, const std::vector<std::string>& selected, clock::time_point from, clock::time_point to,
                   std::int64_t now_ms, int max_window_days) {
  sync_job j;
  j.state = "running";
  j.filter = kind == "incremental" ? "updatedAt" : "createdAt";
  j.kind = std::move(kind);
  j.fields = export_columns(selected);
  j.windows = split_windows(from, to, max_window_days);
  j.started_ms = j.updated_ms = now_ms;
  if (j.windows.empty()) {
    j.state = "completed";
    j.finished_ms = now_ms;
  }
  return j;
}

std::vector<std::string> schema_fields(const std::vector<std::string>& export_fields) {
  std::vector<std::string> out;
  for (const auto& f : export_fields)
    if (f != "id" && f != "email") out.push_back(f);
  return out;
}

std::optional<lead_columns> map_header(std::span<const std::string_view> header, const std::vector<std::string>& schema,
                                       std::string* why) {
  lead_columns c;
  c.count = header.size();
  c.values.assign(schema.size(), -1);
  for (std::size_t i = 0; i < header.size(); ++i) {
    const auto name = header[i];
    if (name == "id") c.id = static_cast<int>(i);
    else if (name == "email") c.email = static_cast<int>(i);
    if (name == "updatedAt") c.updated_at = static_cast<int>(i);
    for (std::size_t f = 0; f < schema.size(); ++f)
      if (schema[f] == name) c.values[f] = static_cast<int>(i);
  }
  if (c.id < 0) {
    if (why) *why = "the export's header has no id column";
    return std::nullopt;
  }
  return c;
}

std::variant<store::lead_record, std::string> row_to_lead(std::span<const std::string_view> row, const lead_columns& cols,
                                                          std::uint32_t schema, std::int64_t now_ms) {
  using result = std::variant<store::lead_record, std::string>;
  if (row.size() != cols.count)
    return result{std::in_place_index<1>,
                  "expected " + std::to_string(cols.count) + " fields, found " + std::to_string(row.size())};
  auto cell = [&](int i) -> std::string_view {
    if (i < 0) return {};
    auto v = row[static_cast<std::size_t>(i)];
    return v == "null" ? std::string_view{} : v;
  };
  store::lead_record lead;
  const auto id = cell(cols.id);
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
  if (id.empty() || ec != std::errc{} || end != id.data() + id.size() || n == 0)
    return result{std::in_place_index<1>, "the id \"" + std::string{id.substr(0, 40)} + "\" is not a lead id"};
  lead.id = std::to_string(n); // canonical: "05" and "5" are one lead (found by the fuzzer)
  lead.email = std::string{cell(cols.email)};
  lead.schema = schema;
  lead.values.reserve(cols.values.size());
  for (int i : cols.values) lead.values.emplace_back(cell(i));
  if (auto t = parse_iso8601(cell(cols.updated_at)))
    lead.updated_ms = std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
  lead.synced_ms = now_ms;
  return result{std::in_place_index<0>, std::move(lead)};
}

void upsert_lead(store::write_batch& batch, store::lead_record fresh) { store::writes::merge_lead(batch, fresh); }

} // namespace dynchat::marketo
