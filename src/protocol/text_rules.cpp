#include "dynchat/protocol/text_rules.hpp"

#include <cstdint>
#include <optional>

namespace dynchat::protocol {
namespace {

// Unicode White_Space, plus the format characters that render as nothing.
bool shows_nothing(char32_t c) noexcept {
  return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 || c == 0x180e ||
         (c >= 0x2000 && c <= 0x200d) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x2060 ||
         c == 0x3000 || c == 0xfeff;
}

// The code point at `pos`, advancing it; nullopt on a malformed sequence.
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
