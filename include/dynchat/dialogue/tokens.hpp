#pragma once
// Personalization tokens in a card's text: {{lead.firstName:"there"}}, {{company.name}}.
// A token takes the lead's field, or the text after the colon when the visitor is
// anonymous, the field is empty, or no such field is known; without a default, nothing.
// What is not a well-formed token stays as it was written. The result is plain text:
// clients render it as text, never as HTML.
#include <map>
#include <string>
#include <string_view>

namespace dynchat::dialogue {

/// `attributes`: the lead's fields by Marketo REST name (empty for an anonymous visitor).
/// company.name reads the lead's `company` field; company.X reads X.
std::string render_tokens(std::string_view text, const std::map<std::string, std::string>& attributes);

/// Cuts `s` to at most `max_bytes`, never inside a UTF-8 sequence: a rendered text is
/// bounded whatever the fields it reads hold (a token reading a field an action set from
/// tokens could otherwise grow without end in a loop).
void cut_utf8(std::string& s, std::size_t max_bytes);

} // namespace dynchat::dialogue
