// A dialogue run through the engine, input by input: every card kind, the answers that do
// not fit (asked again, never a dead end), tokens, the response delay, the live-chat card
// with and without agents, and the promises (no going back, nothing after the end).
#include <catch2/catch.hpp>

#include <set>

#include "dynchat/dialogue/validate.hpp"
#include "dynchat/engine/step.hpp"

using namespace dynchat;
using namespace dynchat::engine;

namespace {

// The dialogue of docs/dialogues.md.
dialogue::definition demo() {
  auto checked = dialogue::decode(nlohmann::json::parse(R"({
    "name": "Welcome", "priority": 1, "start": "greet",
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
        {"agents_available": true, "next": "live"}],
       "default": "doc"},
      {"id": "tag", "kind": "action", "set": {"leadSource": "chat", "lastChatEmail": "{{lead.email}}"}, "next": "goal"},
      {"id": "goal", "kind": "goal", "name": "qualified", "score": 2, "next": "meet"},
      {"id": "doc", "kind": "document", "text": "Our pricing guide", "url": "https://example.com/guide.pdf", "next": "more"},
      {"id": "meet", "kind": "meeting", "text": "Pick a time", "next": "bye", "fallback": "live"},
      {"id": "live", "kind": "live_chat", "text": "Connecting you",
       "fallback": {"text": "Nobody is free right now.", "offer_meeting": true, "next": "bye"}},
      {"id": "more", "kind": "flow", "flow_id": "pricing-faq", "next": "bye"},
      {"id": "bye", "kind": "end", "text": "Thanks!"}
    ]})"));
  REQUIRE(checked.value);
  return *checked.value;
}

cursor fresh() {
  cursor c;
  c.flow = flow_kind::dialogue;
  c.flow_id = "welcome";
  c.flow_version = 3;
  return c;
}

// What the bot said, in order.
std::vector<std::string> said(const step_result& r) {
  std::vector<std::string> out;
  for (const auto& o : r.outputs)
    if (auto* m = std::get_if<out::bot_message>(&o)) out.push_back(m->text);
  return out;
}

template <class Output>
std::vector<Output> all_of(const step_result& r) {
  std::vector<Output> out;
  for (const auto& o : r.outputs)
    if (auto* x = std::get_if<Output>(&o)) out.push_back(*x);
  return out;
}

struct walk {
  dialogue::definition d = demo();
  lead visitor;
  std::vector<std::string> blocked{"gmail.com"};
  context ctx{nullptr, agent_availability::unknown, 1'000, &d, 0, &blocked};
  cursor at = fresh();

  step_result feed(const input& what) {
    auto r = step(at, what, ctx);
    at = r.cursor;
    return r;
  }
};

using lines = std::vector<std::string>;

} // namespace

TEST_CASE("a dialogue from its start to a live agent, card by card", "[engine][dialogue]") {
  walk w;
  auto r = w.feed(in::started{});
  CHECK(said(r) == lines{"Hi there!", "What brings you here?"});
  auto question = all_of<out::bot_message>(r).back();
  REQUIRE(question.options.size() == 3);
  CHECK(question.options[0].label == "Search Engine Optimization");
  CHECK(question.options[0].value == "SEO");
  CHECK(w.at.card == "ask");
  CHECK_FALSE(w.at.engaged);

  r = w.feed(in::choice{"SEO"});
  CHECK(w.at.engaged);
  auto set = all_of<out::set_attribute>(r);
  REQUIRE(set.size() == 1);
  CHECK(set[0].name == "interest");
  CHECK(set[0].value == "SEO");
  auto capture = all_of<out::bot_message>(r).at(0);
  CHECK(capture.text == "Your email?");
  CHECK(capture.input_kind == "email");
  CHECK(capture.placeholder == "you@company.com");
  CHECK(w.at.card == "email");

  // Answers that do not fit are asked again, with why.
  r = w.feed(in::visitor_text{"not an email"});
  CHECK(said(r) == lines{"That does not look like an email address.", "Your email?"});
  CHECK(w.at.card == "email");
  r = w.feed(in::visitor_text{"ann@GMAIL.com"});
  CHECK(said(r) == lines{"Please use your work email address.", "Your email?"});

  // A valid one: stored, known from now on, so the branch takes the known rule; the
  // action's token reads what was just captured; the goal completes; the meeting card
  // falls back to live chat (no booking yet), which hands over.
  r = w.feed(in::visitor_text{" ann@acme.example "});
  set = all_of<out::set_attribute>(r);
  REQUIRE(set.size() == 3);
  CHECK(set[0].name == "email");
  CHECK(set[0].value == "ann@acme.example");
  CHECK(set[1].name == "lastChatEmail");
  CHECK(set[1].value == "ann@acme.example");
  CHECK(set[2].name == "leadSource");
  auto goals = all_of<out::goal>(r);
  REQUIRE(goals.size() == 1);
  CHECK(goals[0].name == "qualified");
  CHECK(goals[0].score == 2);
  CHECK(w.at.completed);
  std::vector<std::string> activities;
  for (auto& a : all_of<out::activity>(r)) activities.push_back(a.kind);
  CHECK(activities == lines{"email_captured", "goal_reached"});
  // The meeting card asks for times and waits for them; with none, its fallback follows.
  REQUIRE(all_of<out::ask_slots>(r).size() == 1);
  CHECK(all_of<out::ask_slots>(r)[0].routing_hint == "round_robin");
  CHECK(w.at.card == "meet");
  CHECK(said(r).empty());
  r = w.feed(in::slots_found{});
  CHECK(all_of<out::hand_over>(r).size() == 1);
  CHECK(said(r) == lines{"Connecting you"});
  CHECK(w.at.card == "live");
  CHECK(w.at.handed_over);
  activities.clear();
  for (auto& a : all_of<out::activity>(r)) activities.push_back(a.kind);
  CHECK(activities == lines{"livechat_requested"});

  // Text for the agent is not the dialogue's; the chat's end ends the dialogue.
  CHECK(w.feed(in::visitor_text{"hello?"}).outputs.empty());
  r = w.feed(in::agent_joined{"a1", "Bob"});
  REQUIRE(all_of<out::notice>(r).size() == 1);
  r = w.feed(in::chat_ended{"agent_ended", "Bob"});
  CHECK(w.at.finished);
  CHECK(w.at.card.empty());
  CHECK(w.feed(in::visitor_text{"one more thing"}).outputs.empty());
}

TEST_CASE("a choice that is not an option is refused and the question asked again", "[engine][dialogue]") {
  walk w;
  w.feed(in::started{});
  auto r = w.feed(in::choice{"Search Engine Optimization"}); // the label, not the value
  REQUIRE(all_of<out::reject>(r).size() == 1);
  CHECK(all_of<out::reject>(r)[0].code == protocol::error_code::bad_value);
  CHECK(said(r) == lines{"What brings you here?"});
  CHECK(w.at.card == "ask");
  CHECK_FALSE(w.at.engaged);
}

TEST_CASE("typing a button's label chooses it, and other text asks again", "[engine][dialogue]") {
  walk w;
  w.feed(in::started{});
  auto r = w.feed(in::visitor_text{"maybe"});
  CHECK(said(r) == lines{"Please choose one of the options.", "What brings you here?"});
  r = w.feed(in::visitor_text{"  just LOOKING "});
  CHECK(said(r) == lines{"Thanks!"});
  CHECK(w.at.finished);
  CHECK(w.at.answers.at("card:ask") == "Just looking");
}

TEST_CASE("a known visitor is greeted by name and skips the email they gave", "[engine][dialogue]") {
  walk w;
  w.visitor = {true, {{"firstName", "Ann"}, {"email", "ann@acme.example"}}};
  w.ctx.visitor_lead = &w.visitor;
  auto r = w.feed(in::started{});
  CHECK(said(r).at(0) == "Hi Ann!");
  r = w.feed(in::choice{"Ads"});
  // when_known: skip — straight on to the known branch, the action, the goal, and the meeting.
  CHECK(all_of<out::goal>(r).size() == 1);
  CHECK(w.at.card == "meet");
}

TEST_CASE("with nobody available the live-chat card gives its fallback", "[engine][dialogue]") {
  walk w;
  w.ctx.agents = agent_availability::none_available;
  w.feed(in::started{});
  w.feed(in::choice{"Ads"});
  auto r = w.feed(in::visitor_text{"ann@acme.example"});
  CHECK(all_of<out::hand_over>(r).empty());
  r = w.feed(in::slots_found{}); // the meeting card: nobody has a time
  CHECK(all_of<out::hand_over>(r).empty());
  CHECK(said(r) == lines{"Nobody is free right now."});
  // "Book a meeting instead": the times are asked for at the live_chat card.
  REQUIRE(all_of<out::ask_slots>(r).size() == 1);
  CHECK(w.at.card == "live");
  CHECK(waits_for_booking(w.at, w.ctx));
  r = w.feed(in::slots_found{}); // none either: the fallback goes on
  CHECK(said(r) == lines{"Thanks!"});
  CHECK(w.at.finished);
}

TEST_CASE("an anonymous visitor with agents free takes the agent rule, and with availability unknown the default",
          "[engine][dialogue]") {
  auto after_email = [](agent_availability agents) {
    walk w;
    w.ctx.agents = agents;
    // A capture that is skipped for nobody: replace the email card's branch input by an anonymous path.
    w.d.cards[2].capture.kind = dialogue::capture_kind::text;
    w.d.cards[2].capture.attribute = "comment";
    w.feed(in::started{});
    w.feed(in::choice{"Ads"});
    return w.feed(in::visitor_text{"just curious"});
  };
  auto with_agents = after_email(agent_availability::some_available);
  CHECK(all_of<out::hand_over>(with_agents).size() == 1);
  auto unknown = after_email(agent_availability::unknown);
  CHECK(all_of<out::hand_over>(unknown).empty());
  auto doc = all_of<out::bot_message>(unknown);
  REQUIRE(doc.size() == 2); // the document, then the end (the embedded flow is passed over)
  CHECK(doc[0].link == "https://example.com/guide.pdf");
  CHECK(doc[1].text == "Thanks!");
}

TEST_CASE("the response delay types before every bot message", "[engine][dialogue]") {
  walk w;
  w.ctx.response_delay_ms = 1500;
  auto r = w.feed(in::started{});
  REQUIRE(r.outputs.size() == 4);
  CHECK(std::get<out::typing>(r.outputs[0]).delay_ms == 1500);
  CHECK(std::holds_alternative<out::bot_message>(r.outputs[1]));
  CHECK(std::get<out::typing>(r.outputs[2]).delay_ms == 1500);
  CHECK(std::holds_alternative<out::bot_message>(r.outputs[3]));
}

TEST_CASE("there is no going back: a second start does nothing, and neither does the end", "[engine][dialogue]") {
  walk w;
  w.feed(in::started{});
  w.feed(in::choice{"Ads"});
  CHECK(w.feed(in::started{}).outputs.empty());
  CHECK(w.at.card == "email");
  auto r = w.feed(in::choice{"Ads"}); // the question is behind: nothing to choose now
  CHECK(all_of<out::reject>(r).at(0).code == protocol::error_code::unsupported);
}

TEST_CASE("a dialogue cursor survives its encoding, finished mark included", "[engine][dialogue]") {
  walk w;
  w.feed(in::started{});
  w.feed(in::visitor_text{"Just looking"});
  REQUIRE(w.at.finished);
  auto back = decode_cursor(encode(w.at));
  REQUIRE(back);
  CHECK(*back == w.at);
}

TEST_CASE("a dialogue whose version is not at hand carries on as a live chat", "[engine][dialogue]") {
  walk w;
  w.ctx.dialogue = nullptr;
  auto r = w.feed(in::started{});
  CHECK(all_of<out::hand_over>(r).size() == 1);
}

TEST_CASE("email addresses: the common form passes, the rest is asked again", "[engine][dialogue]") {
  const char* good[] = {"ann@acme.example", "a.b+tag@sub.acme.co", "o'neil@acme-corp.io", "x_y@a.bc"};
  const char* bad[] = {"ann@gmail.com?", "ann@acme.example/x", "ann@acme.example!", ".a@x.io", "a..b@x.io", "a.@x.io",
                       "ann@-acme.io", "ann@acme", "ann@acme.c0m", "ann@@acme.io", "ann acme@x.io", "ann\u0001@x.io",
                       "@acme.io", "ann@acme..io"};
  for (const char* email : good) {
    CAPTURE(email);
    walk w;
    w.feed(in::started{});
    w.feed(in::choice{"Ads"});
    w.feed(in::visitor_text{email});
    CHECK(w.at.card != "email");
  }
  for (const char* email : bad) {
    CAPTURE(email);
    walk w;
    w.feed(in::started{});
    w.feed(in::choice{"Ads"});
    auto r = w.feed(in::visitor_text{email});
    CHECK(w.at.card == "email");
    CHECK(said(r).back() == "Your email?");
  }
}

TEST_CASE("a goal and an email are counted once, however often a loop passes them", "[engine][dialogue]") {
  auto checked = dialogue::decode(nlohmann::json::parse(R"({
    "name": "loop", "priority": 1, "start": "g",
    "cards": [
      {"id": "g", "kind": "goal", "name": "seen", "next": "e"},
      {"id": "e", "kind": "capture", "text": "Email?", "capture": "email", "next": "q"},
      {"id": "q", "kind": "question", "text": "Again?", "answers": [{"label": "yes", "next": "g"}, {"label": "no", "next": "end"}]},
      {"id": "end", "kind": "end"}]})"));
  INFO((checked.problems.empty() ? "" : checked.problems[0].reason));
  REQUIRE(checked.value);
  walk w;
  w.d = *checked.value;
  std::size_t goals = 0, acquired = 0;
  auto count = [&](const step_result& r) {
    goals += all_of<out::goal>(r).size();
    for (auto& a : all_of<out::activity>(r)) acquired += a.kind == "email_captured";
  };
  count(w.feed(in::started{}));
  count(w.feed(in::visitor_text{"ann@acme.example"}));
  count(w.feed(in::choice{"yes"}));
  count(w.feed(in::visitor_text{"ann@acme.example"}));
  CHECK(goals == 1);
  CHECK(acquired == 1);
}

TEST_CASE("tokens render in option labels and placeholders too", "[engine][dialogue]") {
  walk w;
  w.visitor = {false, {{"firstName", "Ann"}}};
  w.ctx.visitor_lead = &w.visitor;
  w.d.cards[1].answers[0].label = "Yes, {{lead.firstName:\"friend\"}}";
  w.d.cards[2].capture.placeholder = "{{lead.firstName}}@company.com";
  auto r = w.feed(in::started{});
  CHECK(all_of<out::bot_message>(r).back().options[0].label == "Yes, Ann");
  r = w.feed(in::choice{"SEO"});
  CHECK(all_of<out::bot_message>(r).back().placeholder == "Ann@company.com");
}

TEST_CASE("a field an action builds from itself in a loop stays bounded", "[engine][dialogue]") {
  auto checked = dialogue::decode(nlohmann::json::parse(R"({
    "name": "grow", "priority": 1, "start": "act",
    "cards": [
      {"id": "act", "kind": "action", "set": {"x": "{{lead.x:\"aaaaaaaaaa\"}}{{lead.x}}{{lead.x}}{{lead.x}}"}, "next": "q"},
      {"id": "q", "kind": "question", "text": "{{lead.x}}{{lead.x}}", "answers": [{"label": "again", "next": "act"}]}]})"));
  REQUIRE(checked.value);
  walk w;
  w.d = *checked.value;
  w.feed(in::started{});
  for (int i = 0; i < 8; ++i) {
    auto r = w.feed(in::choice{"again"});
    for (auto& s : all_of<out::set_attribute>(r)) CHECK(s.value.size() <= 255);
    for (auto& m : all_of<out::bot_message>(r)) CHECK(m.text.size() <= 4000);
  }
  CHECK(w.at.answers.at("field:x").size() <= 255);
}

TEST_CASE("while a live-chat card waits in line, the fallback takes over and the request is withdrawn",
          "[engine][dialogue]") {
  walk w;
  w.feed(in::started{});
  w.feed(in::choice{"SEO"});
  w.feed(in::visitor_text{"ann@acme.example"});
  w.feed(in::slots_found{}); // the meeting card's fallback: live chat
  REQUIRE(w.at.handed_over);
  auto r = w.feed(in::none_available{3});
  CHECK(all_of<out::withdraw>(r).size() == 1);
  CHECK(std::holds_alternative<out::withdraw>(r.outputs.front())); // before anything is said
  CHECK(said(r) == lines{"Nobody is free right now."});
  CHECK(all_of<out::ask_slots>(r).size() == 1); // a meeting instead
  CHECK(all_of<out::notice>(r).empty()); // no "number 3 in line"
  CHECK_FALSE(w.at.handed_over);
  CHECK(said(w.feed(in::slots_found{})) == lines{"Thanks!"});
  CHECK(w.at.finished);
  // Outside a live-chat card the place in line is told, as in a live chat.
  walk other;
  other.feed(in::started{});
  CHECK(all_of<out::notice>(other.feed(in::none_available{2})).size() == 1);
}

TEST_CASE("a resumed conversation is asked its card again, and nothing else is", "[engine][dialogue]") {
  walk w;
  w.feed(in::started{});
  auto r = w.feed(in::resumed{});
  CHECK(said(r) == lines{"What brings you here?"});
  CHECK(all_of<out::bot_message>(r).at(0).options.size() == 3);
  CHECK(r.cursor == w.at); // asking again changes nothing
  w.feed(in::choice{"SEO"});
  CHECK(all_of<out::bot_message>(w.feed(in::resumed{})).at(0).input_kind == "email");
  // At the meeting card, before its times came: they are asked for again.
  w.feed(in::visitor_text{"ann@acme.example"});
  REQUIRE(w.at.card == "meet");
  CHECK(all_of<out::ask_slots>(w.feed(in::resumed{})).size() == 1);
  // Handed over, or finished: nothing to ask.
  w.feed(in::slots_found{});
  REQUIRE(w.at.handed_over);
  CHECK(w.feed(in::resumed{}).outputs.empty());
  walk done;
  done.feed(in::started{});
  done.feed(in::choice{"Just looking"});
  REQUIRE(done.at.finished);
  CHECK(done.feed(in::resumed{}).outputs.empty());
}

TEST_CASE("the label of a choice is what the visitor saw, and only offered values have one", "[engine][dialogue]") {
  walk w;
  CHECK_FALSE(choice_label(w.at, "SEO", w.ctx)); // before the start
  w.feed(in::started{});
  CHECK(waits_for_answer(w.at, w.ctx));
  CHECK(choice_label(w.at, "SEO", w.ctx) == "Search Engine Optimization");
  CHECK(choice_label(w.at, "Ads", w.ctx) == "Ads"); // the value defaults to the label
  CHECK_FALSE(choice_label(w.at, "Search Engine Optimization", w.ctx)); // a label is not a value
  CHECK_FALSE(choice_label(w.at, "", w.ctx));
  w.feed(in::choice{"SEO"});
  CHECK(waits_for_answer(w.at, w.ctx)); // the capture
  CHECK_FALSE(choice_label(w.at, "SEO", w.ctx)); // a capture without a picklist offers nothing
  // Without its definition nothing is known of the card.
  auto bare = w.ctx;
  bare.dialogue = nullptr;
  CHECK_FALSE(waits_for_answer(w.at, bare));
}

TEST_CASE("a dialogue whose audience asks for page events starts only once the page reports them", "[engine][dialogue]") {
  auto checked = dialogue::decode(nlohmann::json::parse(R"({
    "name": "Patient", "priority": 1, "start": "hi",
    "audience": {"events": {"time_on_page_s": 10, "scroll_pct": 50}},
    "cards": [{"id": "hi", "kind": "message", "text": "Still reading?", "next": "bye"},
              {"id": "bye", "kind": "end", "text": "Bye"}]})"));
  REQUIRE(checked.value);
  CHECK(checked.value->audience.events.time_on_page_s == 10);
  const auto d = *checked.value;
  context ctx{nullptr, agent_availability::unknown, 1'000, &d, 0, nullptr};
  cursor at = fresh();
  auto feed = [&](const input& what) {
    auto r = step(at, what, ctx);
    at = r.cursor;
    return r;
  };
  CHECK(feed(in::started{}).outputs.empty()); // waits for the page
  CHECK(at.start_asked);
  CHECK(feed(in::page_event{"time_on_page_s", 12}).outputs.empty()); // one of two
  CHECK(feed(in::page_event{"scroll_pct", 30}).outputs.empty());     // not far enough
  CHECK(feed(in::page_event{"time_on_page_s", 3}).outputs.empty());  // lower values never undo higher ones
  CHECK(at.answers.at("event:time_on_page_s") == "12");
  auto r = feed(in::page_event{"scroll_pct", 75});
  CHECK(said(r) == lines{"Still reading?", "Bye"});
  CHECK(at.started_shown);
  CHECK(feed(in::page_event{"scroll_pct", 100}).outputs.empty()); // shown once
  CHECK(all_of<out::reject>(feed(in::page_event{"mouse_moves", 1})).size() == 1);
  // The cursor keeps what the page reported: a restart waits for no more than what is missing.
  cursor half = fresh();
  half = step(half, in::started{}, ctx).cursor;
  half = step(half, in::page_event{"scroll_pct", 60}, ctx).cursor;
  auto back = decode_cursor(encode(half));
  REQUIRE(back);
  CHECK(*back == half);
  CHECK(said(step(*back, in::page_event{"time_on_page_s", 10}, ctx)) == lines{"Still reading?", "Bye"});
  // Events the page reports before the conversation opened count once it does.
  cursor early = fresh();
  early = step(early, in::page_event{"time_on_page_s", 20}, ctx).cursor;
  early = step(early, in::page_event{"scroll_pct", 90}, ctx).cursor;
  CHECK(said(step(early, in::started{}, ctx)) == lines{"Still reading?", "Bye"});
  // Thresholds out of range are refused at save.
  auto bad = dialogue::decode(nlohmann::json::parse(R"({"name": "x", "priority": 1, "start": "e",
    "audience": {"events": {"scroll_pct": 101, "time_on_page_s": 0, "clicks": 1}},
    "cards": [{"id": "e", "kind": "end"}]})"));
  std::set<std::string> paths;
  for (auto& p : bad.problems) paths.insert(p.path);
  CHECK(paths == std::set<std::string>{"audience.events.scroll_pct", "audience.events.time_on_page_s", "audience.events.clicks"});
}
