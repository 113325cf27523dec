#pragma once
// Rules on the text people type, shared by frames and REST bodies.
#include <string_view>

namespace dynchat::protocol {

/// True when `utf8` shows nothing: empty, or only white space and invisible marks in
/// any script (tabs and newlines, U+00A0, U+3000 and the other Unicode spaces, U+200B
/// and the other zero-width characters, U+FEFF). Text that is not UTF-8 is not blank.
bool is_blank(std::string_view utf8) noexcept;

} // namespace dynchat::protocol
