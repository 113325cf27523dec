// Booking a meeting through the engine: a meeting card asks for times, shows them, books
// one of them only, offers fresh times when its slot was taken, writes the agent into the
// lead, and a live agent's shared times are booked the same way.
#include <catch2/catch.hpp>

#include "dynchat/dialogue/validate.hpp"
#include "dynchat/engine/step.hpp"

using namespace dynchat;
using namespace dynchat::engine;

namespace {

dialogue::definition booking_dialogue() {
  auto checked = dialogue::decode(nlohmann::json::parse(R"({
    "name": "Book", "priority": 1, "start": "meet",
    "cards": [
      {"id": "meet", "kind": "meeting", "text": "When suits you?", "routing": "agent",
       "agent_id": "0123456789abcdef0123456789abcdef",
       "agent_fields": {"name": "salesRep", "email": "salesRepEmail"}, "next": "bye", "fallback": "sorry"},
      {"id": "sorry", "kind": "end", "text": "Nobody can meet soon."},
      {"id": "bye", "kind": "end", "text": "See you then!"}
    ]})"));
  REQUIRE(checked.value);
  return *checked.value;
}

const std::string agent = "0123456789abcdef0123456789abcdef";
std::string slot(std::int64_t start_ms) { return agent + ":" + std::to_string(start_ms); }

// 2026-12-07 09:00 and 09:30 UTC.
constexpr std::int64_t nine = 1'796'634'000'000, half_past = nine + 1'800'000;

in::slots_found two_times() { return {agent, "Ann", {{slot(nine), nine, half_past}, {slot(half_past), half_past, half_past + 1'800'000}}}; }

struct booking_walk {
  dialogue::definition d = booking_dialogue();
  context ctx{nullptr, agent_availability::unknown, 1'000, &d, 0, nullptr, "Europe/Berlin"};
  cursor at = [] {
    cursor c;
    c.flow = flow_kind::dialogue;
    c.flow_id = "book";
    return c;
  }();
  step_result feed(const input& what) {
    auto r = step(at, what, ctx);
    at = r.cursor;
    return r;
  }
};

template <class Output>
std::vector<Output> all_of(const step_result& r) {
  std::vector<Output> out;
  for (const auto& o : r.outputs)
    if (auto* x = std::get_if<Output>(&o)) out.push_back(*x);
  return out;
}

} // namespace

TEST_CASE("a meeting card shows the times found and books only one it showed", "[engine][meetings]") {
  booking_walk w;
  auto r = w.feed(in::started{});
  auto asked = all_of<out::ask_slots>(r);
  REQUIRE(asked.size() == 1);
  CHECK(asked[0].routing_hint == "agent");
  CHECK(asked[0].agent_id == agent);
  CHECK(waits_for_booking(w.at, w.ctx));
  CHECK_FALSE(slot_label(w.at, slot(nine), w.ctx)); // nothing shown yet

  r = w.feed(two_times());
  auto shown = all_of<out::bot_message>(r);
  REQUIRE(shown.size() == 1);
  CHECK(shown[0].text == "When suits you?");
  CHECK(shown[0].slots_agent == "Ann");
  REQUIRE(shown[0].slots.size() == 2);
  CHECK(shown[0].slots[1].id == slot(half_past));
  // The transcript shows a chosen time in the visitor's zone.
  CHECK(slot_label(w.at, slot(nine), w.ctx) == "Mon 7 Dec 2026, 10:00 (Europe/Berlin)");

  // A time it did not show is refused, and fresh times are asked for.
  r = w.feed(in::choice{slot(nine + 3'600'000), true});
  REQUIRE(all_of<out::reject>(r).size() == 1);
  CHECK(all_of<out::reject>(r)[0].code == protocol::error_code::bad_value);
  CHECK(all_of<out::ask_slots>(r).size() == 1);
  CHECK(all_of<out::book>(r).empty());

  w.feed(two_times());
  r = w.feed(in::choice{slot(nine), true});
  auto booked = all_of<out::book>(r);
  REQUIRE(booked.size() == 1);
  CHECK(booked[0].slot_id == slot(nine));
  CHECK(booked[0].routing_hint == "agent");
  // While it books, a second time is refused: one meeting per card.
  r = w.feed(in::choice{slot(half_past), true});
  REQUIRE(all_of<out::reject>(r).size() == 1);
  CHECK(all_of<out::reject>(r)[0].code == protocol::error_code::busy);

  r = w.feed(in::booking_result{true, "m1", {}, "Ann", "ann@acme.example", nine});
  auto fields = all_of<out::set_attribute>(r);
  REQUIRE(fields.size() == 2);
  CHECK(fields[0].name == "salesRep");
  CHECK(fields[0].value == "Ann");
  CHECK(fields[1].name == "salesRepEmail");
  CHECK(fields[1].value == "ann@acme.example");
  auto said = all_of<out::bot_message>(r);
  REQUIRE(said.size() == 2);
  CHECK(said[0].text == "You're booked with Ann on Mon 7 Dec 2026, 10:00 (Europe/Berlin). The invitation is on its way to your email.");
  CHECK(said[1].text == "See you then!");
  REQUIRE(all_of<out::activity>(r).size() == 1);
  CHECK(all_of<out::activity>(r)[0].kind == "meeting_booked");
  CHECK(w.at.completed);
  CHECK(w.at.finished);
  // Booked and gone on: the times are no longer choosable.
  CHECK(all_of<out::reject>(w.feed(in::choice{slot(half_past), true})).size() == 1);
}

TEST_CASE("a slot taken meanwhile gets an apology and fresh times", "[engine][meetings]") {
  booking_walk w;
  w.feed(in::started{});
  w.feed(two_times());
  w.feed(in::choice{slot(nine), true});
  auto r = w.feed(in::booking_result{false, {}, "that time is no longer free", {}, {}, 0});
  CHECK(all_of<out::ask_slots>(r).size() == 1);
  REQUIRE(all_of<out::bot_message>(r).size() == 1);
  CHECK(all_of<out::bot_message>(r)[0].text == "Sorry, that time was just taken. Here are the times still free.");
  CHECK(w.at.card == "meet");
  CHECK_FALSE(w.at.finished);
  // A result nobody waits for changes nothing.
  const auto before = w.at;
  CHECK(w.feed(in::booking_result{true, "m2", {}, "Ann", {}, nine}).outputs.empty());
  CHECK(w.at == before);
}

TEST_CASE("a meeting card with no times takes its fallback", "[engine][meetings]") {
  booking_walk w;
  w.feed(in::started{});
  auto r = w.feed(in::slots_found{});
  REQUIRE(all_of<out::bot_message>(r).size() == 1);
  CHECK(all_of<out::bot_message>(r)[0].text == "Nobody can meet soon.");
  CHECK(w.at.finished);
}

TEST_CASE("typing at a meeting card asks for the times again and a restart keeps times shown", "[engine][meetings]") {
  booking_walk w;
  w.feed(in::started{});
  w.feed(two_times());
  auto r = w.feed(in::visitor_text{"tomorrow?"});
  CHECK(all_of<out::ask_slots>(r).size() == 1);
  w.feed(two_times());
  CHECK(w.feed(in::resumed{}).outputs.empty()); // the times shown are still bookable
  w.feed(in::choice{slot(nine), true});
  // A crash while booking: the answer never came, so the times are found again.
  CHECK(all_of<out::ask_slots>(w.feed(in::resumed{})).size() == 1);
  CHECK(all_of<out::book>(w.feed(in::choice{slot(nine), true})).size() == 1); // still offered: booked
}

TEST_CASE("times a live agent shares are booked in a live chat", "[engine][meetings]") {
  cursor at; // live chat
  context ctx;
  ctx.time_zone = "America/New_York";
  auto r = step(at, in::slots_found{agent, "Bob", {{slot(nine), nine, half_past}}, true}, ctx);
  auto shown = all_of<out::bot_message>(r);
  REQUIRE(shown.size() == 1);
  CHECK(shown[0].slots.size() == 1);
  at = r.cursor;
  CHECK(slot_label(at, slot(nine), ctx) == "Mon 7 Dec 2026, 04:00 (America/New_York)");
  r = step(at, in::choice{slot(nine), true}, ctx);
  REQUIRE(all_of<out::book>(r).size() == 1);
  CHECK(all_of<out::book>(r)[0].routing_hint == "agent");
  at = r.cursor;
  r = step(at, in::booking_result{true, "m9", {}, "Bob", {}, nine}, ctx);
  REQUIRE(all_of<out::bot_message>(r).size() == 1);
  CHECK(all_of<out::activity>(r).at(0).kind == "meeting_booked");
  at = r.cursor;
  // Shared times are booked once: the list is gone with the booking.
  CHECK(all_of<out::reject>(step(at, in::choice{slot(nine), true}, ctx)).size() == 1);
  // Nothing shared: a live chat still offers no slots.
  CHECK(all_of<out::reject>(step(cursor{}, in::choice{slot(nine), true}, ctx)).size() == 1);
}
