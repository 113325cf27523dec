// libFuzzer: the rule book's inputs as REST reads them. The first byte chooses: a CSV of
// accounts (POST /v1/routing/accounts/import), or a JSON body decoded as a rule, a team
// and an account. Nothing crashes, and what is accepted keeps its rules: a rule or team
// survives its own JSON, names hold no control characters, CSV rows are UTF-8 in line
// order, and normalising a domain or a company name twice changes nothing.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dynchat/protocol/codec.hpp"
#include "dynchat/routing/rule_book.hpp"

using namespace dynchat;
using namespace dynchat::routing;

namespace {

void check_name(const std::string& name) {
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) std::abort();
}

void check_normalised(std::string_view text) {
  const auto domain = normalize_domain(text);
  if (!domain.empty() && normalize_domain(domain) != domain) std::abort();
  const auto company = normalize_company(text);
  if (normalize_company(company) != company) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text{reinterpret_cast<const char*>(data) + 1, size - 1};
  check_normalised(text);
  if (data[0] % 2 == 0) {
    auto csv = parse_accounts_csv(text, 1000);
    std::size_t last_line = 0;
    for (const auto& row : csv.rows) {
      if (row.line <= last_line) std::abort();
      last_line = row.line;
      for (const auto* field : {&row.domain, &row.company, &row.agent})
        if (!protocol::is_valid_utf8(*field)) std::abort();
      check_normalised(row.company);
    }
    return 0;
  }
  auto parsed = protocol::parse_json(text);
  if (!parsed) return 0;
  if (auto r = decode_rule(*parsed); r.value) {
    if (!r.problems.empty()) std::abort();
    check_name(r.value->name);
    if (r.value->agent_ids.empty() == r.value->team_id.empty()) std::abort(); // exactly one of them
    auto j = to_json(*r.value);
    j.erase("id");
    auto again = decode_rule(j);
    if (!again.value || to_json(*again.value) != to_json(*r.value)) std::abort();
  }
  if (auto t = decode_team(*parsed); t.value) {
    check_name(t.value->name);
    auto j = to_json(*t.value);
    j.erase("id");
    auto again = decode_team(j);
    if (!again.value || to_json(*again.value) != to_json(*t.value)) std::abort();
  }
  if (auto a = decode_account(*parsed); a.value) {
    if (a.value->domain.empty() && a.value->company.empty()) std::abort();
    for (const auto& one : one_per_key(*a.value))
      if (one.key().empty() || one.agent_id != a.value->agent_id) std::abort();
  }
  return 0;
}
