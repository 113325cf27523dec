// The live-chat flow, input by input: what each input does from a fresh cursor and from
// one that has already handed over.
#include <catch2/catch.hpp>

#include "dynchat/engine/step.hpp"

using namespace dynchat::engine;
using dynchat::protocol::error_code;

namespace {

const context anonymous_now{nullptr, agent_availability::unknown, 1'000};

cursor handed_over() {
  cursor c;
  c.handed_over = true;
  return c;
}

template <class Output>
const Output& only(const step_result& r) {
  REQUIRE(r.outputs.size() == 1);
  REQUIRE(std::holds_alternative<Output>(r.outputs[0]));
  return std::get<Output>(r.outputs[0]);
}

} // namespace

TEST_CASE("a new live chat asks for an agent at once, and once", "[engine]") {
  auto first = step(cursor{}, in::started{}, anonymous_now);
  only<out::hand_over>(first);
  CHECK(first.cursor.handed_over);
  CHECK_FALSE(first.cursor.engaged);
  // Writing while the request stands asks again for nothing.
  auto said = step(first.cursor, in::visitor_text{"hello"}, anonymous_now);
  CHECK(said.outputs.empty());
  CHECK(said.cursor.engaged);
}

TEST_CASE("writing into an ended live chat asks for an agent again", "[engine]") {
  auto ended = step(handed_over(), in::chat_ended{"agent_ended", "Ann"}, anonymous_now);
  CHECK(only<out::notice>(ended).text == "Ann ended the chat.");
  CHECK_FALSE(ended.cursor.handed_over);
  auto again = step(ended.cursor, in::visitor_text{"one more thing"}, anonymous_now);
  only<out::hand_over>(again);
  CHECK(again.cursor.handed_over);
}

TEST_CASE("every end reason has its line", "[engine]") {
  struct row {
    const char* reason;
    const char* agent;
    const char* text;
  };
  const row rows[] = {
    {"agent_ended", "", "The agent ended the chat."},
    {"inactive", "Ann", "The chat ended because nobody wrote for a while."},
    {"visitor_left", "Ann", "The visitor left the chat."},
    {"agent_removed", "Ann", "The agent is no longer available; the chat has ended."},
    {"flow", "", "The chat has ended."},
  };
  for (const auto& r : rows) {
    CAPTURE(r.reason);
    auto result = step(handed_over(), in::chat_ended{r.reason, r.agent}, anonymous_now);
    CHECK(only<out::notice>(result).text == r.text);
  }
}

TEST_CASE("an agent joining is announced with the agent's name and completes the flow", "[engine]") {
  auto joined = step(handed_over(), in::agent_joined{"a1", "Ann"}, anonymous_now);
  const auto& n = only<out::notice>(joined);
  CHECK(n.text == "Ann joined the chat.");
  CHECK(n.agent_name == "Ann");
  CHECK(joined.cursor.completed);
  CHECK(joined.cursor.handed_over);
}

TEST_CASE("waiting in line tells the visitor the place", "[engine]") {
  auto r = step(handed_over(), in::none_available{3}, anonymous_now);
  CHECK(only<out::notice>(r).text.find("You are number 3 in line") != std::string::npos);
  CHECK(r.cursor == handed_over());
}

TEST_CASE("live chat offers nothing to choose, capture or book", "[engine]") {
  CHECK(only<out::reject>(step(handed_over(), in::choice{"SEO", false}, anonymous_now)).code == error_code::unsupported);
  CHECK(only<out::reject>(step(handed_over(), in::choice{"slot-1", true}, anonymous_now)).text ==
        "this conversation offers no meeting slots");
  CHECK(only<out::reject>(step(handed_over(), in::capture{"a@b.c"}, anonymous_now)).code == error_code::unsupported);
}

TEST_CASE("inputs live chat has no use for change nothing", "[engine]") {
  const input quiet[] = {in::booking_result{true, "m1", {}}, in::agent_missed{},        in::lead_resolved{},
                         in::trigger{"pricing"},            in::page_event{"scroll_pct", 80}};
  for (const auto& from : {cursor{}, handed_over()}) {
    for (const auto& i : quiet) {
      CAPTURE(i.index());
      auto r = step(from, i, anonymous_now);
      CHECK(r.outputs.empty());
      CHECK(r.cursor == from);
    }
  }
}

TEST_CASE("a due timer is taken off the cursor", "[engine]") {
  cursor c = handed_over();
  c.timers = {{"nudge", 500}, {"later", 900}};
  auto r = step(c, in::timer_due{"nudge"}, anonymous_now);
  CHECK(r.outputs.empty());
  REQUIRE(r.cursor.timers.size() == 1);
  CHECK(r.cursor.timers[0].name == "later");
}

TEST_CASE("a cursor survives its encoding, and a corrupt one is refused", "[engine]") {
  cursor c;
  c.flow = flow_kind::dialogue;
  c.flow_id = "d1";
  c.flow_version = 4;
  c.card = "ask-email";
  c.answers = {{"interest", "SEO"}};
  c.timers = {{"nudge", 123}};
  c.engaged = c.completed = c.handed_over = true;
  const auto bytes = encode(c);
  REQUIRE(decode_cursor(bytes) == c);
  CHECK(decode_cursor("") == cursor{}); // conversations stored before cursors existed
  CHECK_FALSE(decode_cursor(bytes.substr(0, bytes.size() - 3)));
  auto future = bytes;
  future[0] = 9;
  CHECK_FALSE(decode_cursor(future));
  auto bad_flow = bytes;
  bad_flow[2] = 7; // the flow kind, first in the array
  CHECK_FALSE(decode_cursor(bad_flow));
}
