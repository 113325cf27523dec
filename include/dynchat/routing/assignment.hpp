#pragma once
// Which agent a lead goes to, in the product's order (docs/meetings.md, "Routing"):
//  1. account routing: the lead's company (its domain, else its name) -> the owner;
//  2. custom rules in priority order: the first rule whose conditions hold; inside it,
//     round robin over its agents (or its team's), at most `max_tried` of them;
//  3. round robin over every agent, in strict turn, only when neither found one eligible.
// Eligibility is the caller's (a free slot for meetings, room for live chat), asked
// through a predicate, so meetings and live chat share the same rules.
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dynchat/routing/rule_book.hpp"

namespace dynchat::routing {

using lead_fields = std::map<std::string, std::string>;

/// The rule book, indexed once when it changes and read for every lead.
class compiled_rules {
public:
  compiled_rules() = default;
  compiled_rules(std::vector<rule> rules, std::vector<team> teams, const std::vector<account>& accounts);

  /// The owner of the lead's account: by the domain of its `website` or `email`, else by
  /// its `company` name. Empty when no account matches.
  std::string account_owner(const lead_fields& lead) const;
  /// The first rule (by priority) in `scope` whose conditions hold; nullptr when none.
  const rule* matching_rule(const lead_fields& lead, rule_scope scope) const;
  /// The agents a rule hands out to, in turn order: its own, or its team's.
  const std::vector<std::string>& members(const rule& r) const;

  const std::vector<rule>& rules() const { return rules_; }
  const std::vector<team>& teams() const { return teams_; }
  std::size_t accounts() const { return by_domain_.size() + by_company_.size(); }

private:
  std::vector<rule> rules_; // in priority order
  std::vector<team> teams_;
  std::map<std::string, std::vector<std::string>, std::less<>> team_members_;
  std::map<std::string, std::string, std::less<>> by_domain_, by_company_;
};

/// Who to try, before round robin over everyone.
struct shortlist {
  std::string account_owner;            // tried first, when set
  std::string rule_id;                  // the rule that matched, if any
  std::vector<std::string> rule_agents; // at most max_tried, in the rule's turn order
};

/// Whether an agent still exists (a rule may name one deleted since); empty: all do.
using agent_filter = std::function<bool(const std::string&)>;

/// A rule's agents in the order they are tried next: the one after whoever got the rule's
/// last lead (`rule_turns`, by rule id) first; agents `known` says are gone left out.
std::vector<std::string> turn_order(const compiled_rules& rules, const rule& r,
                                    const std::map<std::string, std::string>& rule_turns, const agent_filter& known = {});

/// `rule_turns`: who last got a lead from each rule (by rule id). The account's owner and
/// the rule's agents are only ones `known` says exist, so a deleted one takes no try.
shortlist make_shortlist(const compiled_rules& rules, const lead_fields& lead, rule_scope scope,
                         const std::map<std::string, std::string>& rule_turns, std::size_t max_tried,
                         const agent_filter& known = {});

enum class stage : std::uint8_t { account, rule, round_robin };
std::string_view to_string(stage s) noexcept;

struct assignment {
  std::string agent_id;
  routing::stage stage = stage::round_robin;
  std::string rule_id; // stage rule
};

/// The first eligible agent of the shortlist, else of `round_robin` (every agent in
/// turn order); nullopt when nobody is eligible.
std::optional<assignment> assign(const shortlist& s, const std::vector<std::string>& round_robin,
                                 const std::function<bool(const std::string&)>& eligible);

/// How `agent_id` came to get this lead, were it booked now: the owner of its account,
/// one of the rule's shortlisted agents, else round robin. Tells a booking which turn it
/// moves on.
assignment classify(const shortlist& s, const std::string& agent_id);

} // namespace dynchat::routing
