// A marketer's dialogue, run card by card (docs/dialogues.md). The cursor holds the card
// the visitor is at (a question, a capture, a live chat: the cards that wait for them);
// every other card runs through at once. What the conversation learned (answers, the
// fields it set) is in the cursor's answers, so tokens and branches use it from the next
// card, before the lead record itself is updated.
#include <algorithm>
#include <cctype>

#include "dynchat/calendar/slots.hpp"
#include "dynchat/core/email.hpp"
#include "dynchat/dialogue/tokens.hpp"
#include "dynchat/targeting/audience.hpp"
#include "flows.hpp"

namespace dynchat::engine {
namespace {

using dialogue::card;
using dialogue::card_kind;
using protocol::error_code;

constexpr std::string_view field_prefix = "field:"; // a field this conversation set
constexpr std::size_t max_text_bytes = 4000;  // a rendered bot text
constexpr std::size_t max_field_bytes = 255;  // a field's value (what Marketo's string fields hold), a label
constexpr std::string_view card_prefix = "card:";   // the answer given at a card
constexpr std::string_view offered_prefix = "offered:"; // the slot ids a card showed, one per line
constexpr std::string_view booking_prefix = "booking:"; // the slot a card is booking now
constexpr std::string_view instead_prefix = "instead:"; // a live_chat card offers a meeting instead

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string trimmed(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return std::string{s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1)};
}


// 7 to 15 digits, with the usual separators and a leading +.
bool valid_phone(std::string_view s) {
  std::size_t digits = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (std::isdigit(static_cast<unsigned char>(c))) ++digits;
    else if (c == '+' && i == 0) continue;
    else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') return false;
  }
  return digits >= 7 && digits <= 15;
}

struct dialogue_run {
  const dialogue::definition& d;
  const context& ctx;
  cursor next;
  std::vector<output> outputs;
  std::map<std::string, std::string> fields; // the lead's, overlaid with what this conversation set

  dialogue_run(const dialogue::definition& definition, const context& c, const cursor& at)
    : d(definition), ctx(c), next(at) {
    if (ctx.visitor_lead) fields = ctx.visitor_lead->attributes;
    for (const auto& [key, value] : next.answers)
      if (key.rfind(field_prefix, 0) == 0) fields[key.substr(field_prefix.size())] = value;
  }

  const card* find(const std::string& id) const {
    auto it = std::find_if(d.cards.begin(), d.cards.end(), [&](const card& c) { return c.id == id; });
    return it == d.cards.end() ? nullptr : &*it;
  }
  const card* here() const { return next.card.empty() ? nullptr : find(next.card); }
  bool known() const {
    auto it = fields.find("email");
    return (ctx.visitor_lead && ctx.visitor_lead->known) || (it != fields.end() && !it->second.empty());
  }

  void say(out::bot_message m) {
    m.text = dialogue::render_tokens(m.text, fields);
    dialogue::cut_utf8(m.text, max_text_bytes);
    m.placeholder = dialogue::render_tokens(m.placeholder, fields);
    dialogue::cut_utf8(m.placeholder, max_field_bytes);
    for (auto& o : m.options) { // the value is what is stored: only the label renders
      o.label = dialogue::render_tokens(o.label, fields);
      dialogue::cut_utf8(o.label, max_field_bytes);
    }
    if (ctx.response_delay_ms > 0) outputs.push_back(out::typing{ctx.response_delay_ms});
    outputs.push_back(std::move(m));
  }
  void say(const std::string& text) { say(out::bot_message{text, {}, {}, {}, {}, {}}); }

  void set_field(const std::string& name, std::string value) {
    dialogue::cut_utf8(value, max_field_bytes);
    fields[name] = value;
    next.answers[std::string{field_prefix} + name] = value;
    outputs.push_back(out::set_attribute{name, value});
  }

  // What a waiting card shows: the question with its buttons, the capture with its input.
  void prompt(const card& c) {
    out::bot_message m{c.text, {}, {}, {}, {}, {}};
    if (c.kind == card_kind::question) {
      for (const auto& a : c.answers) m.options.push_back({a.label, a.value});
    } else if (c.kind == card_kind::capture) {
      static constexpr const char* kinds[] = {"email", "phone", "text", "text"};
      m.input_kind = c.capture.picklist.empty() ? kinds[static_cast<int>(c.capture.kind)] : "picklist";
      m.placeholder = c.capture.placeholder;
      for (const auto& choice : c.capture.picklist) m.options.push_back({choice, choice});
    }
    say(std::move(m));
  }

  void finish() {
    next.card.clear();
    next.finished = true;
    next.completed = true;
  }

  // Runs the cards from `id` until one waits for the visitor or the dialogue ends. A save
  // refuses loops that need no answer, so the guard only stops a version stored before a
  // check existed: it ends the dialogue, without counting it completed.
  void run_from(std::string id) {
    for (std::size_t steps = 0; steps <= d.cards.size(); ++steps) {
      if (id.empty()) return finish();
      const card* c = find(id);
      if (!c) return finish();
      std::string following = c->next;
      switch (c->kind) {
        case card_kind::message: say(c->text); break;
        case card_kind::question: next.card = id; return prompt(*c);
        case card_kind::capture: {
          auto it = fields.find(c->capture.attribute);
          const bool has_value = it != fields.end() && !it->second.empty();
          if (c->capture.when_known == dialogue::when_known::skip && has_value) break;
          next.card = id;
          return prompt(*c);
        }
        case card_kind::branch: following = choose(*c); break;
        case card_kind::action:
          for (const auto& [name, value] : c->set) set_field(name, dialogue::render_tokens(value, fields));
          break;
        case card_kind::goal:
          next.completed = true;
          // Reached once per conversation, however often a loop through a question passes it.
          if (next.answers.emplace("goal:" + c->goal, std::to_string(c->score)).second) {
            outputs.push_back(out::goal{c->goal, c->score});
            outputs.push_back(out::activity{"goal_reached", c->goal});
          }
          break;
        case card_kind::document: say(out::bot_message{c->text, {}, {}, {}, {}, c->url}); break;
        case card_kind::meeting:
          next.card = id;
          return ask_for_slots(*c);
        case card_kind::live_chat:
          if (ctx.agents == agent_availability::none_available) { // nobody could take it now
            say(c->nobody.text);
            if (c->nobody.offer_meeting) return offer_meeting_instead(*c);
            following = c->nobody.next;
            break;
          }
          if (!c->text.empty()) say(c->text);
          next.card = id;
          next.handed_over = true;
          outputs.push_back(out::hand_over{});
          outputs.push_back(out::activity{"livechat_requested", d.name});
          return;
        case card_kind::flow: break; // its flow's copy follows it (dialogue::embed_flows), or a draft's preview passes it over
        case card_kind::end:
          if (!c->text.empty()) say(c->text);
          return finish();
      }
      id = following;
    }
    next.card.clear();
    next.finished = true;
  }

  // ---- booking: a meeting card, or a live_chat card offering a meeting instead ----
  bool books_here(const card& c) const {
    return c.kind == card_kind::meeting ||
           (c.kind == card_kind::live_chat && next.answers.count(std::string{instead_prefix} + c.id));
  }
  static out::ask_slots slots_request(const card& c) {
    if (c.kind == card_kind::meeting && c.routing == dialogue::meeting_routing::agent) return {"agent", c.agent_id};
    if (c.kind == card_kind::meeting && c.routing == dialogue::meeting_routing::rule) return {"rule", {}};
    return {"round_robin", {}};
  }
  void ask_for_slots(const card& c) { outputs.push_back(slots_request(c)); }
  void offer_meeting_instead(const card& c) {
    next.card = c.id;
    next.answers[std::string{instead_prefix} + c.id] = "1";
    ask_for_slots(c);
  }
  bool offered(const card& c, const std::string& slot_id) const {
    auto it = next.answers.find(std::string{offered_prefix} + c.id);
    if (it == next.answers.end() || slot_id.empty()) return false;
    for (std::size_t at = 0; at < it->second.size();) {
      const auto end = std::min(it->second.find('\n', at), it->second.size());
      if (std::string_view{it->second}.substr(at, end - at) == slot_id) return true;
      at = end + 1;
    }
    return false;
  }
  // Done with booking at this card: booked, or nothing could be; the dialogue goes on.
  void leave_booking(const card& c, const std::string& following) {
    for (auto prefix : {offered_prefix, booking_prefix, instead_prefix}) next.answers.erase(std::string{prefix} + c.id);
    next.card.clear();
    run_from(following);
  }
  std::string after_booking(const card& c) const { return c.kind == card_kind::meeting ? c.next : c.nobody.next; }
  std::string without_slots(const card& c) const { return c.kind == card_kind::meeting ? c.fallback : c.nobody.next; }

  std::string choose(const card& branch) const {
    const targeting::lead_attributes attrs{fields.begin(), fields.end()};
    for (const auto& rule : branch.rules) {
      if (rule.known && *rule.known != known()) continue;
      if (rule.agents_available) {
        if (ctx.agents == agent_availability::unknown) continue; // not known: no promise either way
        if (*rule.agents_available != (ctx.agents == agent_availability::some_available)) continue;
      }
      if (rule.attributes && !targeting::holds(*rule.attributes, attrs)) continue;
      return rule.next;
    }
    return branch.next; // the default
  }

  void answered(const card& c, const std::string& value) {
    next.engaged = true;
    next.answers[std::string{card_prefix} + c.id] = value;
  }

  void choose_answer(const card& c, const dialogue::answer& a) {
    answered(c, a.value);
    if (!a.attribute.empty()) set_field(a.attribute, a.value);
    run_from(a.next);
  }

  // Free text at a capture card: stored if it fits, else asked again with the reason.
  void take_capture(const card& c, const std::string& raw) {
    const auto value = trimmed(raw);
    std::string problem;
    if (value.empty()) problem = "Please type an answer.";
    else if (value.size() > 255) problem = "Please keep it under 255 characters.";
    else if (!c.capture.picklist.empty() &&
             std::find(c.capture.picklist.begin(), c.capture.picklist.end(), value) == c.capture.picklist.end())
      problem = "Please pick one of the choices.";
    else if (c.capture.kind == dialogue::capture_kind::email) {
      if (!valid_email(value)) problem = "That does not look like an email address.";
      else if (ctx.blocked_email_domains) {
        const auto domain = lower(value.substr(value.find('@') + 1));
        for (const auto& blocked : *ctx.blocked_email_domains)
          if (domain == lower(blocked)) problem = "Please use your work email address.";
      }
    } else if (c.capture.kind == dialogue::capture_kind::phone && !valid_phone(value)) {
      problem = "That does not look like a phone number.";
    }
    if (!problem.empty()) {
      say(problem);
      return prompt(c); // asked again: never a dead end
    }
    answered(c, value);
    set_field(c.capture.attribute, value);
    // Acquired once per conversation: a loop back to the capture does not count it again.
    if (c.capture.kind == dialogue::capture_kind::email && next.answers.emplace("acquired:email", value).second)
      outputs.push_back(out::activity{"email_captured", value});
    run_from(c.next);
  }

  // The page's events the audience asks for, as the widget reported them (the highest
  // value of each, kept in the cursor: a refresh does not start them over).
  bool events_met() const {
    auto met = [&](const char* kind, std::uint32_t threshold) {
      if (threshold == 0) return true;
      auto it = next.answers.find(std::string{"event:"} + kind);
      return it != next.answers.end() && std::stoll(it->second) >= threshold;
    };
    const auto& e = d.audience.events;
    return met("time_on_page_s", e.time_on_page_s) && met("time_on_site_s", e.time_on_site_s) &&
           met("scroll_pct", e.scroll_pct);
  }
  void begin() {
    if (next.card.empty() && !next.finished && !next.started_shown) {
      next.started_shown = true;
      run_from(d.start);
    }
  }

  void operator()(const in::started&) {
    next.start_asked = true;
    if (events_met()) begin(); // else the page's events start it
  }
  void operator()(const in::choice& ch) {
    const card* c = here();
    if (ch.is_slot) return choose_slot(c, ch.value);
    if (c && c->kind == card_kind::question) {
      for (const auto& a : c->answers)
        if (a.value == ch.value) return choose_answer(*c, a);
      outputs.push_back(out::reject{error_code::bad_value, "that is not one of the options"});
      return prompt(*c);
    }
    if (c && c->kind == card_kind::capture && !c->capture.picklist.empty()) {
      const auto& items = c->capture.picklist;
      if (std::find(items.begin(), items.end(), ch.value) != items.end()) return take_capture(*c, ch.value);
      outputs.push_back(out::reject{error_code::bad_value, "that is not one of the choices"});
      return prompt(*c);
    }
    outputs.push_back(out::reject{error_code::unsupported, "there is nothing to choose now"});
  }
  void choose_slot(const card* c, const std::string& slot_id) {
    if (!c || next.handed_over || !books_here(*c)) {
      outputs.push_back(out::reject{error_code::unsupported, "there is no meeting time to choose now"});
      return;
    }
    if (next.answers.count(std::string{booking_prefix} + c->id)) {
      outputs.push_back(out::reject{error_code::busy, "a booking is in progress; wait for its answer"});
      return;
    }
    if (!offered(*c, slot_id)) { // not offered, or offered before the last fresh list
      outputs.push_back(out::reject{error_code::bad_value, "that time was not offered; the free times follow"});
      return ask_for_slots(*c);
    }
    next.engaged = true;
    next.answers[std::string{booking_prefix} + c->id] = slot_id;
    outputs.push_back(out::book{slot_id, slots_request(*c).routing_hint}); // the routing the times came by
  }
  void operator()(const in::visitor_text& t) {
    const card* c = here();
    if (!c || next.handed_over) return; // before the start, after the end, or for the agent
    if (books_here(*c)) {
      if (next.answers.count(std::string{booking_prefix} + c->id)) return; // its answer is coming
      say("Please pick one of the times.");
      return ask_for_slots(*c);
    }
    if (c->kind == card_kind::capture) return take_capture(*c, t.text);
    if (c->kind == card_kind::question) { // typing a button's label is choosing it
      const auto typed = lower(trimmed(t.text));
      for (const auto& a : c->answers)
        if (lower(a.label) == typed) return choose_answer(*c, a);
      say("Please choose one of the options.");
      return prompt(*c);
    }
  }
  void operator()(const in::capture& cap) {
    const card* c = here();
    if (c && c->kind == card_kind::capture) return take_capture(*c, cap.value);
    outputs.push_back(out::reject{error_code::unsupported, "this card asks for nothing"});
  }
  // The free times found for the card that asked (none: nobody is eligible, and the
  // card's fallback follows).
  void operator()(const in::slots_found& f) {
    const card* c = here();
    if (!c || next.handed_over || !books_here(*c) || next.answers.count(std::string{booking_prefix} + c->id)) return;
    if (f.slots.empty()) return leave_booking(*c, without_slots(*c));
    std::string ids;
    out::bot_message m{c->kind == card_kind::meeting ? c->text : "Pick a time for a meeting:", {}, {}, {}, {}, {}, f.agent_name};
    for (const auto& slot : f.slots) {
      (ids += slot.id) += '\n';
      m.slots.push_back({slot.id, slot.start_ms, slot.end_ms});
    }
    next.answers[std::string{offered_prefix} + c->id] = std::move(ids);
    say(std::move(m));
  }
  void operator()(const in::booking_result& r) {
    const card* c = here();
    if (!c || !books_here(*c) || !next.answers.erase(std::string{booking_prefix} + c->id)) return; // not asked here
    if (!r.booked) {
      say("Sorry, that time was just taken. Here are the times still free.");
      return ask_for_slots(*c);
    }
    answered(*c, r.meeting_id);
    if (!c->agent_name_attribute.empty()) set_field(c->agent_name_attribute, r.agent_name);
    if (!c->agent_email_attribute.empty()) set_field(c->agent_email_attribute, r.agent_email);
    next.completed = true;
    say("You're booked with " + r.agent_name + " on " + calendar::local_label(r.start_ms, ctx.time_zone) +
        ". The invitation is on its way to your email.");
    outputs.push_back(out::activity{"meeting_booked", r.meeting_id});
    leave_booking(*c, after_booking(*c));
  }
  void operator()(const in::timer_due& t) { drop_timer(next, t.name); }
  void operator()(const in::agent_joined& j) { engine::agent_joined(next, outputs, j); }
  void operator()(const in::chat_ended& e) {
    const bool was_live_chat = next.handed_over;
    next.handed_over = false;
    outputs.push_back(out::notice{ended_text(e.reason, e.agent_name), {}});
    if (was_live_chat) { // a live_chat card is last in its branch; completed only if an agent took it
      next.card.clear();
      next.finished = true;
    }
  }
  void operator()(const in::agent_missed&) {}
  // Every agent is busy (or the offers went unanswered): a live_chat card takes its
  // fallback rather than leave the visitor in line; elsewhere the visitor hears their place.
  void operator()(const in::none_available& n) {
    const card* c = here();
    if (c && c->kind == card_kind::live_chat && next.handed_over) {
      next.handed_over = false;
      outputs.push_back(out::withdraw{});
      outputs.push_back(out::activity{"livechat_missed", d.name});
      say(c->nobody.text);
      if (c->nobody.offer_meeting) return offer_meeting_instead(*c);
      next.card.clear();
      return run_from(c->nobody.next);
    }
    outputs.push_back(out::notice{in_line_text(n.place_in_line), {}});
  }
  void operator()(const in::lead_resolved&) {} // the lead's fields arrive in the context of the next step
  void operator()(const in::trigger&) {}
  void operator()(const in::page_event& e) {
    static constexpr std::string_view kinds[] = {"time_on_page_s", "time_on_site_s", "scroll_pct"};
    if (std::find(std::begin(kinds), std::end(kinds), e.kind) == std::end(kinds) || e.value < 0) {
      outputs.push_back(out::reject{error_code::bad_value, "an event is time_on_page_s, time_on_site_s or scroll_pct, with a value of 0 or more"});
      return;
    }
    if (next.started_shown) return; // shown already: nothing more to wait for
    auto& kept = next.answers["event:" + e.kind];
    if (kept.empty() || std::stoll(kept) < e.value) kept = std::to_string(std::min<std::int64_t>(e.value, 1'000'000'000));
    if (next.start_asked && events_met()) begin();
  }
  void operator()(const in::resumed&) {
    const card* c = here();
    if (!c || next.handed_over || next.finished) return;
    if (c->kind == card_kind::question || c->kind == card_kind::capture) return prompt(*c);
    // Times never found, or a booking in flight that was never answered (its slot may be
    // taken by now): the free times are asked for again. Times shown stay bookable.
    if (books_here(*c) && (next.answers.erase(std::string{booking_prefix} + c->id) ||
                           !next.answers.count(std::string{offered_prefix} + c->id)))
      ask_for_slots(*c);
  }
};

const card* current_card(const cursor& at, const context& ctx) {
  if (at.flow == flow_kind::live_chat || !ctx.dialogue || at.card.empty()) return nullptr;
  const auto& cards = ctx.dialogue->cards;
  auto it = std::find_if(cards.begin(), cards.end(), [&](const card& c) { return c.id == at.card; });
  return it == cards.end() ? nullptr : &*it;
}

} // namespace

std::optional<std::string> choice_label(const cursor& at, const std::string& value, const context& ctx) {
  const card* c = current_card(at, ctx);
  if (!c || at.handed_over) return std::nullopt;
  if (c->kind == card_kind::question) {
    for (const auto& a : c->answers)
      if (a.value == value) {
        dialogue_run run{*ctx.dialogue, ctx, at}; // the label as the visitor saw it: tokens rendered
        auto label = dialogue::render_tokens(a.label, run.fields);
        dialogue::cut_utf8(label, max_field_bytes);
        return label;
      }
  } else if (c->kind == card_kind::capture) {
    for (const auto& item : c->capture.picklist)
      if (item == value) return item;
  }
  return std::nullopt;
}

std::optional<std::string> slot_label(const cursor& at, const std::string& slot_id, const context& ctx) {
  if (auto shared = shared_slot_label(at, slot_id, ctx)) return shared;
  const card* c = current_card(at, ctx);
  if (!c || at.handed_over) return std::nullopt;
  dialogue_run run{*ctx.dialogue, ctx, at};
  const auto colon = slot_id.rfind(':');
  if (!run.books_here(*c) || !run.offered(*c, slot_id) || colon == std::string::npos) return std::nullopt;
  return calendar::local_label(std::stoll(slot_id.substr(colon + 1)), ctx.time_zone);
}

bool waits_for_booking(const cursor& at, const context& ctx) {
  const card* c = current_card(at, ctx);
  if (!c || at.handed_over || at.finished) return false;
  dialogue_run run{*ctx.dialogue, ctx, at};
  return run.books_here(*c);
}

bool waits_for_answer(const cursor& at, const context& ctx) {
  const card* c = current_card(at, ctx);
  return c && !at.handed_over && !at.finished && (c->kind == card_kind::question || c->kind == card_kind::capture);
}

step_result dialogue_step(const cursor& at, const input& what, const context& ctx) {
  dialogue_run run{*ctx.dialogue, ctx, at};
  std::visit(run, what);
  return {std::move(run.outputs), std::move(run.next)};
}

} // namespace dynchat::engine
