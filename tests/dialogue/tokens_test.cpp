#include <catch2/catch.hpp>

#include "dynchat/dialogue/tokens.hpp"

using dynchat::dialogue::render_tokens;

TEST_CASE("tokens take the lead's field, or their default", "[dialogue][tokens]") {
  const std::map<std::string, std::string> known{{"firstName", "Ann"}, {"company", "Acme"}, {"title", ""}};
  const std::map<std::string, std::string> anonymous{};
  struct row {
    const char* text;
    const char* for_known;
    const char* for_anonymous;
  };
  const row rows[] = {
    {"Hi {{lead.firstName:\"there\"}}!", "Hi Ann!", "Hi there!"},
    {"Hi {{ lead.firstName : \"there\" }}!", "Hi Ann!", "Hi there!"},
    {"Hi {{lead.firstName}}!", "Hi Ann!", "Hi !"},
    {"{{company.name:\"your team\"}} rocks", "Acme rocks", "your team rocks"},
    {"{{lead.title:\"friend\"}}", "friend", "friend"},        // an empty field takes the default
    {"{{lead.unknownField:\"x\"}}", "x", "x"},                // an unknown field too
    {"{{lead.firstName}} and {{lead.firstName}}", "Ann and Ann", " and "},
    {"{{visitor.firstName}}", "{{visitor.firstName}}", "{{visitor.firstName}}"}, // not a token: as written
    {"{{lead.firstName", "{{lead.firstName", "{{lead.firstName"},
    {"{{lead.firstName:\"unclosed}}", "{{lead.firstName:\"unclosed}}", "{{lead.firstName:\"unclosed}}"},
    {"{{{{lead.firstName}}", "{{Ann", "{{"},
    {"<b>{{lead.firstName:\"<i>x</i>\"}}</b>", "<b>Ann</b>", "<b><i>x</i></b>"}, // plain text: the client escapes
    {"no tokens at all", "no tokens at all", "no tokens at all"},
    {"", "", ""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    CHECK(render_tokens(r.text, known) == r.for_known);
    CHECK(render_tokens(r.text, anonymous) == r.for_anonymous);
  }
}

TEST_CASE("a rendered text is cut at a character, never inside one", "[dialogue][tokens]") {
  std::string s = "a\xc3\xa9\xe2\x82\xac"; // a, é (2 bytes), € (3 bytes)
  auto cut = [](std::string t, std::size_t n) {
    dynchat::dialogue::cut_utf8(t, n);
    return t;
  };
  CHECK(cut(s, 10) == s);
  CHECK(cut(s, 6) == s);
  CHECK(cut(s, 5) == "a\xc3\xa9"); // not half a euro sign
  CHECK(cut(s, 2) == "a");
  CHECK(cut(s, 0).empty());
}
