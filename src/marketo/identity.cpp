#include "dynchat/marketo/identity.hpp"

#include <cctype>

namespace dynchat::marketo {
namespace {

std::string percent_decoded(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool is_munchkin(std::string_view id) {
  // Three groups: 3 digits, 3 letters or digits, 3 digits (123-ABC-456).
  if (id.size() != 11 || id[3] != '-' || id[7] != '-') return false;
  for (std::size_t i = 0; i < id.size(); ++i)
    if (i != 3 && i != 7 && !std::isalnum(static_cast<unsigned char>(id[i]))) return false;
  return true;
}

bool is_token(std::string_view t) {
  if (!t.starts_with("_mch-") || t.size() < 8 || t.size() > 200) return false;
  for (unsigned char c : t)
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

} // namespace

std::optional<tracking_cookie> parse_tracking_cookie(std::string_view raw) {
  if (raw.size() > 400) return std::nullopt;
  const auto text = percent_decoded(raw);
  std::string_view s = text;
  if (!s.starts_with("id:")) return std::nullopt;
  const auto amp = s.find("&token:");
  if (amp == std::string_view::npos) return std::nullopt;
  tracking_cookie c;
  c.munchkin_id = std::string{s.substr(3, amp - 3)};
  auto token = s.substr(amp + 7);
  if (auto more = token.find('&'); more != std::string_view::npos) token = token.substr(0, more); // later fields
  c.token = std::string{token};
  if (!is_munchkin(c.munchkin_id) || !is_token(c.token)) return std::nullopt;
  for (auto& ch : c.munchkin_id) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return c;
}

std::variant<std::string, std::string> normalize_adobe_org(std::string_view raw) {
  using result = std::variant<std::string, std::string>;
  auto wrong = [](std::string why) { return result{std::in_place_index<1>, std::move(why)}; };
  std::string_view id = raw;
  while (!id.empty() && std::isspace(static_cast<unsigned char>(id.front()))) id.remove_prefix(1);
  while (!id.empty() && std::isspace(static_cast<unsigned char>(id.back()))) id.remove_suffix(1);
  if (id.empty()) return wrong("the org id is empty: give the 24 hexadecimal characters Adobe shows, like 1234567890ABCDEF12345678@AdobeOrg");
  if (auto at = id.find('@'); at != std::string_view::npos) {
    std::string suffix{id.substr(at)};
    for (auto& ch : suffix) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (suffix != "@adobeorg")
      return wrong("the org id ends in \"" + std::string{id.substr(at)} + "\": the only suffix an org id has is @AdobeOrg");
    id = id.substr(0, at);
  }
  if (id.size() != 24)
    return wrong("the org id has " + std::to_string(id.size()) +
                 " characters before @AdobeOrg: it has 24 hexadecimal characters (0-9, A-F)");
  std::string out;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const auto c = static_cast<unsigned char>(id[i]);
    if (!std::isxdigit(c))
      return wrong("the org id has \"" + std::string(1, id[i]) + "\" at position " + std::to_string(i + 1) +
                   ": only hexadecimal characters (0-9, A-F) belong in it");
    out.push_back(static_cast<char>(std::toupper(c)));
  }
  return result{std::in_place_index<0>, std::move(out)};
}

} // namespace dynchat::marketo
