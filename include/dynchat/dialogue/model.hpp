#pragma once
// A dialogue as a marketer designs it: who it is for (the audience), and a graph of cards
// from `start`. Plain data: decoding and validation are in validate.hpp, running it is the
// conversation engine's. docs/dialogues.md describes the JSON form of every field.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dynchat::dialogue {

enum class card_kind { message, question, capture, branch, action, goal, document, meeting, live_chat, flow, end };

/// The operators of conditions on lead attributes (audiences and branches alike).
enum class op { is, is_not, contains, starts_with, greater_than, less_than, is_empty, is_not_empty };

struct condition {
  std::string attribute;
  dialogue::op op = op::is;
  std::string value; // empty for is_empty / is_not_empty
};

/// Conditions joined by all (every one holds) or any (one holds).
struct condition_group {
  bool all = true;
  std::vector<condition> conditions;
};

enum class visitor_kind { any, known, anonymous }; // known: the lead has an email

/// What the visitor must have done on the page before the dialogue shows; each is met
/// when the widget's `event` frame reports at least the threshold. None: it shows at once.
struct page_events {
  std::uint32_t time_on_page_s = 0; // 0: not asked
  std::uint32_t time_on_site_s = 0;
  std::uint32_t scroll_pct = 0;
  bool any() const { return time_on_page_s || time_on_site_s || scroll_pct; }
};

struct audience {
  page_events events;
  std::vector<std::string> urls;     // patterns, `*` in host and path; empty: every page
  std::vector<std::string> excluded; // patterns no page of it may match
  visitor_kind visitors = visitor_kind::any;
  bool all_groups = true; // groups joined by all or any
  std::vector<condition_group> groups;
};

/// A button of a question: the label the visitor sees, the value stored (the label when
/// not given), where it leads, and the lead attribute it writes, if any.
struct answer {
  std::string label;
  std::string value;
  std::string next;
  std::string attribute;
};

enum class capture_kind { email, phone, text, attribute };
enum class when_known { overwrite, skip }; // the attribute already has a value

struct capture {
  capture_kind kind = capture_kind::email;
  std::string attribute; // the lead attribute written ("email" for an email capture)
  std::string placeholder;
  std::vector<std::string> picklist; // empty: free text
  dialogue::when_known when_known = when_known::overwrite;
};

/// One way out of a branch card: every criterion given must hold.
struct branch_rule {
  std::optional<bool> known;            // the visitor is a known lead (or not)
  std::optional<bool> agents_available; // a live agent could take a chat now (or not)
  std::optional<condition_group> attributes;
  std::string next;
};

enum class meeting_routing { round_robin, agent, rule };

/// What a live_chat card does when nobody can take the chat.
struct live_chat_fallback {
  std::string text;
  bool offer_meeting = false; // "book a meeting instead"
  std::string next;           // the card that follows the fallback message, if any
};

struct card {
  std::string id;
  card_kind kind = card_kind::message;
  std::string text;   // what the bot says (every kind but branch, action, goal, flow)
  std::string next;   // the card after it; empty: the dialogue ends there
  std::vector<answer> answers;             // question
  dialogue::capture capture;               // capture
  std::vector<branch_rule> rules;          // branch (`next` is its default)
  std::map<std::string, std::string> set;  // action: attribute -> literal or token
  std::string goal;                        // goal: its name
  std::uint8_t score = 0;                  // goal: the conversation score 0-3
  std::string url;                         // document
  dialogue::meeting_routing routing = meeting_routing::round_robin; // meeting
  std::string agent_id;                    // meeting, routing agent
  std::string fallback;                    // meeting: the card when no slot can be booked
  std::string agent_name_attribute;        // meeting: the lead field the booked agent's name goes to
  std::string agent_email_attribute;       // meeting: the lead field the booked agent's email goes to
  live_chat_fallback nobody;               // live_chat
  std::string flow_id;                     // flow: the conversational flow it embeds
};

/// A dialogue is shown to the visitors its audience targets; a conversational flow is
/// started by the page (a `trigger` frame) or embedded by a dialogue's `flow` card, and
/// has no audience and no priority.
enum class definition_type { dialogue, flow };

struct definition {
  definition_type type = definition_type::dialogue;
  std::string name;
  std::string description;
  std::uint32_t priority = 1; // 1 is the highest; 0 for a flow
  dialogue::audience audience;
  std::string start;
  std::vector<card> cards;
};

std::string_view to_string(card_kind k) noexcept;
std::optional<card_kind> card_kind_from_string(std::string_view s) noexcept;
std::string_view to_string(op o) noexcept;
std::optional<op> op_from_string(std::string_view s) noexcept;

} // namespace dynchat::dialogue
