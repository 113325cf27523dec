#include "dynchat/rest/transcript_text.hpp"

#include <ctime>

#include <fmt/format.h>

namespace dynchat::rest {
namespace {

std::string iso_time(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

// The length of a line break starting at s[i] (\r\n, \n, \r, U+0085, U+2028, U+2029), or 0.
std::size_t line_break_at(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c == '\r') return i + 1 < s.size() && s[i + 1] == '\n' ? 2 : 1;
  if (c == '\n') return 1;
  if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) return 2;
  if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
      (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9))
    return 3;
  return 0;
}

// Appends s with control characters other than line breaks escaped; each line break
// becomes a newline and an indent.
void append_escaped(std::string& out, std::string_view s, bool keep_breaks) {
  for (std::size_t i = 0; i < s.size();) {
    if (const auto br = line_break_at(s, i)) {
      if (keep_breaks) {
        out += "\n    ";
      } else if (br == 1 || (br == 2 && s[i] == '\r')) {
        out += s[i] == '\n' ? "\\n" : br == 2 ? "\\r\\n" : "\\r";
      } else {
        out += br == 2 ? "\\u0085" : static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      }
      i += br;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\t') out += keep_breaks ? "\t" : "\\t";
    else if (c < 0x20 || c == 0x7F) out += fmt::format("\\x{:02x}", c);
    else out += s[i];
    ++i;
  }
}

} // namespace

std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_escaped(out, s, false);
  return out;
}

std::string transcript_text(const store::conversation_record& c,
                            const std::vector<std::pair<std::uint64_t, store::message_record>>& messages) {
  std::string text = fmt::format("Conversation {}\nVisitor {}\nPage {}\nStatus {}\n\n", one_line(c.id),
                                 one_line(c.visitor_id), one_line(c.page_url), store::to_string(c.phase));
  for (const auto& [seq, m] : messages) {
    const std::string who = m.from == "agent" ? (m.agent_name.empty() ? "Agent" : one_line(m.agent_name))
                            : m.from == "visitor" ? "Visitor"
                            : m.from == "bot"     ? "Bot"
                                                  : "System";
    text += fmt::format("[{}] #{} {}: ", iso_time(m.ts_ms), seq, who);
    append_escaped(text, m.text, true);
    text += '\n';
  }
  return text;
}

} // namespace dynchat::rest
