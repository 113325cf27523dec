#include "import_leads.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>

#include <fmt/format.h>

#include "dynchat/core/ids.hpp"
#include "dynchat/marketo/csv_stream.hpp"
#include "dynchat/marketo/sync_job.hpp"
#include "dynchat/store/leads.hpp"
#include "dynchat/store/writes.hpp"

namespace dynchat::app {
namespace {

void draw(std::uint64_t done_bytes, std::uint64_t total_bytes, std::uint64_t leads, double seconds, bool final) {
  const double share = total_bytes ? static_cast<double>(done_bytes) / static_cast<double>(total_bytes) : 1.0;
  const int width = 30, filled = static_cast<int>(share * width);
  std::fprintf(stderr, "\r[%s%s] %3d%%  %llu leads  %.0f/s%s", std::string(static_cast<std::size_t>(filled), '=').c_str(),
               std::string(static_cast<std::size_t>(width - filled), ' ').c_str(), static_cast<int>(share * 100),
               static_cast<unsigned long long>(leads), seconds > 0 ? static_cast<double>(leads) / seconds : 0.0,
               final ? "\n" : "");
  std::fflush(stderr);
}

} // namespace

int import_leads(const settings& cfg, const import_options& opts) {
  std::ifstream in(opts.file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "import-leads: %s cannot be read\n", opts.file.c_str());
    return 1;
  }
  in.seekg(0, std::ios::end);
  const auto total = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  auto db = store::database::open(cfg.server.data_dir, {cfg.store.map_size_mb * 1024 * 1024, cfg.store.durable});

  marketo::csv_stream parser{opts.delimiter};
  std::optional<marketo::lead_columns> columns;
  std::uint32_t schema = 0;
  std::uint64_t leads = 0, bad = 0, shown_bad = 0;
  store::write_batch batch;
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
  auto flush = [&] {
    if (batch.empty()) return;
    auto txn = db->write();
    store::writes::apply(txn, batch);
    txn.commit();
    batch.clear();
  };
  std::string header_error;
  auto on_problem = [&](const marketo::csv_problem& p) {
    ++bad;
    if (shown_bad++ < 20) std::fprintf(stderr, "\nimport-leads: line %llu: %s", static_cast<unsigned long long>(p.line), p.reason.c_str());
  };
  auto on_row = [&](const marketo::csv_row& row) {
    if (!header_error.empty()) return;
    if (!columns) {
      std::vector<std::string> header(row.fields.begin(), row.fields.end());
      auto fields = marketo::schema_fields(header);
      columns = marketo::map_header(row.fields, fields, &header_error);
      if (!columns) return;
      parser.expect_fields(header.size());
      schema = store::writes::schema_for(store::latest_lead_schema(db->read()), fields, batch).id;
      return;
    }
    auto lead = marketo::row_to_lead(row.fields, *columns, schema, now_ms());
    if (auto* why = std::get_if<std::string>(&lead)) {
      ++bad;
      if (shown_bad++ < 20) std::fprintf(stderr, "\nimport-leads: line %llu: %s", static_cast<unsigned long long>(row.line), why->c_str());
      return;
    }
    marketo::upsert_lead(batch, std::move(std::get<store::lead_record>(lead)));
    ++leads;
    if (leads % cfg.marketo.sync_batch_leads == 0) flush();
  };
  std::string chunk(1 << 20, '\0');
  std::uint64_t done = 0;
  auto last_draw = std::chrono::steady_clock::now();
  while (in && header_error.empty()) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    done += n;
    parser.feed(std::string_view{chunk.data(), n}, on_row, on_problem);
    if (opts.progress && std::chrono::steady_clock::now() - last_draw > std::chrono::milliseconds{200}) {
      draw(done, total, leads, elapsed(), false);
      last_draw = std::chrono::steady_clock::now();
    }
  }
  parser.finish(on_row, on_problem);
  if (!header_error.empty()) {
    std::fprintf(stderr, "import-leads: %s: %s\n", opts.file.c_str(), header_error.c_str());
    return 1;
  }
  flush();
  if (opts.progress) draw(done, total, leads, elapsed(), true);
  if (shown_bad > 20) std::fprintf(stderr, "import-leads: (%llu more bad rows not shown)\n", static_cast<unsigned long long>(shown_bad - 20));
  std::printf("imported %llu leads from %s in %.1f s; %llu bad rows skipped\n", static_cast<unsigned long long>(leads),
              opts.file.c_str(), elapsed(), static_cast<unsigned long long>(bad));
  return 0;
}

} // namespace dynchat::app
