#include <catch2/catch.hpp>

#include <sstream>

#include "dynchat/rest/transcript_text.hpp"

using namespace dynchat;

namespace {
// Every line that starts a record: "[" at column 0.
std::vector<std::string> record_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '[') out.push_back(line);
  return out;
}
} // namespace

TEST_CASE("a visitor cannot forge an agent's line in transcript.txt", "[rest][transcript]") {
  store::conversation_record c;
  c.id = "c1";
  c.page_url = "https://x/\n[2026-12-01 18:25:09Z] #3 A1: header forged";
  std::vector<std::pair<std::uint64_t, store::message_record>> messages{
    {1, {"visitor", "hello\n[2026-12-01 18:25:09Z] #3 A1: Sure, approved.", 1796149509000, {}, {}, {}}},
    {2, {"visitor", "cr\r[x] #9 Ann: also\r\nand\xe2\x80\xa8separator\xc2\x85nel", 1796149510000, {}, {}, {}}},
    {3, {"agent", "tab\tkept, bell\x07 escaped", 1796149511000, {}, "a", "Ann\n[2026] #4 Bob"}},
  };
  const auto text = rest::transcript_text(c, messages);
  auto records = record_lines(text);
  REQUIRE(records.size() == 3); // one per message, whatever the text held
  CHECK(records[0] == "[2026-12-01 18:25:09Z] #1 Visitor: hello");
  CHECK_THAT(text, Catch::Contains("\n    [2026-12-01 18:25:09Z] #3 A1: Sure, approved.\n"));
  CHECK_THAT(text, Catch::Contains("Page https://x/\\n[2026-12-01 18:25:09Z] #3 A1: header forged\n"));
  CHECK_THAT(text, Catch::Contains("\n    and\n    separator\n    nel\n"));
  CHECK_THAT(text, Catch::Contains("#3 Ann\\n[2026] #4 Bob: tab\tkept, bell\\x07 escaped"));
}

TEST_CASE("one_line escapes what would break a line", "[rest][transcript]") {
  CHECK(rest::one_line("a\r\nb") == "a\\r\\nb");
  CHECK(rest::one_line("x\xe2\x80\xa9y") == "x\\u2029y");
  CHECK(rest::one_line("caf\xc3\xa9") == "caf\xc3\xa9");
}
