#pragma once
// The conversation engine: step(cursor, input, context) -> {outputs, cursor}. Pure: it
// reads no clock, no store and no socket; the visitor_session feeds it inputs as they
// happen and carries out its outputs, in order.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "dynchat/dialogue/model.hpp"
#include "dynchat/engine/cursor.hpp"
#include "dynchat/protocol/error_code.hpp"

namespace dynchat::engine {

// ---- inputs ----
namespace in {
struct started {};                       // the conversation opened
struct visitor_text { std::string text; }; // the visitor wrote while no agent holds the chat
struct choice { std::string value; bool is_slot = false; }; // an option's value, or a meeting slot's id
struct capture { std::string value; };   // the answer to a capture card
/// What the scheduler answered a `book`: the meeting, or why not (the slot is gone).
struct booking_result {
  bool booked = false;
  std::string meeting_id;
  std::string reason;
  std::string agent_name, agent_email;
  std::int64_t start_ms = 0;
};
struct timer_due { std::string name; };
struct agent_joined { std::string agent_id; std::string agent_name; };
struct chat_ended { std::string reason; std::string agent_name; }; // the agent left, or the chat ended
struct agent_missed {};                   // an offer ran out or was declined; the request stands
struct none_available { std::uint32_t place_in_line = 0; }; // every agent is busy: waiting in line
struct lead_resolved {};                  // the visitor became known (context.lead has them now)
struct trigger { std::string flow_name; }; // the page started a named flow
struct page_event { std::string kind; std::int64_t value = 0; }; // time_on_page_s, scroll_pct, ...
/// The conversation came back from the store, and its newest message is not the prompt of
/// the card it waits at (a crash came between the step and the bot's reply): ask again.
struct resumed {};
/// The free slots an `ask_slots` found (none: nobody is eligible). `shared`: a live agent
/// shared them into the chat rather than a card asking.
struct slots_found {
  std::string agent_id, agent_name;
  struct slot { std::string id; std::int64_t start_ms = 0, end_ms = 0; };
  std::vector<slot> slots;
  bool shared = false;
};
} // namespace in

using input = std::variant<in::started, in::visitor_text, in::choice, in::capture, in::booking_result, in::timer_due,
                           in::agent_joined, in::chat_ended, in::agent_missed, in::none_available, in::lead_resolved,
                           in::trigger, in::page_event, in::resumed, in::slots_found>;

// ---- context ----
struct lead {
  bool known = false;
  std::map<std::string, std::string> attributes;
};

enum class agent_availability : std::uint8_t { unknown, some_available, none_available };

struct context {
  const lead* visitor_lead = nullptr; // null: anonymous, no attributes
  agent_availability agents = agent_availability::unknown;
  std::int64_t now_ms = 0;
  const dialogue::definition* dialogue = nullptr; // a dialogue cursor's pinned version
  std::int64_t response_delay_ms = 0;             // the bot types this long before each message
  const std::vector<std::string>* blocked_email_domains = nullptr;
  std::string time_zone; // the visitor's, when their client said: how a booked time is shown
};

// ---- outputs ----
namespace out {
struct option { std::string label; std::string value; };
struct slot { std::string id; std::int64_t start_ms = 0; std::int64_t end_ms = 0; }; // `book` sends the id back
struct bot_message {
  std::string text;
  std::vector<option> options;
  std::string input_kind; // empty: no input expected; email | phone | text | picklist
  std::string placeholder;
  std::vector<slot> slots;
  std::string link; // a document card's address; the client reports its opening
  std::string slots_agent; // whose slots they are
};
struct notice { std::string text; std::string agent_name; }; // a system line in the transcript
struct typing { std::int64_t delay_ms = 0; }; // show typing, then wait before the next output
struct hand_over { std::string routing_hint; }; // ask the router for a live agent
struct withdraw {}; // nobody is available after all: the request for an agent is taken back
/// Free slots, from the agent named (routing "agent") or whoever's turn it is
/// ("round_robin", "rule"); answered with `slots_found`.
struct ask_slots { std::string routing_hint; std::string agent_id; };
struct book { std::string slot_id; std::string routing_hint; }; // round_robin moves the turn on
struct set_attribute { std::string name; std::string value; };
struct goal { std::string name; std::uint8_t score = 0; };
struct end { std::string reason; };
struct activity { std::string kind; std::string detail; };
/// The input is not one this conversation can take now: the sender gets this error.
struct reject { protocol::error_code code; std::string text; };
} // namespace out

using output = std::variant<out::bot_message, out::notice, out::typing, out::hand_over, out::ask_slots, out::book,
                            out::set_attribute, out::goal, out::end, out::activity, out::reject, out::withdraw>;

struct step_result {
  std::vector<output> outputs;
  engine::cursor cursor;
};

step_result step(const cursor& at, const input& what, const context& ctx);

/// What the transcript shows for choosing `value` now: the label of the current card's
/// answer (or picklist item) with that value. nullopt: not one of the options here.
std::optional<std::string> choice_label(const cursor& at, const std::string& value, const context& ctx);

/// What the transcript shows for booking `slot_id` now: its time in the visitor's zone.
/// nullopt: not one of the times offered here.
std::optional<std::string> slot_label(const cursor& at, const std::string& slot_id, const context& ctx);

/// The cursor is at a card where the visitor books a meeting.
bool waits_for_booking(const cursor& at, const context& ctx);

/// The cursor waits at a card that asks the visitor something (a question or a capture).
bool waits_for_answer(const cursor& at, const context& ctx);

} // namespace dynchat::engine
