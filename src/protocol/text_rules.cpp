#include "dynchat/protocol/text_rules.hpp"

#include <cstdint>
#include <optional>
#include <utility>

namespace dynchat::protocol {
namespace {

// Unicode White_Space and Default_Ignorable_Code_Point (what renders as nothing: zero-width
// and bidi marks, variation selectors, tags, the Hangul fillers used for "empty" names),
// and U+2800, the blank braille pattern.
bool shows_nothing(char32_t c) noexcept {
  constexpr std::pair<char32_t, char32_t> nothing[] = {
    {0x09, 0x0d},       {0x20, 0x20},       {0x85, 0x85},       {0xa0, 0xa0},       {0xad, 0xad},
    {0x34f, 0x34f},     {0x61c, 0x61c},     {0x115f, 0x1160},   {0x1680, 0x1680},   {0x17b4, 0x17b5},
    {0x180b, 0x180f},   {0x2000, 0x200f},   {0x2028, 0x202f},   {0x205f, 0x206f},   {0x2800, 0x2800},
    {0x3000, 0x3000},   {0x3164, 0x3164},   {0xfe00, 0xfe0f},   {0xfeff, 0xfeff},   {0xffa0, 0xffa0},
    {0xfff0, 0xfff8},   {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0000, 0xe0fff},
  };
  for (auto [low, high] : nothing)
    if (c >= low && c <= high) return true;
  return false;
}

// The code point at `pos`, advancing it; nullopt on a malformed sequence (truncated, a
// stray continuation byte, an overlong form, a surrogate, past U+10FFFF).
std::optional<char32_t> next_code_point(std::string_view s, std::size_t& pos) noexcept {
  const auto lead = static_cast<unsigned char>(s[pos]);
  const int extra = lead < 0x80 ? 0 : (lead >> 5) == 0x6 ? 1 : (lead >> 4) == 0xe ? 2 : (lead >> 3) == 0x1e ? 3 : -1;
  if (extra < 0 || pos + extra >= s.size()) return std::nullopt;
  char32_t c = extra == 0 ? lead : lead & (0x3f >> extra);
  for (int i = 1; i <= extra; ++i) {
    const auto cont = static_cast<unsigned char>(s[pos + i]);
    if ((cont >> 6) != 0x2) return std::nullopt;
    c = (c << 6) | (cont & 0x3f);
  }
  constexpr char32_t smallest[] = {0, 0x80, 0x800, 0x10000};
  if (c < smallest[extra] || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) return std::nullopt;
  pos += 1 + extra;
  return c;
}

} // namespace

bool is_blank(std::string_view utf8) noexcept {
  for (std::size_t pos = 0; pos < utf8.size();) {
    auto c = next_code_point(utf8, pos);
    if (!c || !shows_nothing(*c)) return false;
  }
  return true;
}

} // namespace dynchat::protocol
