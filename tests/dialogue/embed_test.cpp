// A dialogue's flow cards written out at publish: ids prefixed, the flow's ends going on
// at the flow card's next, and the problems a publish lists. Then the whole runs through
// the engine as one dialogue.
#include <catch2/catch.hpp>

#include "dynchat/dialogue/embed.hpp"
#include "dynchat/engine/start_flow.hpp"
#include "dynchat/engine/step.hpp"

using namespace dynchat;
using nlohmann::json;

namespace {

json faq_flow() {
  return json::parse(R"({
    "type": "flow", "name": "Pricing FAQ", "start": "q",
    "cards": [
      {"id": "q", "kind": "question", "text": "Which plan?", "answers": [
        {"label": "Team", "value": "team", "next": "team"},
        {"label": "Enterprise", "value": "ent", "next": "help"},
        {"label": "None", "value": "none"}]},
      {"id": "team", "kind": "message", "text": "Team is 10 a seat.", "next": "bye"},
      {"id": "help", "kind": "live_chat", "fallback": {"text": "Nobody is free."}},
      {"id": "bye", "kind": "end", "text": "That is all about plans."}]})");
}

json dialogue_with_flow(const std::string& next = "done") {
  auto j = json::parse(R"({
    "name": "Pricing", "priority": 1, "start": "hi",
    "cards": [
      {"id": "hi", "kind": "message", "text": "Hello", "next": "faq"},
      {"id": "faq", "kind": "flow", "flow_id": "F1"},
      {"id": "done", "kind": "end", "text": "Back in the dialogue."}]})");
  if (!next.empty()) j["cards"][1]["next"] = next;
  return j;
}

dialogue::flow_lookup only(const std::string& id, json flow) {
  return [id, flow](const std::string& asked) -> std::optional<json> {
    if (asked == id) return flow;
    return std::nullopt;
  };
}

const json& card(const json& body, const std::string& id) {
  for (const auto& c : body["cards"])
    if (c["id"] == id) return c;
  FAIL("no card " << id);
  static json none;
  return none;
}

} // namespace

TEST_CASE("a flow decodes as a dialogue without priority or audience, and refuses both", "[dialogue][flow]") {
  auto ok = dialogue::decode(faq_flow());
  REQUIRE(ok.value);
  CHECK(ok.value->type == dialogue::definition_type::flow);
  CHECK(ok.value->priority == 0);
  auto bad = faq_flow();
  bad["priority"] = 2;
  bad["audience"] = {{"urls", json::array({"https://a.example/*"})}};
  auto refused = dialogue::decode(bad);
  REQUIRE_FALSE(refused.value);
  std::vector<std::string> paths;
  for (auto& p : refused.problems) paths.push_back(p.path);
  CHECK(paths == std::vector<std::string>{"priority", "audience"});
  auto odd = faq_flow();
  odd["type"] = "wizard";
  REQUIRE_FALSE(dialogue::decode(odd).value);
  CHECK(dialogue::decode(odd).problems.at(0).path == "type");
  CHECK(dialogue::decode(dialogue_with_flow()).value->type == dialogue::definition_type::dialogue);
}

TEST_CASE("embedding prefixes the flow's ids, sends its ends on to the flow card's next and keeps live chats last",
          "[dialogue][flow]") {
  auto out = dialogue::embed_flows(dialogue_with_flow(), only("F1", faq_flow()));
  REQUIRE(out.problems.empty());
  REQUIRE(out.value);
  const auto& body = *out.value;
  CHECK(body["cards"].size() == 7);
  CHECK(card(body, "faq")["next"] == "faq.q");
  CHECK(card(body, "faq.q")["answers"][0]["next"] == "faq.team");
  CHECK(card(body, "faq.q")["answers"][2]["next"] == "done"); // an answer that ended the flow
  CHECK(card(body, "faq.team")["next"] == "faq.bye");
  CHECK_FALSE(card(body, "faq.help").contains("next"));                   // last of its branch still
  CHECK(card(body, "faq.help")["fallback"]["next"] == "done");             // its fallback goes on
  CHECK(card(body, "faq.bye")["kind"] == "message");                       // the end says its text
  CHECK(card(body, "faq.bye")["text"] == "That is all about plans.");
  CHECK(card(body, "faq.bye")["next"] == "done");
  CHECK(dialogue::decode(body).value); // the whole is a dialogue
  // Ids the dialogue holds already: the whole does not decode, and a publish says why.
  auto clash = dialogue_with_flow();
  clash["cards"].push_back(json::parse(R"({"id": "faq.q", "kind": "end"})"));
  auto twice = dialogue::embed_flows(clash, only("F1", faq_flow()));
  REQUIRE(twice.value);
  CHECK_FALSE(dialogue::decode(*twice.value).value);
}

TEST_CASE("an end without text becomes a card passed over, and a flow card without next lets the flow end it",
          "[dialogue][flow]") {
  auto flow = faq_flow();
  flow["cards"] = json::parse(R"([{"id": "q", "kind": "message", "text": "One thing", "next": "e"},
                                   {"id": "e", "kind": "end"}])");
  auto out = dialogue::embed_flows(dialogue_with_flow(), only("F1", flow));
  REQUIRE(out.value);
  CHECK(card(*out.value, "faq.e")["kind"] == "flow");
  CHECK(card(*out.value, "faq.e")["next"] == "done");
  auto at_end = dialogue::embed_flows(dialogue_with_flow(""), only("F1", flow));
  REQUIRE(at_end.value);
  CHECK(card(*at_end.value, "faq.e")["kind"] == "end");
}

TEST_CASE("embedding lists a flow that is not published and ids that grow too long", "[dialogue][flow]") {
  auto missing = dialogue::embed_flows(dialogue_with_flow(), only("other", faq_flow()));
  REQUIRE_FALSE(missing.value);
  REQUIRE(missing.problems.size() == 1);
  CHECK(missing.problems[0].path == "cards[1].flow_id");
  auto body = dialogue_with_flow();
  const std::string long_id(60, 'x');
  body["cards"][1]["id"] = long_id;
  body["cards"][0]["next"] = long_id;
  auto too_long = dialogue::embed_flows(body, only("F1", faq_flow()));
  REQUIRE_FALSE(too_long.value);
  CHECK(too_long.problems.at(0).path == "cards[1].id");
}

TEST_CASE("a dialogue with its flow written in runs the flow's cards and goes on after it", "[dialogue][flow][engine]") {
  auto out = dialogue::embed_flows(dialogue_with_flow(), only("F1", faq_flow()));
  REQUIRE(out.value);
  auto def = dialogue::decode(*out.value);
  REQUIRE(def.value);
  engine::cursor at;
  at.flow = engine::flow_kind::dialogue;
  at.flow_id = "D";
  at.flow_version = 1;
  engine::context ctx{nullptr, engine::agent_availability::unknown, 1'000, &*def.value, 0, nullptr};
  auto texts = [](const engine::step_result& r) {
    std::vector<std::string> t;
    for (const auto& o : r.outputs)
      if (auto* m = std::get_if<engine::out::bot_message>(&o)) t.push_back(m->text);
    return t;
  };
  auto r = engine::step(at, engine::in::started{}, ctx);
  CHECK(texts(r) == std::vector<std::string>{"Hello", "Which plan?"});
  r = engine::step(r.cursor, engine::in::choice{"team"}, ctx);
  CHECK(texts(r) == std::vector<std::string>{"Team is 10 a seat.", "That is all about plans.", "Back in the dialogue."});
  CHECK(r.cursor.finished);
}

TEST_CASE("a trigger starts a flow from its beginning, keeps the fields learned, never restarts a running one "
          "and waits for a live chat to end",
          "[engine][flow]") {
  engine::cursor at;
  at.flow = engine::flow_kind::dialogue;
  at.flow_id = "D";
  at.card = "ask";
  at.answers = {{"field:firstName", "Ann"}, {"ask", "yes"}, {"goal:x", "1"}, {"acquired:email", "1"}};
  at.engaged = true;
  auto s = engine::start_flow(at, "F1", 4);
  REQUIRE(s.what == engine::flow_start::outcome::start);
  CHECK(s.started.flow == engine::flow_kind::conversational_flow);
  CHECK(s.started.flow_id == "F1");
  CHECK(s.started.flow_version == 4);
  CHECK(s.started.card.empty());
  CHECK_FALSE(s.started.engaged);
  CHECK(s.started.start_asked);
  CHECK(s.started.answers == std::map<std::string, std::string>{{"field:firstName", "Ann"}});

  auto running = s.started;
  running.card = "q";
  CHECK(engine::start_flow(running, "F1", 5).what == engine::flow_start::outcome::running);
  CHECK(engine::start_flow(running, "F2", 1).what == engine::flow_start::outcome::start);
  running.finished = true;
  CHECK(engine::start_flow(running, "F1", 5).what == engine::flow_start::outcome::start); // again, as often as asked
  at.handed_over = true;
  auto refused = engine::start_flow(at, "F1", 4);
  CHECK(refused.what == engine::flow_start::outcome::refused);
  CHECK_FALSE(refused.reason.empty());
}
