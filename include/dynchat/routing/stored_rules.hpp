#pragma once
// The rule book's rows in LMDB: rules, teams and accounts, each as its JSON
// (routing/rule_book.hpp), read back in one place.
#include <optional>
#include <string_view>

#include "dynchat/routing/rule_book.hpp"
#include "dynchat/store/lmdb.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat::routing {

struct rule_book {
  std::vector<rule> rules;
  std::vector<team> teams;
  std::vector<account> accounts;
};

/// Everything stored; a row that no longer decodes is skipped (and never written back).
rule_book load_rule_book(const store::read_txn& txn);
/// Reads one part again ("rules", "teams" or "accounts"), after a change to it; false for
/// another name.
bool reload_part(rule_book& book, const store::read_txn& txn, std::string_view part);
std::optional<rule> load_rule(const store::read_txn& txn, std::string_view id);
std::optional<team> load_team(const store::read_txn& txn, std::string_view id);
std::optional<account> load_account(const store::read_txn& txn, std::string_view key);
/// Accounts in key order from `after` (exclusive), at most `limit`.
std::vector<account> load_accounts(const store::read_txn& txn, std::string_view after, std::size_t limit);

/// The meta row holding who took the rule's last meeting (the scheduler's rule turn).
constexpr std::string_view rule_turn_prefix = "meetings.rule_turn:";
std::string rule_turn_key(std::string_view rule_id);

/// What deleting an agent does to the rule book: the agent leaves every rule and team
/// naming it, and the accounts it owned are dropped (they route on to rules and round
/// robin). Returns the parts changed ("rules", "teams", "accounts").
std::vector<std::string> forget_agent(store::write_batch& b, const store::read_txn& txn, std::string_view agent_id);

void put_rule(store::write_batch& b, const rule& r);
void erase_rule(store::write_batch& b, std::string_view id);
void put_team(store::write_batch& b, const team& t);
void erase_team(store::write_batch& b, std::string_view id);
void put_account(store::write_batch& b, const account& a);
void erase_account(store::write_batch& b, std::string_view key);

} // namespace dynchat::routing
