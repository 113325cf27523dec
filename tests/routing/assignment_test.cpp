// Who gets a lead: account routing first, then the first rule that matches (round robin
// inside it, at most two tried), then round robin over everyone; eligibility decides.
#include <catch2/catch.hpp>

#include <set>

#include "dynchat/routing/assignment.hpp"

using namespace dynchat::routing;

namespace {
const std::string a1(32, '1'), a2(32, '2'), a3(32, '3'), a4(32, '4'), a5(32, '5');
const std::string team_id(32, 't');
const std::vector<std::string> everyone{a1, a2, a3, a4, a5};

rule make_rule(std::string id, std::uint32_t priority, std::vector<dynchat::dialogue::condition> conditions,
               std::vector<std::string> agents, rule_scope scope = rule_scope::both) {
  rule r;
  r.id = std::move(id);
  r.name = r.id;
  r.priority = priority;
  r.conditions = std::move(conditions);
  r.agent_ids = std::move(agents);
  r.scope = scope;
  return r;
}

dynchat::dialogue::condition is(std::string attribute, std::string value) {
  return {std::move(attribute), dynchat::dialogue::op::is, std::move(value)};
}

compiled_rules book() {
  std::vector<rule> rules{
    make_rule("r-emea", 2, {is("country", "Germany")}, {a1, a2, a3}),
    make_rule("r-big", 1, {{"employees", dynchat::dialogue::op::greater_than, "1000"}}, {a4}),
    make_rule("r-chat", 3, {is("country", "France")}, {a5}, rule_scope::live_chat),
  };
  rule team_rule = make_rule("r-team", 4, {is("industry", "retail")}, {});
  team_rule.team_id = team_id;
  rules.push_back(team_rule);
  std::vector<team> teams{{team_id, "Retail", {a3, a2}}};
  std::vector<account> accounts{{"acme.com", "", a5}, {"", "globex", a4}};
  return compiled_rules{rules, teams, accounts};
}

auto all_eligible = [](const std::string&) { return true; };
} // namespace

TEST_CASE("account routing finds the owner by site domain then email domain then company", "[routing][rules]") {
  const auto rules = book();
  CHECK(rules.account_owner({{"website", "https://www.acme.com/pricing"}}) == a5);
  CHECK(rules.account_owner({{"email", "jane@ACME.com"}}) == a5);
  CHECK(rules.account_owner({{"company", "Globex Corporation"}}) == a4);
  CHECK(rules.account_owner({{"email", "jane@initech.com"}, {"company", "Initech"}}).empty());
  CHECK(rules.account_owner({}).empty());
}

TEST_CASE("the first rule by priority that holds is the one that matched", "[routing][rules]") {
  const auto rules = book();
  const lead_fields german_giant{{"country", "germany"}, {"employees", "5000"}};
  REQUIRE(rules.matching_rule(german_giant, rule_scope::meetings));
  CHECK(rules.matching_rule(german_giant, rule_scope::meetings)->id == "r-big"); // priority 1 beats 2
  CHECK(rules.matching_rule({{"country", "Germany"}}, rule_scope::meetings)->id == "r-emea");
  // a live-chat-only rule is not one for meetings
  CHECK(rules.matching_rule({{"country", "France"}}, rule_scope::meetings) == nullptr);
  CHECK(rules.matching_rule({{"country", "France"}}, rule_scope::live_chat)->id == "r-chat");
  CHECK(rules.matching_rule({{"country", "Spain"}}, rule_scope::meetings) == nullptr);
}

TEST_CASE("round robin inside a rule starts after its last agent and tries at most two", "[routing][rules]") {
  const auto rules = book();
  const lead_fields german{{"country", "Germany"}};
  auto s = make_shortlist(rules, german, rule_scope::meetings, {}, 2);
  CHECK(s.rule_id == "r-emea");
  CHECK(s.rule_agents == std::vector<std::string>{a1, a2});
  s = make_shortlist(rules, german, rule_scope::meetings, {{"r-emea", a2}}, 2);
  CHECK(s.rule_agents == std::vector<std::string>{a3, a1});
  s = make_shortlist(rules, german, rule_scope::meetings, {{"r-emea", a3}}, 5);
  CHECK(s.rule_agents == std::vector<std::string>{a1, a2, a3}); // never more than the members
  // a team's members, in the team's order
  s = make_shortlist(rules, {{"industry", "Retail"}}, rule_scope::meetings, {}, 2);
  CHECK(s.rule_agents == std::vector<std::string>{a3, a2});
}

TEST_CASE("accounts beat rules and rules beat round robin and eligibility decides", "[routing][rules]") {
  const auto rules = book();
  const lead_fields lead{{"email", "jane@acme.com"}, {"country", "Germany"}};
  auto s = make_shortlist(rules, lead, rule_scope::meetings, {}, 2);
  auto pick = assign(s, everyone, all_eligible);
  REQUIRE(pick);
  CHECK(pick->agent_id == a5);
  CHECK(pick->stage == stage::account);

  // the owner has no free slot: the rule's first two are tried
  std::set<std::string> busy{a5};
  auto free = [&](const std::string& id) { return busy.count(id) == 0; };
  pick = assign(s, everyone, free);
  REQUIRE(pick);
  CHECK(pick->agent_id == a1);
  CHECK(pick->stage == stage::rule);
  CHECK(pick->rule_id == "r-emea");
  busy.insert(a1);
  CHECK(assign(s, everyone, free)->agent_id == a2);

  // the two tried are busy: the third member is not tried; round robin over everyone is
  busy.insert(a2);
  pick = assign(s, {a4, a5, a1, a2, a3}, free);
  REQUIRE(pick);
  CHECK(pick->agent_id == a4);
  CHECK(pick->stage == stage::round_robin);
  busy = {a1, a2, a3, a4, a5};
  CHECK_FALSE(assign(s, everyone, free));
}

TEST_CASE("a booked agent is classified by how the lead reached them", "[routing][rules]") {
  const auto rules = book();
  auto s = make_shortlist(rules, {{"email", "jane@acme.com"}, {"country", "Germany"}}, rule_scope::meetings, {}, 2);
  CHECK(classify(s, a5).stage == stage::account);
  CHECK(classify(s, a2).stage == stage::rule);
  CHECK(classify(s, a2).rule_id == "r-emea");
  CHECK(classify(s, a3).stage == stage::round_robin); // a member the rule did not try
  CHECK(classify(shortlist{}, a1).stage == stage::round_robin);
}

TEST_CASE("leads of one rule take turns among its agents evenly", "[routing][rules]") {
  const auto rules = book();
  std::map<std::string, std::string> turns;
  std::map<std::string, int> got;
  for (int i = 0; i < 30; ++i) {
    auto s = make_shortlist(rules, {{"country", "Germany"}}, rule_scope::meetings, turns, 2);
    auto pick = assign(s, everyone, all_eligible);
    REQUIRE(pick);
    ++got[pick->agent_id];
    turns[pick->rule_id] = pick->agent_id;
  }
  CHECK(got == std::map<std::string, int>{{a1, 10}, {a2, 10}, {a3, 10}});
}

TEST_CASE("agents deleted since a rule named them take none of its tries", "[routing][rules]") {
  const auto rules = book();
  auto known = [](const std::string& id) { return id != a1 && id != a5; }; // a1 and a5 are gone
  auto s = make_shortlist(rules, {{"country", "Germany"}, {"email", "x@acme.com"}}, rule_scope::meetings, {}, 2, known);
  CHECK(s.account_owner.empty()); // acme's owner a5 is gone
  CHECK(s.rule_agents == std::vector<std::string>{a2, a3});
  CHECK(turn_order(rules, *rules.matching_rule({{"country", "Germany"}}, rule_scope::meetings), {{"r-emea", a2}}, known) ==
        std::vector<std::string>{a3, a2});
}
