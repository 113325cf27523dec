#include "dynchat/routing/assignment.hpp"

#include <algorithm>

#include "dynchat/targeting/audience.hpp"

namespace dynchat::routing {
namespace {

const std::vector<std::string> no_members;

std::string field(const lead_fields& lead, const char* name) {
  auto it = lead.find(name);
  return it == lead.end() ? std::string{} : it->second;
}

bool in_scope(const rule& r, rule_scope wanted) { return r.scope == rule_scope::both || r.scope == wanted; }

bool holds(const rule& r, const targeting::lead_attributes& lead) {
  if (r.conditions.empty()) return true;
  auto test = [&](const dialogue::condition& c) { return targeting::holds(c, lead); };
  return r.match_all ? std::all_of(r.conditions.begin(), r.conditions.end(), test)
                     : std::any_of(r.conditions.begin(), r.conditions.end(), test);
}

} // namespace

compiled_rules::compiled_rules(std::vector<rule> rules, std::vector<team> teams, const std::vector<account>& accounts)
  : rules_(std::move(rules)), teams_(std::move(teams)) {
  std::stable_sort(rules_.begin(), rules_.end(), [](const rule& a, const rule& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.id < b.id;
  });
  for (const auto& t : teams_) team_members_[t.id] = t.agent_ids;
  for (const auto& a : accounts) {
    if (!a.domain.empty()) by_domain_[a.domain] = a.agent_id;
    if (!a.company.empty()) by_company_[a.company] = a.agent_id;
  }
}

std::string compiled_rules::account_owner(const lead_fields& lead) const {
  // The company's own site says most; a work email's domain next; the name last.
  for (const char* source : {"website", "email"}) {
    const auto domain = normalize_domain(field(lead, source));
    if (domain.empty()) continue;
    if (auto it = by_domain_.find(domain); it != by_domain_.end()) return it->second;
  }
  const auto company = normalize_company(field(lead, "company"));
  if (company.empty()) return {};
  auto it = by_company_.find(company);
  return it == by_company_.end() ? std::string{} : it->second;
}

const rule* compiled_rules::matching_rule(const lead_fields& lead, rule_scope scope) const {
  const targeting::lead_attributes attributes(lead.begin(), lead.end());
  for (const auto& r : rules_)
    if (in_scope(r, scope) && holds(r, attributes)) return &r;
  return nullptr;
}

const std::vector<std::string>& compiled_rules::members(const rule& r) const {
  if (r.team_id.empty()) return r.agent_ids;
  auto it = team_members_.find(r.team_id);
  return it == team_members_.end() ? no_members : it->second;
}

std::vector<std::string> turn_order(const compiled_rules& rules, const rule& r,
                                    const std::map<std::string, std::string>& rule_turns, const agent_filter& known) {
  const auto& members = rules.members(r);
  std::size_t start = 0;
  if (auto turn = rule_turns.find(r.id); turn != rule_turns.end()) {
    auto last = std::find(members.begin(), members.end(), turn->second);
    if (last != members.end()) start = static_cast<std::size_t>(last - members.begin()) + 1;
  }
  std::vector<std::string> out;
  out.reserve(members.size());
  for (std::size_t i = 0; i < members.size(); ++i) {
    const auto& id = members[(start + i) % members.size()];
    if (!known || known(id)) out.push_back(id);
  }
  return out;
}

shortlist make_shortlist(const compiled_rules& rules, const lead_fields& lead, rule_scope scope,
                         const std::map<std::string, std::string>& rule_turns, std::size_t max_tried,
                         const agent_filter& known) {
  shortlist out;
  out.account_owner = rules.account_owner(lead);
  if (known && !out.account_owner.empty() && !known(out.account_owner)) out.account_owner.clear();
  const auto* r = rules.matching_rule(lead, scope);
  if (!r) return out;
  out.rule_id = r->id;
  out.rule_agents = turn_order(rules, *r, rule_turns, known); // round robin inside the rule
  if (out.rule_agents.size() > max_tried) out.rule_agents.resize(max_tried);
  return out;
}

std::string_view to_string(stage s) noexcept {
  switch (s) {
    case stage::account: return "account";
    case stage::rule: return "rule";
    case stage::round_robin: break;
  }
  return "round_robin";
}

std::optional<assignment> assign(const shortlist& s, const std::vector<std::string>& round_robin,
                                 const std::function<bool(const std::string&)>& eligible) {
  if (!s.account_owner.empty() && eligible(s.account_owner)) return assignment{s.account_owner, stage::account, {}};
  for (const auto& id : s.rule_agents)
    if (eligible(id)) return assignment{id, stage::rule, s.rule_id};
  for (const auto& id : round_robin)
    if (eligible(id)) return assignment{id, stage::round_robin, {}};
  return std::nullopt;
}

assignment classify(const shortlist& s, const std::string& agent_id) {
  if (!s.account_owner.empty() && agent_id == s.account_owner) return {agent_id, stage::account, {}};
  if (std::find(s.rule_agents.begin(), s.rule_agents.end(), agent_id) != s.rule_agents.end())
    return {agent_id, stage::rule, s.rule_id};
  return {agent_id, stage::round_robin, {}};
}

} // namespace dynchat::routing
