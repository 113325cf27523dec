#pragma once
// Which lead fields a dialogue reads or writes, and where: what the Marketo field
// selection asks before a field may stop being synced ("removing `industry` is refused
// while a dialogue uses it in an audience, a branch, a token or a capture mapping").
// Pure: it reads the definition as the model holds it, cards the graph never reaches
// included, and follows no `flow` card (a flow is a definition of its own; a published
// version has its flows' cards copied in already, see embed.hpp).
#include <string>
#include <string_view>
#include <vector>

#include "dynchat/dialogue/model.hpp"

namespace dynchat::dialogue {

enum class field_use {
  audience, // a condition of the audience's groups
  branch,   // a condition of a branch rule
  token,    // a token in a text the visitor sees ({{lead.firstName}}, {{company.name}}), or in an action's value
  capture,  // the field a capture card writes (`email` for an email capture, `phone` by default for a phone one)
  answer,   // the field a question's answer writes
  action,   // a field an action card sets
  meeting,  // a field a meeting card writes the booked agent's name or email to (`agent_fields`)
};

std::string_view to_string(field_use u) noexcept;

struct field_reference {
  std::string attribute; // the Marketo REST name, as written (names compare with case)
  field_use where = field_use::token;
  std::string card; // the card's id; empty for the audience
  bool operator==(const field_reference&) const = default;
};

/// Every use of a lead field in `d`: the audience's first, then card by card in the order
/// of `d.cards`, each card's in the order the visitor meets them (its text, its answers'
/// labels and fields, its capture's placeholder, choices and field, its rules, its
/// action's values and fields, its meeting's agent fields, its live chat's fallback text).
/// A field used twice is listed twice. Texts that are not rendered are not uses: answer
/// values, condition values, a document's url, a goal's name, the dialogue's name and
/// description. `known` and `visitors` read `email`, which is always synced, and are not listed.
std::vector<field_reference> lead_fields_used(const definition& d);

/// The lead fields the tokens of one text read, in order, exactly as render_tokens reads
/// them: {{company.name}} reads `company`, {{company.X}} reads `X`, what is not a
/// well-formed token reads nothing.
std::vector<std::string> token_fields(std::string_view text);

} // namespace dynchat::dialogue
