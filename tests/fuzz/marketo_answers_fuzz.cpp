// libFuzzer: what Marketo (or something pretending to be it) answers, as dynchat reads it.
// The first byte chooses: an export file fed to the CSV stream (whole, in chunks of the
// second byte's size, and resumed from the middle: all three agree, offsets only grow),
// and each row mapped to a lead; or a JSON envelope, a token answer, a Munchkin cookie,
// an Adobe org id and a time. Nothing crashes; what is accepted keeps its rules.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "dynchat/marketo/api.hpp"
#include "dynchat/marketo/csv_stream.hpp"
#include "dynchat/marketo/identity.hpp"
#include "dynchat/marketo/sync_job.hpp"

using namespace dynchat::marketo;

namespace {

struct item {
  bool row;
  std::uint64_t line, next_line, end;
  std::vector<std::string> fields;
  bool operator==(const item&) const = default;
};

std::vector<item> parse(std::string_view text, std::size_t chunk, std::uint64_t start = 0, std::uint64_t line = 1) {
  csv_limits limits;
  limits.max_row_bytes = 256;
  limits.max_fields = 32;
  csv_stream s{',', limits, start, line};
  std::vector<item> out;
  std::uint64_t last_end = start;
  auto on_row = [&](const csv_row& r) {
    if (r.end_offset < last_end || r.line < 1) std::abort();
    last_end = r.end_offset;
    out.push_back({true, r.line, r.next_line, r.end_offset, {r.fields.begin(), r.fields.end()}});
  };
  auto on_problem = [&](const csv_problem& p) {
    if (p.end_offset < last_end || p.reason.empty()) std::abort();
    last_end = p.end_offset;
    out.push_back({false, p.line, p.next_line, p.end_offset, {}});
  };
  for (std::size_t at = 0; at < text.size(); at += chunk) s.feed(text.substr(at, chunk), on_row, on_problem);
  s.finish(on_row, on_problem);
  return out;
}

void csv(std::string_view text, std::size_t chunk) {
  const auto whole = parse(text, text.size() + 1);
  if (parse(text, chunk) != whole) std::abort();
  // Resumed after the first item, as a restart does: the same items after it.
  if (whole.size() >= 2 && whole[0].end <= text.size()) {
    auto rest = parse(text.substr(whole[0].end), chunk, whole[0].end, whole[0].next_line);
    if (!std::equal(rest.begin(), rest.end(), whole.begin() + 1, whole.end())) std::abort();
  }
  // The first row as a header, the others as leads: a lead has a positive numeric id.
  if (whole.empty() || !whole[0].row) return;
  std::vector<std::string_view> header(whole[0].fields.begin(), whole[0].fields.end());
  std::vector<std::string> schema(whole[0].fields.begin(), whole[0].fields.end());
  auto cols = map_header(header, schema_fields(schema), nullptr);
  if (!cols) return;
  for (std::size_t i = 1; i < whole.size(); ++i) {
    if (!whole[i].row) continue;
    std::vector<std::string_view> row(whole[i].fields.begin(), whole[i].fields.end());
    auto lead = row_to_lead(row, *cols, 1, 0);
    if (auto* l = std::get_if<dynchat::store::lead_record>(&lead))
      if (l->id.empty() || l->id[0] == '0' || l->id.find_first_not_of("0123456789") != std::string::npos) std::abort();
  }
}

void answers(std::string_view text) {
  if (auto e = parse_envelope(text)) {
    if (!e->success && e->errors.empty()) std::abort(); // a failure always names an error
    (void)main_error(*e);
  }
  (void)parse_token(200, text);
  if (auto c = parse_tracking_cookie(text)) {
    auto again = parse_tracking_cookie(c->value());
    if (!again || again->value() != c->value()) std::abort();
  }
  auto org = normalize_adobe_org(text);
  if (org.index() == 0) {
    const auto& id = std::get<0>(org);
    if (id.size() != 24 || std::get<0>(normalize_adobe_org(id)) != id) std::abort();
  } else if (std::get<1>(org).empty()) {
    std::abort();
  }
  if (auto t = parse_iso8601(text)) {
    if (parse_iso8601(iso8601(*t)) != std::chrono::floor<std::chrono::seconds>(*t)) std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::string_view text{reinterpret_cast<const char*>(data) + 2, size - 2};
  if (data[0] & 1) csv(text, 1 + data[1] % 64);
  else answers(text);
  return 0;
}
