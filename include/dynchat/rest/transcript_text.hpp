#pragma once
// transcript.txt: a conversation as plain text, one record per line,
//   [2026-11-22 04:02:06Z] #3 Ann: Hello!
// No field can forge a record. Message text keeps its line breaks, but every line after
// the first is indented by four spaces, so only the line that begins a record starts
// with "["; every other field (names, the page URL) is written on one line, with
// control characters and Unicode line separators escaped (\n, \u2028, ...).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dynchat/store/records.hpp"

namespace dynchat::rest {

/// A field on one line: C0 controls, DEL, U+0085, U+2028 and U+2029 escaped.
std::string one_line(std::string_view s);

std::string transcript_text(const store::conversation_record& c,
                            const std::vector<std::pair<std::uint64_t, store::message_record>>& messages);

} // namespace dynchat::rest
