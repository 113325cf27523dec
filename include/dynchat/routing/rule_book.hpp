#pragma once
// Who should get a lead, as sales admins write it down (docs/meetings.md, "Routing"):
// account routing (a company's domain or name -> the agent who owns the account), custom
// rules in priority order (conditions on lead attributes -> a list of agents or a team),
// and teams. Plain data with its JSON and CSV forms; routing/assignment.hpp applies it.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dynchat/dialogue/model.hpp"
#include "dynchat/dialogue/validate.hpp"

namespace dynchat::routing {

/// What a rule routes: meetings, live chats, or both.
enum class rule_scope : std::uint8_t { both, meetings, live_chat };

struct team {
  std::string id, name;
  std::vector<std::string> agent_ids; // in the order they take turns
};

struct rule {
  std::string id, name;
  std::uint32_t priority = 1; // 1 is tried first; ties go by id (creation order)
  rule_scope scope = rule_scope::both;
  bool match_all = true;      // every condition holds, or any one; no conditions: every lead
  std::vector<dialogue::condition> conditions;
  std::vector<std::string> agent_ids; // either agents ...
  std::string team_id;                // ... or a team
};

/// An account and the agent who owns it. At least one of domain and company is set;
/// both are kept normalised (normalize_domain, normalize_company).
struct account {
  std::string domain, company, agent_id;
  /// "domain:acme.com", else "company:acme".
  std::string key() const;
};
/// One account per key: by its domain, and by its company name, when it has both. Each
/// is stored, matched and deleted on its own.
std::vector<account> one_per_key(const account& a);

/// What a rule book may hold (routing.* in the configuration).
struct rule_limits {
  std::size_t max_rules = 100;
  std::size_t max_teams = 100;
  std::size_t max_members = 100; // agents of one rule or team
  std::size_t max_conditions = 10;
  std::size_t max_accounts = 100'000;
};

/// "acme.com" from "https://www.Acme.com:443/about", "acme.com" or "ACME.COM."; empty
/// when it is not a host name.
std::string normalize_domain(std::string_view text);
/// "acme" from " ACME,  Inc. ": lower case, punctuation and legal-form suffixes (inc,
/// llc, ltd, gmbh, corp, ...) dropped, runs of spaces made one.
std::string normalize_company(std::string_view text);

// ---- JSON (REST bodies and the stored rows) ----
struct rule_decoded {
  std::optional<rule> value;
  std::vector<dialogue::problem> problems;
};
struct team_decoded {
  std::optional<team> value;
  std::vector<dialogue::problem> problems;
};
struct account_decoded {
  std::optional<account> value;
  std::vector<dialogue::problem> problems;
};
/// The body of POST/PUT /v1/routing/rules: every problem listed, each with its path.
/// Agents and teams are checked to exist by whoever stores the rule.
rule_decoded decode_rule(const nlohmann::json& body, const rule_limits& lim = {});
team_decoded decode_team(const nlohmann::json& body, const rule_limits& lim = {});
account_decoded decode_account(const nlohmann::json& body);
nlohmann::json to_json(const rule& r);
nlohmann::json to_json(const team& t);
nlohmann::json to_json(const account& a);
std::string_view to_string(rule_scope s) noexcept;

/// A CSV of accounts: a header naming `domain`, `company` and `agent` (in any order, other
/// columns ignored), then one account per line. Quoted fields ("Acme, Inc.") may hold
/// commas and doubled quotes. `agent` is an agent id or email, resolved by the caller.
struct csv_account {
  std::size_t line = 0; // 1-based, for problems
  std::string domain, company, agent;
};
struct csv_accounts {
  std::vector<csv_account> rows;
  std::vector<dialogue::problem> problems; // path "line 7"
};
csv_accounts parse_accounts_csv(std::string_view text, std::size_t max_rows);

} // namespace dynchat::routing
