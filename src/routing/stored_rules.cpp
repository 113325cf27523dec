#include "dynchat/routing/stored_rules.hpp"

#include <algorithm>
#include <limits>

namespace dynchat::routing {
namespace {

using nlohmann::json;

// What was stored passed the limits of its day: read it back whatever they are now.
constexpr std::size_t no_limit = std::numeric_limits<std::size_t>::max();
const rule_limits stored_limits{no_limit, no_limit, no_limit, no_limit, no_limit};

// The stored JSON is what to_json wrote: the id (or key) beside the fields a body has.
std::optional<rule> rule_from_row(std::string_view bytes) {
  auto j = json::parse(bytes, nullptr, false);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) return std::nullopt;
  const auto id = j["id"].get<std::string>();
  j.erase("id");
  auto decoded = decode_rule(j, stored_limits);
  if (!decoded.value) return std::nullopt;
  decoded.value->id = id;
  return decoded.value;
}

std::optional<team> team_from_row(std::string_view bytes) {
  auto j = json::parse(bytes, nullptr, false);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) return std::nullopt;
  const auto id = j["id"].get<std::string>();
  j.erase("id");
  auto decoded = decode_team(j, stored_limits);
  if (!decoded.value) return std::nullopt;
  decoded.value->id = id;
  return decoded.value;
}

// Accounts are many (a CSV import of a CRM's): the key says the domain or name, the
// value is the owner's id, and nothing is parsed to read them back.
std::optional<account> account_from_row(std::string_view key, std::string_view agent_id) {
  account a;
  a.agent_id = std::string{agent_id};
  if (key.rfind("domain:", 0) == 0) a.domain = std::string{key.substr(7)};
  else if (key.rfind("company:", 0) == 0) a.company = std::string{key.substr(8)};
  if (a.domain.empty() && a.company.empty()) return std::nullopt;
  return a;
}

} // namespace

rule_book load_rule_book(const store::read_txn& txn) {
  rule_book out;
  for (const char* part : {"rules", "teams", "accounts"}) reload_part(out, txn, part);
  return out;
}

bool reload_part(rule_book& out, const store::read_txn& txn, std::string_view part) {
  if (part == "rules") {
    out.rules.clear();
    txn.scan_prefix(store::table::routing_rules, "", "", [&](std::string_view, std::string_view v) {
    if (auto r = rule_from_row(v)) out.rules.push_back(std::move(*r));
    return true;
  });
  } else if (part == "teams") {
    out.teams.clear();
    txn.scan_prefix(store::table::routing_teams, "", "", [&](std::string_view, std::string_view v) {
    if (auto t = team_from_row(v)) out.teams.push_back(std::move(*t));
    return true;
  });
  } else if (part == "accounts") {
    out.accounts.clear();
    txn.scan_prefix(store::table::routing_accounts, "", "", [&](std::string_view k, std::string_view v) {
    if (auto a = account_from_row(k, v)) out.accounts.push_back(std::move(*a));
    return true;
  });
  } else {
    return false;
  }
  return true;
}

std::optional<rule> load_rule(const store::read_txn& txn, std::string_view id) {
  auto v = txn.get(store::table::routing_rules, id);
  return v ? rule_from_row(*v) : std::nullopt;
}

std::optional<team> load_team(const store::read_txn& txn, std::string_view id) {
  auto v = txn.get(store::table::routing_teams, id);
  return v ? team_from_row(*v) : std::nullopt;
}

std::optional<account> load_account(const store::read_txn& txn, std::string_view key) {
  auto v = txn.get(store::table::routing_accounts, key);
  return v ? account_from_row(key, *v) : std::nullopt;
}

std::vector<account> load_accounts(const store::read_txn& txn, std::string_view after, std::size_t limit) {
  std::vector<account> out;
  if (limit == 0) return out;
  txn.scan_prefix(store::table::routing_accounts, "", after, [&](std::string_view key, std::string_view v) {
    if (!after.empty() && key == after) return true; // `from` is inclusive; paging is not
    if (auto a = account_from_row(key, v)) out.push_back(std::move(*a));
    return out.size() < limit;
  });
  return out;
}

std::string rule_turn_key(std::string_view rule_id) { return std::string{rule_turn_prefix} + std::string{rule_id}; }

std::vector<std::string> forget_agent(store::write_batch& b, const store::read_txn& txn, std::string_view agent_id) {
  std::vector<std::string> changed;
  const auto book = load_rule_book(txn);
  auto without = [&](std::vector<std::string>& ids) {
    const auto before = ids.size();
    ids.erase(std::remove(ids.begin(), ids.end(), agent_id), ids.end());
    return ids.size() != before;
  };
  bool rules = false, teams = false, accounts = false;
  for (auto r : book.rules)
    if (without(r.agent_ids)) put_rule(b, r), rules = true;
  for (auto t : book.teams)
    if (without(t.agent_ids)) put_team(b, t), teams = true;
  for (const auto& a : book.accounts)
    if (a.agent_id == agent_id) erase_account(b, a.key()), accounts = true;
  if (rules) changed.emplace_back("rules");
  if (teams) changed.emplace_back("teams");
  if (accounts) changed.emplace_back("accounts");
  return changed;
}

void put_rule(store::write_batch& b, const rule& r) { b.push_back({store::table::routing_rules, r.id, to_json(r).dump(), false}); }
void erase_rule(store::write_batch& b, std::string_view id) { b.push_back({store::table::routing_rules, std::string{id}, {}, true}); }
void put_team(store::write_batch& b, const team& t) { b.push_back({store::table::routing_teams, t.id, to_json(t).dump(), false}); }
void erase_team(store::write_batch& b, std::string_view id) { b.push_back({store::table::routing_teams, std::string{id}, {}, true}); }
void put_account(store::write_batch& b, const account& a) {
  b.push_back({store::table::routing_accounts, a.key(), a.agent_id, false});
}
void erase_account(store::write_batch& b, std::string_view key) {
  b.push_back({store::table::routing_accounts, std::string{key}, {}, true});
}

} // namespace dynchat::routing
