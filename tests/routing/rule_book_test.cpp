// The rule book's forms: rules, teams and accounts read strictly from JSON, with every
// problem and its path; domains and company names normalised the way leads are matched;
// account CSVs as spreadsheets write them.
#include <catch2/catch.hpp>

#include "dynchat/routing/rule_book.hpp"

using namespace dynchat::routing;
using nlohmann::json;

namespace {
const std::string a1(32, 'a'), a2(32, 'b'), t1(32, 'c');

bool has_problem(const std::vector<dynchat::dialogue::problem>& ps, const std::string& path) {
  for (const auto& p : ps)
    if (p.path == path) return true;
  return false;
}
} // namespace

TEST_CASE("domains normalise from sites, emails and hosts", "[routing][rules]") {
  CHECK(normalize_domain("https://www.Acme.com:443/about?x=1") == "acme.com");
  CHECK(normalize_domain("ACME.COM.") == "acme.com");
  CHECK(normalize_domain("jane@Sales.Acme.com") == "sales.acme.com");
  CHECK(normalize_domain("acme.co.uk") == "acme.co.uk");
  CHECK(normalize_domain("localhost").empty()); // no dot: not a company's domain
  CHECK(normalize_domain("acme..com").empty());
  CHECK(normalize_domain("ac me.com").empty());
  CHECK(normalize_domain("").empty());
  CHECK(normalize_domain("-acme.com").empty()); // a label starts and ends with a letter or digit
  CHECK(normalize_domain("acme-.com").empty());
  CHECK(normalize_domain("1.2.3.4").empty()); // an address, not a domain
  CHECK(normalize_domain("my-acme.com") == "my-acme.com");
  CHECK(normalize_domain("123.com") == "123.com");
}

TEST_CASE("company names normalise without case punctuation or legal form", "[routing][rules]") {
  CHECK(normalize_company(" ACME,  Inc. ") == "acme");
  CHECK(normalize_company("Acme Corporation") == "acme");
  CHECK(normalize_company("Acme GmbH & Co. KG") == "acme"); // trailing forms go, one by one
  CHECK(normalize_company("Acme B.V.") == "acme");          // dotted initials are one word
  CHECK(normalize_company("Acme BV") == "acme");
  CHECK(normalize_company("Acme S.A.") == "acme");
  CHECK(normalize_company("AT&T") == normalize_company("AT & T"));
  CHECK(normalize_company("AT&T Inc.") == "at&t");
  CHECK(normalize_company("MÜLLER GmbH") == normalize_company("Müller GmbH")); // Latin-1 letters without case
  CHECK(normalize_company("Johnson & Johnson") == "johnson&johnson");
  CHECK(normalize_company("McDonald's") == "mcdonalds");
  CHECK(normalize_company("Inc") == "inc"); // a name that is only a legal form stays
  CHECK(normalize_company("Müller AG") == "müller");
  CHECK(normalize_company("...").empty());
}

TEST_CASE("a rule decodes with agents or a team and its conditions", "[routing][rules]") {
  auto r = decode_rule(json{{"name", "EMEA"},
                            {"priority", 2},
                            {"applies_to", "meetings"},
                            {"match", "any"},
                            {"conditions", {{{"attribute", "country"}, {"op", "is"}, {"value", "Germany"}}}},
                            {"agents", {a1, a2}}});
  REQUIRE(r.value);
  CHECK(r.value->priority == 2);
  CHECK(r.value->scope == rule_scope::meetings);
  CHECK_FALSE(r.value->match_all);
  CHECK(r.value->conditions.size() == 1);
  CHECK(r.value->agent_ids == std::vector<std::string>{a1, a2});
  // and back: what to_json writes decodes to the same rule
  auto j = to_json(*r.value);
  j.erase("id");
  auto again = decode_rule(j);
  REQUIRE(again.value);
  CHECK(to_json(*again.value) == to_json(*r.value));

  auto team_rule = decode_rule(json{{"name", "all"}, {"team", t1}});
  REQUIRE(team_rule.value);
  CHECK(team_rule.value->team_id == t1);
  CHECK(team_rule.value->conditions.empty()); // every lead
  CHECK(team_rule.value->priority == 1);
}

TEST_CASE("a bad rule lists every problem with its path", "[routing][rules]") {
  auto r = decode_rule(json{{"name", ""},
                            {"priority", 0},
                            {"applies_to", "calls"},
                            {"match", "most"},
                            {"conditions", {{{"attribute", "country"}, {"op", "near"}, {"value", "x"}}}},
                            {"agents", {a1, a1, "nope"}},
                            {"team", t1},
                            {"colour", "red"}});
  CHECK_FALSE(r.value);
  for (const char* path : {"name", "priority", "applies_to", "match", "conditions[0].op", "agents[1]", "agents[2]", "colour"})
    CHECK(has_problem(r.problems, path));
  CHECK(has_problem(r.problems, "agents")); // both agents and team

  CHECK(has_problem(decode_rule(json{{"name", "x"}}).problems, "agents")); // neither
  CHECK(has_problem(decode_rule(json{{"name", "x"}, {"agents", json::array()}}).problems, "agents"));
  CHECK(has_problem(decode_rule(json::array()).problems, ""));
  CHECK(has_problem(decode_rule(json{{"name", "red\u001b[31m"}, {"agents", {a1}}}).problems, "name")); // control characters
  CHECK(has_problem(decode_rule(json{{"name", "\n"}, {"agents", {a1}}}).problems, "name"));
  CHECK(has_problem(decode_rule(json{{"name", " \u200b "}, {"agents", {a1}}}).problems, "name")); // shows nothing
  rule_limits lim;
  lim.max_members = 1;
  CHECK(has_problem(decode_rule(json{{"name", "x"}, {"agents", {a1, a2}}}, lim).problems, "agents"));
}

TEST_CASE("teams and accounts decode and refuse what is wrong", "[routing][rules]") {
  auto t = decode_team(json{{"name", "EMEA"}, {"agents", {a1, a2}}});
  REQUIRE(t.value);
  CHECK(t.value->agent_ids.size() == 2);
  CHECK(has_problem(decode_team(json{{"name", "x"}}).problems, "agents"));

  auto a = decode_account(json{{"domain", "https://www.Acme.com/"}, {"company", "Acme, Inc."}, {"agent_id", a1}});
  REQUIRE(a.value);
  CHECK(a.value->domain == "acme.com");
  CHECK(a.value->company == "acme");
  CHECK(a.value->key() == "domain:acme.com");
  auto by_name = decode_account(json{{"company", "Globex"}, {"agent_id", a1}});
  REQUIRE(by_name.value);
  CHECK(by_name.value->key() == "company:globex");
  CHECK(has_problem(decode_account(json{{"agent_id", a1}}).problems, "domain"));
  CHECK(has_problem(decode_account(json{{"domain", "not a domain"}, {"agent_id", a1}}).problems, "domain"));
  CHECK(has_problem(decode_account(json{{"domain", "acme.com"}, {"agent_id", "x"}}).problems, "agent_id"));
}

TEST_CASE("account CSVs read like spreadsheets write them", "[routing][rules]") {
  auto csv = parse_accounts_csv("\xEF\xBB\xBF" "Company,Domain,Owner Email,Region\r\n"
                                "\"Acme, Inc.\",acme.com,jane@example.com,EMEA\r\n"
                                "\r\n"
                                "\"The \"\"Quoted\"\" Co\",,bob@example.com,US\n"
                                "Globex,globex.com,bob@example.com",
                                10);
  REQUIRE(csv.problems.empty());
  REQUIRE(csv.rows.size() == 3);
  CHECK(csv.rows[0].company == "Acme, Inc.");
  CHECK(csv.rows[0].domain == "acme.com");
  CHECK(csv.rows[0].agent == "jane@example.com");
  CHECK(csv.rows[0].line == 2);
  CHECK(csv.rows[1].company == "The \"Quoted\" Co");
  CHECK(csv.rows[1].line == 4);
  CHECK(csv.rows[2].line == 5);

  CHECK(parse_accounts_csv("name,region\nacme,EMEA\n", 10).problems.front().path == "line 1");
  auto unclosed = parse_accounts_csv("domain,agent\n\"acme.com,x\n", 10);
  REQUIRE(unclosed.problems.size() == 1);
  CHECK(unclosed.problems[0].path == "line 2");
  auto too_many = parse_accounts_csv("domain,agent\na.com,x\nb.com,x\nc.com,x\n", 2);
  CHECK(too_many.rows.size() == 2);
  REQUIRE(too_many.problems.size() == 1);
  CHECK(too_many.problems[0].path == "line 4");
}
