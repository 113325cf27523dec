// A marketer's dialogue, run card by card (docs/dialogues.md). The cursor holds the card
// the visitor is at (a question, a capture, a live chat: the cards that wait for them);
// every other card runs through at once. What the conversation learned (answers, the
// fields it set) is in the cursor's answers, so tokens and branches use it from the next
// card, before the lead record itself is updated.
#include <algorithm>
#include <cctype>

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

// local@domain.tld, the common form: the local part of letters, digits and
// !#$%&'*+/=?^_`{|}~.- with no dot at either end nor two in a row; the domain of labels
// of letters, digits and '-' (neither end a '-'), at least two, the last of letters.
bool valid_email(std::string_view s) {
  const auto at = s.find('@');
  if (s.size() > 254 || at == 0 || at == std::string_view::npos || at > 64) return false;
  const auto local = s.substr(0, at), domain = s.substr(at + 1);
  static constexpr std::string_view local_extra = "!#$%&'*+/=?^_`{|}~.-";
  for (char c : local)
    if (!std::isalnum(static_cast<unsigned char>(c)) && local_extra.find(c) == std::string_view::npos) return false;
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) return false;
  std::size_t labels = 0;
  std::string_view last;
  for (std::size_t start = 0; start <= domain.size(); ++labels) {
    const auto end = std::min(domain.find('.', start), domain.size());
    const auto label = domain.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    last = label;
    start = end + 1;
  }
  return labels >= 2 && last.size() >= 2 &&
         std::all_of(last.begin(), last.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
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
          // Booking comes with the meetings issue; until then the card takes its fallback.
          following = c->fallback;
          break;
        case card_kind::live_chat:
          if (ctx.agents == agent_availability::none_available) { // nobody could take it now
            // "Book a meeting instead" (offer_meeting) needs booking: the meetings issue adds it.
            say(c->nobody.text);
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
  void operator()(const in::visitor_text& t) {
    const card* c = here();
    if (!c || next.handed_over) return; // before the start, after the end, or for the agent
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
  void operator()(const in::booking_result&) {} // nothing is booked until the meetings issue
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
    if (c && !next.handed_over && !next.finished && (c->kind == card_kind::question || c->kind == card_kind::capture))
      prompt(*c);
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
