#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>

#include "dynchat/dialogue/validate.hpp"

using namespace dynchat;
using nlohmann::json;

namespace {

// Every card kind, the way the demo dialogue uses them.
json sample() {
  return json::parse(R"({
    "name": "Welcome", "description": "Greets visitors on the pricing pages", "priority": 1,
    "audience": {"urls": ["https://*.example.com/pricing/*"], "exclude": ["https://example.com/pricing/old"],
                 "visitors": "any", "match": "all",
                 "groups": [{"match": "any", "conditions": [{"attribute": "country", "op": "is", "value": "DE"},
                                                             {"attribute": "company", "op": "is_not_empty"}]}]},
    "start": "greet",
    "cards": [
      {"id": "greet", "kind": "message", "text": "Hi {{lead.firstName:\"there\"}}!", "next": "ask"},
      {"id": "ask", "kind": "question", "text": "What brings you here?", "answers": [
        {"label": "Search Engine Optimization", "value": "SEO", "next": "email", "attribute": "interest"},
        {"label": "Ads", "next": "email"},
        {"label": "Just looking", "next": "bye"}]},
      {"id": "email", "kind": "capture", "text": "Your email?", "capture": "email", "placeholder": "you@company.com",
       "when_known": "skip", "next": "who"},
      {"id": "who", "kind": "branch", "rules": [
        {"known": true, "next": "tag"},
        {"agents_available": true, "match": "all",
         "conditions": [{"attribute": "numberOfEmployees", "op": "greater_than", "value": "500"}], "next": "live"}],
       "default": "doc"},
      {"id": "tag", "kind": "action", "set": {"leadSource": "chat", "lastChatEmail": "{{lead.email}}"}, "next": "goal"},
      {"id": "goal", "kind": "goal", "name": "qualified", "score": 2, "next": "meet"},
      {"id": "doc", "kind": "document", "text": "Our pricing guide", "url": "https://example.com/guide.pdf", "next": "bye"},
      {"id": "meet", "kind": "meeting", "text": "Pick a time", "routing": "round_robin", "next": "bye", "fallback": "live"},
      {"id": "live", "kind": "live_chat", "text": "Connecting you",
       "fallback": {"text": "Nobody is free right now.", "offer_meeting": true, "next": "bye"}},
      {"id": "more", "kind": "flow", "flow_id": "pricing-faq", "next": "bye"},
      {"id": "bye", "kind": "end", "text": "Thanks!"}
    ]})");
}

// The sample with "more" (the flow card) reached: the doc card leads to it.
json reachable_sample() {
  auto j = sample();
  j["cards"][6]["next"] = "more";
  return j;
}

bool has_problem(const dialogue::checked& c, const std::string& path, const std::string& reason_part) {
  return std::any_of(c.problems.begin(), c.problems.end(),
                     [&](const auto& p) { return p.path == path && p.reason.find(reason_part) != std::string::npos; });
}

std::string listed(const dialogue::checked& c) {
  std::string out;
  for (auto& p : c.problems) out += p.path + ": " + p.reason + "\n";
  return out;
}

} // namespace

TEST_CASE("a dialogue with every card kind decodes", "[dialogue]") {
  auto checked = dialogue::decode(reachable_sample());
  INFO(listed(checked));
  REQUIRE(checked.value);
  const auto& d = *checked.value;
  CHECK(d.name == "Welcome");
  CHECK(d.cards.size() == 11);
  CHECK(d.cards[1].answers[0].value == "SEO");
  CHECK(d.cards[1].answers[1].value == "Ads"); // the label, when no value is given
  CHECK(d.cards[1].answers[0].attribute == "interest");
  CHECK(d.cards[2].capture.attribute == "email");
  CHECK(d.cards[2].capture.when_known == dialogue::when_known::skip);
  REQUIRE(d.cards[3].rules.size() == 2);
  CHECK(d.cards[3].rules[0].known == true);
  REQUIRE(d.cards[3].rules[1].attributes);
  CHECK(d.cards[3].rules[1].attributes->conditions[0].op == dialogue::op::greater_than);
  CHECK(d.cards[3].next == "doc");
  CHECK(d.cards[4].set.at("lastChatEmail") == "{{lead.email}}");
  CHECK(d.cards[5].score == 2);
  CHECK(d.cards[8].nobody.offer_meeting);
  CHECK(d.audience.urls.size() == 1);
  CHECK(d.audience.groups[0].all == false);
}

TEST_CASE("each kind of mistake is named with its path and why", "[dialogue]") {
  struct mistake {
    const char* what;
    std::function<void(json&)> make;
    std::string path;
    std::string reason;
  };
  const std::vector<mistake> mistakes = {
    {"an unknown kind", [](json& j) { j["cards"][0]["kind"] = "banner"; }, "cards[0].kind", "is not a card kind"},
    {"a dangling answer", [](json& j) { j["cards"][1]["answers"][0]["next"] = "nope"; }, "cards[1].answers[0].next",
     "names card 'nope', which does not exist"},
    {"a dangling default", [](json& j) { j["cards"][3]["default"] = "nope"; }, "cards[3].default", "names card 'nope'"},
    {"a dangling start", [](json& j) { j["start"] = "nope"; }, "start", "names card 'nope'"},
    {"an unreachable card", [](json& j) { j["cards"].push_back({{"id", "orphan"}, {"kind", "message"}, {"text", "x"}}); },
     "cards[11]", "card 'orphan' is on no path from start"},
    {"a loop with no input",
     [](json& j) {
       j["cards"][6]["next"] = "loop-a";
       j["cards"].push_back({{"id", "loop-a"}, {"kind", "message"}, {"text", "a"}, {"next", "loop-b"}});
       j["cards"].push_back({{"id", "loop-b"}, {"kind", "goal"}, {"name", "g"}, {"next", "loop-a"}});
     },
     "cards[11]", "loops 'loop-a' -> 'loop-b' -> 'loop-a' with no card that waits for the visitor"},
    {"a live chat that is not last", [](json& j) { j["cards"][8]["next"] = "bye"; }, "cards[8].next",
     "must be the last of its branch"},
    {"a question without text", [](json& j) { j["cards"][1].erase("text"); }, "cards[1].text", "is missing"},
    {"blank text", [](json& j) { j["cards"][0]["text"] = "  \n"; }, "cards[0].text", "must not be empty"},
    {"a question without answers", [](json& j) { j["cards"][1]["answers"] = json::array(); }, "cards[1].answers",
     "must hold an answer"},
    {"two answers with one label", [](json& j) { j["cards"][1]["answers"][1]["label"] = "Just looking"; },
     "cards[1].answers[2].label", "is the label of another answer"},
    {"a misspelt field", [](json& j) { j["cards"][0]["nxet"] = "ask"; }, "cards[0].nxet", "is not a field here"},
    {"a next on a question", [](json& j) { j["cards"][1]["next"] = "bye"; }, "cards[1].next", "is not a field here"},
    {"an end with a next", [](json& j) { j["cards"][10]["next"] = "greet"; }, "cards[10].next", "is not a field here"},
    {"a duplicate id", [](json& j) { j["cards"][10]["id"] = "greet"; }, "cards[10].id", "is the id of cards[0] too"},
    {"a bad card id", [](json& j) { j["cards"][0]["id"] = "has space"; }, "cards[0].id", "is not a card id"},
    {"a capture of an unknown kind", [](json& j) { j["cards"][2]["capture"] = "fax"; }, "cards[2].capture",
     "must be email, phone, text or attribute"},
    {"an attribute capture without its field",
     [](json& j) { j["cards"][2]["capture"] = "attribute"; }, "cards[2].attribute", "is missing"},
    {"a branch rule testing nothing", [](json& j) { j["cards"][3]["rules"][0].erase("known"); }, "cards[3].rules[0]",
     "must test something"},
    {"an unknown operator", [](json& j) { j["cards"][3]["rules"][1]["conditions"][0]["op"] = "like"; },
     "cards[3].rules[1].conditions[0].op", "is not an operator"},
    {"a comparison with a word", [](json& j) { j["cards"][3]["rules"][1]["conditions"][0]["value"] = "many"; },
     "cards[3].rules[1].conditions[0].value", "must be a number"},
    {"is_empty with a value",
     [](json& j) { j["audience"]["groups"][0]["conditions"][1]["value"] = "x"; },
     "audience.groups[0].conditions[1].value", "is not taken by is_not_empty"},
    {"a goal score of 4", [](json& j) { j["cards"][5]["score"] = 4; }, "cards[5].score", "must be 0, 1, 2 or 3"},
    {"an action setting nothing", [](json& j) { j["cards"][4]["set"] = json::object(); }, "cards[4].set",
     "must be an object of field names to values"},
    {"a document that is not a link", [](json& j) { j["cards"][6]["url"] = "javascript:alert(1)"; }, "cards[6].url",
     "must be an http:// or https:// address"},
    {"a meeting without a fallback", [](json& j) { j["cards"][7].erase("fallback"); }, "cards[7].fallback", "is missing"},
    {"an agent meeting without its agent", [](json& j) { j["cards"][7]["routing"] = "agent"; }, "cards[7].agent_id",
     "is missing"},
    {"a live chat without a fallback", [](json& j) { j["cards"][8].erase("fallback"); }, "cards[8].fallback",
     "is missing"},
    {"a URL pattern without a scheme", [](json& j) { j["audience"]["urls"][0] = "example.com/*"; }, "audience.urls[0]",
     "must be scheme://host[/path]"},
    {"priority zero", [](json& j) { j["priority"] = 0; }, "priority", "from 1"},
    {"no name", [](json& j) { j.erase("name"); }, "name", "is missing"},
    {"a control character", [](json& j) { j["cards"][0]["text"] = std::string{"a\x01" "b"}; }, "cards[0].text",
     "holds a control character"},
    {"two answers with one value", [](json& j) { j["cards"][1]["answers"][1]["value"] = "SEO"; },
     "cards[1].answers[1].value", "is the value of another answer"},
    {"an answer's value that is another's label",
     [](json& j) { j["cards"][1]["answers"][0]["value"] = "Ads"; }, "cards[1].answers[1].label", "is the value of another answer"},
    {"an answer writing the email", [](json& j) { j["cards"][1]["answers"][0]["attribute"] = "email"; },
     "cards[1].answers[0].attribute", "written only by an email capture"},
    {"an action setting the email", [](json& j) { j["cards"][4]["set"]["email"] = "x@y.io"; }, "cards[4].set.email",
     "written only by an email capture"},
    {"an email capture writing another field", [](json& j) { j["cards"][2]["attribute"] = "firstName"; },
     "cards[2].attribute", "an email capture writes the email field"},
    {"a text capture without its field", [](json& j) { j["cards"][2]["capture"] = "text"; }, "cards[2].attribute",
     "is missing"},
    {"a picklist on an email capture", [](json& j) { j["cards"][2]["picklist"] = {"a@b.io"}; }, "cards[2].picklist",
     "goes with a text or attribute capture"},
    {"a blank picklist choice",
     [](json& j) {
       j["cards"][2]["capture"] = "text";
       j["cards"][2]["attribute"] = "comment";
       j["cards"][2]["picklist"] = {"Yes ", "  "};
     },
     "cards[2].picklist[1]", "must be a choice"},
    {"a pattern with no host", [](json& j) { j["audience"]["urls"][0] = "https://"; }, "audience.urls[0]",
     "must be scheme://host[/path]"},
    {"a loop through a skipped capture",
     [](json& j) {
       j["cards"][2]["next"] = "greet";
       j["cards"][0]["next"] = "email"; // greet -> email (skipped when known) -> greet
       j["cards"][1]["answers"] = {{{"label", "x"}, {"next", "email"}}};
     },
     "cards[0]", "loops 'greet' -> 'email' -> 'greet'"},
    {"a loop through a meeting's fallback", [](json& j) { j["cards"][7]["fallback"] = "goal"; }, "cards[5]",
     "loops 'goal' -> 'meet' -> 'goal'"},
    {"a loop through a live chat's fallback", [](json& j) { j["cards"][8]["fallback"]["next"] = "live"; }, "cards[8]",
     "loops 'live' -> 'live'"},
    {"a comparison with a malformed number",
     [](json& j) { j["cards"][3]["rules"][1]["conditions"][0]["value"] = "1.2.3"; }, "cards[3].rules[1].conditions[0].value",
     "must be a number"},
  };
  for (const auto& m : mistakes) {
    CAPTURE(m.what);
    auto j = reachable_sample();
    m.make(j);
    auto checked = dialogue::decode(j);
    INFO(listed(checked));
    CHECK_FALSE(checked.value);
    CHECK(has_problem(checked, m.path, m.reason));
  }
}

TEST_CASE("every problem is listed at once, not only the first", "[dialogue]") {
  auto j = reachable_sample();
  j["cards"][0]["kind"] = "banner";
  j["cards"][1]["answers"][0]["label"] = 7;
  j["cards"][5]["score"] = -1;
  j["priority"] = "high";
  auto checked = dialogue::decode(j);
  INFO(listed(checked));
  CHECK(checked.problems.size() == 4);
}

TEST_CASE("the limits are counted: cards, URLs, groups, conditions, answers", "[dialogue]") {
  dialogue::limits lim;
  SECTION("cards") {
    auto j = reachable_sample();
    for (std::size_t i = j["cards"].size(); i <= lim.max_cards; ++i)
      j["cards"].push_back({{"id", "c" + std::to_string(i)}, {"kind", "end"}});
    auto checked = dialogue::decode(j, lim);
    CHECK(has_problem(checked, "cards", "holds 501 cards; at most 500"));
  }
  SECTION("URLs") {
    auto j = reachable_sample();
    for (int i = 0; i < 20; ++i) j["audience"]["urls"].push_back("https://example.com/" + std::to_string(i));
    CHECK(has_problem(dialogue::decode(j, lim), "audience.urls", "at most 20"));
  }
  SECTION("groups") {
    auto j = reachable_sample();
    for (int i = 0; i < 10; ++i) j["audience"]["groups"].push_back(j["audience"]["groups"][0]);
    CHECK(has_problem(dialogue::decode(j, lim), "audience.groups", "holds 11 groups; at most 10"));
  }
  SECTION("conditions") {
    auto j = reachable_sample();
    auto& conds = j["audience"]["groups"][0]["conditions"];
    while (conds.size() <= lim.max_conditions) conds.push_back(conds[0]);
    CHECK(has_problem(dialogue::decode(j, lim), "audience.groups[0].conditions", "at most 10"));
  }
  SECTION("answers") {
    auto j = reachable_sample();
    auto& answers = j["cards"][1]["answers"];
    for (int i = 0; answers.size() <= lim.max_answers; ++i)
      answers.push_back({{"label", "more " + std::to_string(i)}, {"next", "bye"}});
    CHECK(has_problem(dialogue::decode(j, lim), "cards[1].answers", "at most 10"));
  }
  SECTION("exactly at the limits is fine") {
    auto j = reachable_sample();
    while (j["audience"]["urls"].size() < lim.max_urls) j["audience"]["urls"].push_back("https://example.com/x");
    auto checked = dialogue::decode(j, lim);
    INFO(listed(checked));
    CHECK(checked.value);
  }
}

TEST_CASE("a loop through a card that waits for the visitor is allowed", "[dialogue]") {
  auto j = reachable_sample();
  j["cards"][1]["answers"][2]["next"] = "greet"; // "Just looking" starts over: the question waits each time
  auto checked = dialogue::decode(j);
  INFO(listed(checked));
  REQUIRE(checked.value);
  auto paths = dialogue::enumerate_paths(*checked.value, 1000);
  CHECK(std::find(paths.paths.begin(), paths.paths.end(), std::vector<std::string>{"greet", "ask", "greet"}) !=
        paths.paths.end());
}

TEST_CASE("every path from start to an end is listed", "[dialogue]") {
  auto checked = dialogue::decode(reachable_sample());
  REQUIRE(checked.value);
  auto paths = dialogue::enumerate_paths(*checked.value, 1000);
  CHECK_FALSE(paths.truncated);
  using path = std::vector<std::string>;
  const std::vector<path> expected = {
    {"greet", "ask", "email", "who", "tag", "goal", "meet", "bye"},
    {"greet", "ask", "email", "who", "tag", "goal", "meet", "live", "bye"},
    {"greet", "ask", "email", "who", "live", "bye"},
    {"greet", "ask", "email", "who", "doc", "more", "bye"},
    {"greet", "ask", "bye"},
  };
  // "Search Engine Optimization" and "Ads" lead the same way: each path is listed once.
  CHECK(paths.paths == expected);
}

TEST_CASE("paths beyond the maximum are cut off, and the cut is said", "[dialogue]") {
  // Twelve questions in a row, each with two answers to the next: 4,096 paths.
  json j{{"name", "wide"}, {"priority", 3}, {"start", "q0"}, {"cards", json::array()}};
  for (int i = 0; i < 12; ++i) {
    const auto next = i == 11 ? std::string{"done"} : "q" + std::to_string(i + 1);
    j["cards"].push_back({{"id", "q" + std::to_string(i)}, {"kind", "question"}, {"text", "?"},
                          {"answers", {{{"label", "a"}, {"next", next}}, {{"label", "b"}, {"next", next}}}}});
  }
  j["cards"].push_back({{"id", "done"}, {"kind", "end"}});
  auto checked = dialogue::decode(j);
  INFO(listed(checked));
  REQUIRE(checked.value);
  // The two answers of a card lead to one card: successors are counted once, so 1 path.
  CHECK(dialogue::enumerate_paths(*checked.value, 1000).paths.size() == 1);
  for (int i = 0; i < 12; ++i) { // now each answer leads elsewhere: a to the next, b to its twin
    auto& c = j["cards"][i];
    c["answers"][1]["next"] = "t" + std::to_string(i);
    const auto next = i == 11 ? std::string{"done"} : "q" + std::to_string(i + 1);
    j["cards"].push_back({{"id", "t" + std::to_string(i)}, {"kind", "message"}, {"text", "twin"}, {"next", next}});
  }
  checked = dialogue::decode(j);
  INFO(listed(checked));
  REQUIRE(checked.value);
  auto paths = dialogue::enumerate_paths(*checked.value, 1000);
  CHECK(paths.truncated);
  CHECK(paths.paths.size() == 1000);
  CHECK(dialogue::enumerate_paths(*checked.value, 5000).paths.size() == 4096);
}

TEST_CASE("every operator has its name", "[dialogue]") {
  for (auto o : {dialogue::op::is, dialogue::op::is_not, dialogue::op::contains, dialogue::op::starts_with,
                 dialogue::op::greater_than, dialogue::op::less_than, dialogue::op::is_empty, dialogue::op::is_not_empty})
    CHECK(dialogue::op_from_string(dialogue::to_string(o)) == o);
  CHECK_FALSE(dialogue::op_from_string("like"));
}

TEST_CASE("the paths answered stay small, however long they are", "[dialogue]") {
  // Ten two-way questions (1,024 paths), then a long chain: the list is cut by its size.
  json j{{"name", "long"}, {"priority", 1}, {"start", "q0"}, {"cards", json::array()}};
  for (int i = 0; i < 10; ++i) {
    const auto next = "q" + std::to_string(i + 1);
    j["cards"].push_back({{"id", "q" + std::to_string(i)}, {"kind", "question"}, {"text", "?"},
                          {"answers", {{{"label", "a"}, {"next", next}}, {{"label", "b"}, {"next", "t" + std::to_string(i)}}}}});
    j["cards"].push_back({{"id", "t" + std::to_string(i)}, {"kind", "message"}, {"text", "t"}, {"next", next}});
  }
  for (int i = 10; i < 400; ++i)
    j["cards"].push_back({{"id", "q" + std::to_string(i)}, {"kind", "message"}, {"text", "m"}, {"next", "q" + std::to_string(i + 1)}});
  j["cards"].push_back({{"id", "q400"}, {"kind", "end"}});
  auto checked = dialogue::decode(j);
  INFO(listed(checked));
  REQUIRE(checked.value);
  auto paths = dialogue::enumerate_paths(*checked.value, 1000);
  CHECK(paths.truncated);
  std::size_t ids = 0;
  for (const auto& p : paths.paths) ids += p.size();
  CHECK(ids <= 20000);
  CHECK_FALSE(paths.paths.empty());
}
