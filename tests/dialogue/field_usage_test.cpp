#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "dynchat/dialogue/embed.hpp"
#include "dynchat/dialogue/field_usage.hpp"
#include "dynchat/dialogue/validate.hpp"

using namespace dynchat;
using dialogue::field_reference;
using dialogue::field_use;
using dialogue::lead_fields_used;
using dialogue::token_fields;
using nlohmann::json;

namespace {

// A field in every place a dialogue can hold one, and in places that are not uses (an
// answer's value, a condition's value, a goal's name, a document's url, malformed tokens).
json every_place() {
  return json::parse(R"({
    "name": "Every place {{lead.notInName}}", "description": "{{lead.notInDescription}}", "priority": 1,
    "audience": {"urls": ["https://*.example.com/*"], "match": "all",
                 "groups": [{"match": "any", "conditions": [{"attribute": "country", "op": "is", "value": "DE"},
                                                             {"attribute": "company", "op": "is_not_empty"}]}]},
    "start": "greet",
    "cards": [
      {"id": "greet", "kind": "message", "text": "Hi {{lead.firstName:\"there\"}}, {{company.name}} and {{ lead.city }}!",
       "next": "ask"},
      {"id": "ask", "kind": "question", "text": "What brings you here, {{lead.title}}?", "answers": [
        {"label": "I am {{lead.lastName}}", "value": "me", "next": "mail", "attribute": "interest"},
        {"label": "Ads", "value": "{{lead.notInValue}}", "next": "role"},
        {"label": "Just looking", "next": "bye"}]},
      {"id": "mail", "kind": "capture", "text": "Your email?", "capture": "email",
       "placeholder": "{{lead.email:\"you@company.com\"}}", "when_known": "skip", "next": "role"},
      {"id": "role", "kind": "capture", "text": "Your role?", "capture": "text", "attribute": "jobRole",
       "picklist": ["{{lead.industry}}", "Other"], "next": "who"},
      {"id": "who", "kind": "branch", "rules": [
        {"known": true, "next": "tag"},
        {"agents_available": true, "match": "any", "conditions": [
          {"attribute": "numberOfEmployees", "op": "greater_than", "value": "500"},
          {"attribute": "country", "op": "is", "value": "{{lead.notInConditionValue}}"}], "next": "live"},
        {"match": "all", "conditions": [{"attribute": "country", "op": "is", "value": "DE"},
                                        {"attribute": "country", "op": "is_not", "value": "DE"}], "next": "never"}],
       "default": "doc"},
      {"id": "never", "kind": "message", "text": "Only {{lead.neverSeen}}", "next": "bye"},
      {"id": "tag", "kind": "action", "set": {"leadSource": "chat", "lastChatEmail": "{{lead.email}}"}, "next": "goal"},
      {"id": "goal", "kind": "goal", "name": "{{lead.notInGoal}}", "score": 2, "next": "meet"},
      {"id": "doc", "kind": "document", "text": "Our guide for {{lead.industry}}",
       "url": "https://example.com/{{lead.notInUrl}}", "next": "more"},
      {"id": "meet", "kind": "meeting", "text": "Pick a time", "next": "bye", "fallback": "live",
       "agent_fields": {"name": "salesRep", "email": "salesRepEmail"}},
      {"id": "live", "kind": "live_chat", "text": "Connecting you to {{company.website}}",
       "fallback": {"text": "Nobody is free, {{lead.firstName:\"friend\"}}.", "offer_meeting": true, "next": "bye"}},
      {"id": "more", "kind": "flow", "flow_id": "pricing-faq", "next": "bye"},
      {"id": "bye", "kind": "end", "text": "Thanks {{lead.firstName}} {{visitor.firstName}} {{lead.firstName:\"unclosed}}"}
    ]})");
}

dialogue::definition decoded(const json& body) {
  auto checked = dialogue::decode(body);
  std::string problems;
  for (const auto& p : checked.problems) problems += p.path + ": " + p.reason + "\n";
  INFO(problems);
  REQUIRE(checked.value);
  return *checked.value;
}

std::string listed(const std::vector<field_reference>& refs) {
  std::string out;
  for (const auto& r : refs) out += r.card + " " + std::string{to_string(r.where)} + " " + r.attribute + "\n";
  return out;
}

} // namespace

TEST_CASE("every use of a lead field in a dialogue is listed in card order", "[dialogue][field_usage]") {
  const auto refs = lead_fields_used(decoded(every_place()));
  const std::vector<field_reference> expected{
    {"country", field_use::audience, ""},
    {"company", field_use::audience, ""},
    {"firstName", field_use::token, "greet"},
    {"company", field_use::token, "greet"}, // {{company.name}} reads the lead's company field
    {"city", field_use::token, "greet"},
    {"title", field_use::token, "ask"},
    {"lastName", field_use::token, "ask"},
    {"interest", field_use::answer, "ask"},
    {"email", field_use::token, "mail"},
    {"email", field_use::capture, "mail"},
    {"industry", field_use::token, "role"},
    {"jobRole", field_use::capture, "role"},
    {"numberOfEmployees", field_use::branch, "who"},
    {"country", field_use::branch, "who"},
    {"country", field_use::branch, "who"},
    {"country", field_use::branch, "who"},
    {"neverSeen", field_use::token, "never"}, // behind a rule that never holds: the model keeps it
    {"email", field_use::token, "tag"},       // set's names in order: lastChatEmail, leadSource
    {"lastChatEmail", field_use::action, "tag"},
    {"leadSource", field_use::action, "tag"},
    {"industry", field_use::token, "doc"},
    {"salesRep", field_use::meeting, "meet"},
    {"salesRepEmail", field_use::meeting, "meet"},
    {"website", field_use::token, "live"}, // {{company.X}} reads the lead's X
    {"firstName", field_use::token, "live"},
    {"firstName", field_use::token, "bye"}, // the malformed tokens after it read nothing
  };
  INFO(listed(refs));
  CHECK(refs == expected);
  for (const auto& r : refs) CHECK(r.attribute.rfind("notIn", 0) != 0);
}

TEST_CASE("a field used in two places is listed twice", "[dialogue][field_usage]") {
  const auto refs = lead_fields_used(decoded(every_place()));
  auto count = [&](const std::string& attribute) {
    return std::count_if(refs.begin(), refs.end(), [&](const auto& r) { return r.attribute == attribute; });
  };
  CHECK(count("firstName") == 3); // greet, the live chat's fallback, bye
  CHECK(count("country") == 4);   // once in the audience, three times in branch rules
  CHECK(count("email") == 3);     // a placeholder's token, the email capture, an action's value
  CHECK(count("industry") == 2);  // a picklist choice and a document's text
}

TEST_CASE("tokens are read as render_tokens reads them", "[dialogue][field_usage][tokens]") {
  using list = std::vector<std::string>;
  CHECK(token_fields("Hi {{lead.firstName:\"there\"}}!") == list{"firstName"});
  CHECK(token_fields("{{ lead.firstName : \"there\" }} from {{lead.company}} in {{lead.city}}") ==
        list{"firstName", "company", "city"});
  CHECK(token_fields("{{lead.firstName}} and {{lead.firstName}}") == list{"firstName", "firstName"});
  CHECK(token_fields("{{company.name:\"your team\"}} at {{company.website}}") == list{"company", "website"});
  CHECK(token_fields("{{{{lead.firstName}}") == list{"firstName"});
  // A fallback is text, never rendered: a token in it is not read, and it may hold "}}".
  CHECK(token_fields("{{lead.a:\"{{lead.b}}\"}}") == list{"a"});
  CHECK(token_fields("{{lead.a:\"x}}y\"}} {{lead.b}}") == list{"a", "b"});
  // Not tokens: as written, and no field read.
  CHECK(token_fields("{{visitor.firstName}}").empty());
  CHECK(token_fields("{{agent.name}}").empty());
  CHECK(token_fields("{{lead.firstName").empty());
  CHECK(token_fields("{{lead.firstName:\"unclosed}}").empty());
  CHECK(token_fields("{{lead.}}").empty());
  CHECK(token_fields("{{lead firstName}}").empty());
  CHECK(token_fields("{lead.firstName}").empty());
  CHECK(token_fields("no tokens at all").empty());
  CHECK(token_fields("").empty());
  // Names keep their case, as every lookup of a lead's fields does.
  CHECK(token_fields("{{lead.FirstName}} {{lead.firstname}}") == list{"FirstName", "firstname"});
}

TEST_CASE("the probe's marker bytes in a text do not confuse it", "[dialogue][field_usage][tokens]") {
  using list = std::vector<std::string>;
  // decode() refuses control characters, but a definition built in code may hold them.
  CHECK(token_fields("\x01" "0\x02 {{lead.a}}") == list{"a"});
  CHECK(token_fields("{{lead.a}}\x01\x01" "1\x02{{lead.b}}\x01") == list{"a", "b"});
  CHECK(token_fields("{{lead.a:\"\x01" "0\x02\"}}") == list{"a"});
  CHECK(token_fields("{{lead.a\x01}}").empty());
}

TEST_CASE("capture cards write their field", "[dialogue][field_usage]") {
  auto body = every_place();
  SECTION("a phone capture writes phone unless it names another field") {
    body["cards"][3] = json::parse(R"({"id": "role", "kind": "capture", "text": "Your phone?", "capture": "phone", "next": "who"})");
    auto refs = lead_fields_used(decoded(body));
    CHECK(std::count(refs.begin(), refs.end(), field_reference{"phone", field_use::capture, "role"}) == 1);
    body["cards"][3]["attribute"] = "mobilePhone";
    refs = lead_fields_used(decoded(body));
    CHECK(std::count(refs.begin(), refs.end(), field_reference{"mobilePhone", field_use::capture, "role"}) == 1);
    CHECK(std::count(refs.begin(), refs.end(), field_reference{"phone", field_use::capture, "role"}) == 0);
  }
  SECTION("an attribute capture") {
    body["cards"][3] = json::parse(R"({"id": "role", "kind": "capture", "text": "Your industry?", "capture": "attribute",
                                       "attribute": "industry", "placeholder": "Retail", "next": "who"})");
    auto refs = lead_fields_used(decoded(body));
    CHECK(std::count(refs.begin(), refs.end(), field_reference{"industry", field_use::capture, "role"}) == 1);
  }
}

TEST_CASE("a conversational flow has no audience and lists its cards' fields", "[dialogue][field_usage]") {
  const auto flow = json::parse(R"({"type": "flow", "name": "Pricing FAQ", "start": "ask", "cards": [
    {"id": "ask", "kind": "question", "text": "Which plan, {{lead.firstName}}?", "answers": [
      {"label": "Pro", "next": "bye", "attribute": "plan"}]},
    {"id": "bye", "kind": "end"}]})");
  const std::vector<field_reference> own{{"firstName", field_use::token, "ask"}, {"plan", field_use::answer, "ask"}};
  CHECK(lead_fields_used(decoded(flow)) == own);

  SECTION("a dialogue's draft only names the flow: its fields are the flow's own") {
    auto draft = json::parse(R"({"name": "D", "priority": 1, "start": "more", "cards": [
      {"id": "more", "kind": "flow", "flow_id": "pricing-faq", "next": "bye"},
      {"id": "bye", "kind": "end", "text": "Bye {{lead.lastName}}"}]})");
    const std::vector<field_reference> bye{{"lastName", field_use::token, "bye"}};
    CHECK(lead_fields_used(decoded(draft)) == bye);

    SECTION("a published version, the flow copied in, lists them under the copies' ids") {
      auto embedded = dialogue::embed_flows(draft, [&](const std::string& id) -> std::optional<json> {
        if (id == "pricing-faq") return flow;
        return std::nullopt;
      });
      REQUIRE(embedded.value);
      const std::vector<field_reference> all{{"firstName", field_use::token, "more.ask"},
                                             {"plan", field_use::answer, "more.ask"},
                                             {"lastName", field_use::token, "bye"}}; // the copies follow the flow card
      CHECK(lead_fields_used(decoded(*embedded.value)) == all);
    }
  }
}

TEST_CASE("what the model holds counts even where its kind does not use it", "[dialogue][field_usage]") {
  // Built in code, not decoded: decode() would leave these fields empty.
  dialogue::definition d;
  d.start = "a";
  dialogue::card a;
  a.id = "a";
  a.kind = dialogue::card_kind::message;
  a.text = "{{lead.x}}";
  a.agent_name_attribute = "y";
  a.capture.attribute = "z";
  dialogue::card email;
  email.id = "email";
  email.kind = dialogue::card_kind::capture; // an email capture whose attribute was left out writes email
  dialogue::card phone;
  phone.id = "phone";
  phone.kind = dialogue::card_kind::capture;
  phone.capture.kind = dialogue::capture_kind::phone;
  dialogue::card text;
  text.id = "text";
  text.kind = dialogue::card_kind::capture;
  text.capture.kind = dialogue::capture_kind::text; // no field named: writes none
  d.cards = {a, email, phone, text};
  const std::vector<field_reference> expected{{"x", field_use::token, "a"},
                                              {"z", field_use::capture, "a"},
                                              {"y", field_use::meeting, "a"},
                                              {"email", field_use::capture, "email"},
                                              {"phone", field_use::capture, "phone"}};
  const auto refs = lead_fields_used(d);
  INFO(listed(refs));
  CHECK(refs == expected);
  CHECK(lead_fields_used(dialogue::definition{}).empty());
}

TEST_CASE("field uses are named", "[dialogue][field_usage]") {
  CHECK(to_string(field_use::audience) == "audience");
  CHECK(to_string(field_use::branch) == "branch");
  CHECK(to_string(field_use::token) == "token");
  CHECK(to_string(field_use::capture) == "capture");
  CHECK(to_string(field_use::answer) == "answer");
  CHECK(to_string(field_use::action) == "action");
  CHECK(to_string(field_use::meeting) == "meeting");
}
