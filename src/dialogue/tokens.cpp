#include "dynchat/dialogue/tokens.hpp"

#include <cctype>
#include <optional>

namespace dynchat::dialogue {
namespace {

struct token {
  std::string field;        // the attribute it reads
  std::string fallback;     // the text after the colon
  std::size_t length = 0;   // of the whole token, braces included
};

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// A token at the start of `s`, or nullopt when what is there is not one.
std::optional<token> read_token(std::string_view s) {
  std::size_t i = 2; // past "{{"
  const auto skip_spaces = [&] {
    while (i < s.size() && s[i] == ' ') ++i;
  };
  skip_spaces();
  const auto ns_start = i;
  while (i < s.size() && is_name_char(s[i])) ++i;
  const auto ns = s.substr(ns_start, i - ns_start);
  if ((ns != "lead" && ns != "company") || i >= s.size() || s[i] != '.') return std::nullopt;
  const auto field_start = ++i;
  while (i < s.size() && is_name_char(s[i])) ++i;
  if (i == field_start) return std::nullopt;
  token t;
  t.field = std::string{s.substr(field_start, i - field_start)};
  if (ns == "company" && t.field == "name") t.field = "company";
  skip_spaces();
  if (i < s.size() && s[i] == ':') {
    ++i;
    skip_spaces();
    if (i >= s.size() || s[i] != '"') return std::nullopt;
    const auto close = s.find('"', i + 1);
    if (close == std::string_view::npos) return std::nullopt;
    t.fallback = std::string{s.substr(i + 1, close - i - 1)};
    i = close + 1;
    skip_spaces();
  }
  if (s.substr(i, 2) != "}}") return std::nullopt;
  t.length = i + 2;
  return t;
}

} // namespace

void cut_utf8(std::string& s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return;
  std::size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n; // s[n] continues a sequence
  s.resize(n);
}

std::string render_tokens(std::string_view text, const std::map<std::string, std::string>& attributes) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto open = text.find("{{", i);
    if (open == std::string_view::npos) break;
    out.append(text.substr(i, open - i));
    if (auto t = read_token(text.substr(open))) {
      auto it = attributes.find(t->field);
      out += it != attributes.end() && !it->second.empty() ? it->second : t->fallback;
      i = open + t->length;
    } else {
      out += "{{";
      i = open + 2;
    }
  }
  out.append(text.substr(std::min(i, text.size())));
  return out;
}

} // namespace dynchat::dialogue
