// Which lead fields a dialogue uses. The walk goes through the model struct by struct
// (audience, then every card field that names a field or holds visitor-visible text);
// the texts' tokens are read by the one token parser there is, render_tokens, asked
// through a probe rather than copied:
//
//   text ──escape \x01 as \x01\x01──▶ render_tokens(text, {name_i: "\x01" i "\x02"})
//        ──▶ each "\x01" i "\x02" in the output is a token that read name_i
//
// where name_i are the text's runs of name characters: every field a token reads is one
// (the `firstName` of {{lead.firstName}}, the `company` of {{company.name}}). Each probe
// value is non-empty, so every token renders to its marker and no fallback shows; the
// doubled \x01 is never part of a token's syntax (only of a fallback, which may hold
// anything up to its quote), so the escape changes no token, and left to right a lone
// \x01 is a marker, a pair is the text's own.
#include "dynchat/dialogue/field_usage.hpp"

#include <cctype>
#include <map>

#include "dynchat/dialogue/tokens.hpp"

namespace dynchat::dialogue {
namespace {

constexpr char mark = '\x01';
constexpr char mark_end = '\x02';

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; } // as tokens.cpp reads names

class collector {
public:
  void field(const std::string& attribute, field_use where, const std::string& card) {
    if (!attribute.empty()) out_.push_back({attribute, where, card});
  }
  void tokens(std::string_view text, const std::string& card) {
    for (auto& f : token_fields(text)) out_.push_back({std::move(f), field_use::token, card});
  }
  void conditions(const condition_group& g, field_use where, const std::string& card) {
    for (const auto& c : g.conditions) field(c.attribute, where, card);
  }
  std::vector<field_reference> take() { return std::move(out_); }

private:
  std::vector<field_reference> out_;
};

// Every field of the card, whatever its kind: a definition built by hand may hold a
// field its kind does not use, and what the model keeps counts (decode leaves those empty).
void walk(collector& out, const card& c) {
  out.tokens(c.text, c.id);
  for (const auto& a : c.answers) {
    out.tokens(a.label, c.id); // the value is stored as written: only the label renders
    out.field(a.attribute, field_use::answer, c.id);
  }
  out.tokens(c.capture.placeholder, c.id);
  for (const auto& choice : c.capture.picklist) out.tokens(choice, c.id); // shown as buttons, rendered like labels
  if (c.kind == card_kind::capture) {
    // decode() writes the defaults into the model; a hand-built card may leave them out.
    auto attribute = c.capture.attribute;
    if (attribute.empty() && c.capture.kind == capture_kind::email) attribute = "email";
    if (attribute.empty() && c.capture.kind == capture_kind::phone) attribute = "phone";
    out.field(attribute, field_use::capture, c.id);
  } else {
    out.field(c.capture.attribute, field_use::capture, c.id);
  }
  for (const auto& rule : c.rules)
    if (rule.attributes) out.conditions(*rule.attributes, field_use::branch, c.id);
  for (const auto& [name, value] : c.set) { // the value renders first, then is written
    out.tokens(value, c.id);
    out.field(name, field_use::action, c.id);
  }
  out.field(c.agent_name_attribute, field_use::meeting, c.id);
  out.field(c.agent_email_attribute, field_use::meeting, c.id);
  out.tokens(c.nobody.text, c.id);
}

} // namespace

std::string_view to_string(field_use u) noexcept {
  switch (u) {
    case field_use::audience: return "audience";
    case field_use::branch: return "branch";
    case field_use::token: return "token";
    case field_use::capture: return "capture";
    case field_use::answer: return "answer";
    case field_use::action: return "action";
    case field_use::meeting: return "meeting";
  }
  return {};
}

std::vector<std::string> token_fields(std::string_view text) {
  std::vector<std::string> fields;
  if (text.find("{{") == std::string_view::npos) return fields;
  std::string escaped;
  escaped.reserve(text.size());
  std::vector<std::string> names;
  std::map<std::string, std::string> probe;
  for (std::size_t i = 0; i < text.size();) {
    if (!is_name_char(text[i])) {
      escaped += text[i];
      if (text[i] == mark) escaped += mark;
      ++i;
      continue;
    }
    const auto start = i;
    while (i < text.size() && is_name_char(text[i])) ++i;
    const auto name = text.substr(start, i - start);
    escaped += name;
    auto [it, added] = probe.try_emplace(std::string{name});
    if (added) {
      it->second = mark + std::to_string(names.size()) + mark_end;
      names.push_back(it->first);
    }
  }
  const auto rendered = render_tokens(escaped, probe);
  for (std::size_t i = 0; i < rendered.size();) {
    if (rendered[i] != mark) {
      ++i;
    } else if (i + 1 < rendered.size() && rendered[i + 1] == mark) {
      i += 2; // the text's own
    } else {
      const auto end = rendered.find(mark_end, i + 1);
      if (end == std::string::npos) break; // cannot be: every marker is closed
      fields.push_back(names[std::stoul(rendered.substr(i + 1, end - i - 1))]);
      i = end + 1;
    }
  }
  return fields;
}

std::vector<field_reference> lead_fields_used(const definition& d) {
  collector out;
  const std::string none;
  for (const auto& g : d.audience.groups) out.conditions(g, field_use::audience, none);
  for (const auto& c : d.cards) walk(out, c);
  return out.take();
}

} // namespace dynchat::dialogue
