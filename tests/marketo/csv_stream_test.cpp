#include <catch2/catch.hpp>

#include "dynchat/marketo/csv_stream.hpp"

#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using dynchat::marketo::csv_event;
using dynchat::marketo::csv_fault;
using dynchat::marketo::csv_limits;
using dynchat::marketo::csv_problem;
using dynchat::marketo::csv_row;
using dynchat::marketo::csv_stream;

namespace {

// A row or a problem, flattened so whole parses compare with ==.
struct item {
  bool row = true;
  std::uint64_t line = 0, next_line = 0, offset = 0, end_offset = 0;
  std::vector<std::string> fields; // a row's
  std::string reason;              // a problem's
  // offset() and line() as seen from inside the callback
  std::uint64_t seen_offset = 0, seen_line = 0;
  bool operator==(const item&) const = default;
};

std::ostream& operator<<(std::ostream& os, const item& i) {
  os << (i.row ? "row" : "problem") << " line " << i.line << "->" << i.next_line << " bytes [" << i.offset
     << ", " << i.end_offset << ") seen " << i.seen_offset << "/" << i.seen_line;
  if (i.row) {
    os << " {";
    for (const auto& f : i.fields) os << " [" << f << "]";
    os << " }";
  } else {
    os << " \"" << i.reason << "\"";
  }
  return os;
}

struct options {
  char delimiter = ',';
  csv_limits limits = {};
  std::size_t expect = 0;
  std::uint64_t start_offset = 0;
  std::uint64_t start_line = 1;
};

struct collector {
  csv_stream s;
  std::vector<item> items;

  explicit collector(const options& o) : s(o.delimiter, o.limits, o.start_offset, o.start_line) {
    s.expect_fields(o.expect);
  }
  void feed(std::string_view chunk) {
    s.feed(chunk, [this](const csv_row& r) { on_row(r); }, [this](const csv_problem& p) { on_problem(p); });
  }
  void finish() {
    s.finish([this](const csv_row& r) { on_row(r); }, [this](const csv_problem& p) { on_problem(p); });
  }
  void on_row(const csv_row& r) {
    item i{true, r.line, r.next_line, r.offset, r.end_offset, {}, {}, s.offset(), s.line()};
    for (auto f : r.fields) i.fields.emplace_back(f);
    items.push_back(std::move(i));
  }
  void on_problem(const csv_problem& p) {
    items.push_back({false, p.line, p.next_line, p.offset, p.end_offset, {}, p.reason, s.offset(), s.line()});
  }
};

// The text fed in pieces cut at `cuts` (ascending), each piece copied into its own
// buffer so that a view kept past its chunk would show up as garbage.
std::vector<item> parse(std::string_view text, const std::vector<std::size_t>& cuts = {}, const options& o = {}) {
  collector c{o};
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    std::string piece{text.substr(from, cut - from)};
    c.feed(piece);
    piece.assign(piece.size(), '#');
    from = cut;
  }
  std::string rest{text.substr(from)};
  c.feed(rest);
  rest.assign(rest.size(), '#');
  c.finish();
  return c.items;
}

std::vector<item> parse_bytewise(std::string_view text, const options& o = {}) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < text.size(); ++i) cuts.push_back(i);
  return parse(text, cuts, o);
}

// Offset just past the first occurrence of `marker`.
std::uint64_t after(std::string_view text, std::string_view marker) {
  auto at = text.find(marker);
  REQUIRE(at != std::string_view::npos);
  return at + marker.size();
}

item row(std::uint64_t line, std::uint64_t next_line, std::uint64_t offset, std::uint64_t end,
         std::vector<std::string> fields) {
  return {true, line, next_line, offset, end, std::move(fields), {}, end, next_line};
}
item problem(std::uint64_t line, std::uint64_t next_line, std::uint64_t offset, std::uint64_t end,
             std::string reason) {
  return {false, line, next_line, offset, end, {}, std::move(reason), end, next_line};
}

// Everything at once: a BOM, CRLF and LF, empty lines, quoted delimiters, doubled quotes
// (also right at a field's edges), line ends inside quotes, multi-byte UTF-8, each kind
// of bad row, and a last row without a line end.
const std::string tricky =
  "\xEF\xBB\xBF"
  "id,name,note\r\n"                                    // line 1
  "1,\"Smith, John\",\"He said \"\"hi\"\"\"\r\n"        // line 2
  "\r\n"                                                // line 3: empty
  "2,null,\"line one\r\nline \"\"two\"\"\nline \"\"three\"\"\"\n" // lines 4-6
  "3,Zo\xC3\xAB,\"\xE2\x82\xAC and \xF0\x9F\x98\x80\"\n" // line 7
  "4,bad\"quote,x\n"                                    // line 8: quote in unquoted field
  "5,\"closed\"junk,x\n"                                // line 9: text after closing quote
  "6,too,many,fields\n"                                 // line 10
  "\n"                                                  // line 11: empty
  "7,\"\",\"\"\"\"\r\n"                                 // line 12
  "8,\xC3\x28,x\n"                                      // line 13: invalid UTF-8
  "9,\"\",\r\n"                                         // line 14: empty last field
  "10,last,\"no line end\"";                            // line 15

std::vector<item> tricky_expected() {
  const std::string_view t = tricky;
  const auto r1 = after(t, "note\r\n"), r2 = after(t, "hi\"\"\"\r\n"), e3 = r2 + 2;
  const auto r4 = after(t, "three\"\"\"\n"), r7 = after(t, "\x98\x80\"\n"), r8 = after(t, "quote,x\n");
  const auto r9 = after(t, "junk,x\n"), r10 = after(t, "fields\n"), e11 = r10 + 1;
  const auto r12 = after(t, "\"\"\"\"\r\n"), r13 = after(t, "\x28,x\n"), r14 = after(t, "9,\"\",\r\n");
  return {
    row(1, 2, 3, r1, {"id", "name", "note"}),
    row(2, 3, r1, r2, {"1", "Smith, John", "He said \"hi\""}),
    row(4, 7, e3, r4, {"2", "null", "line one\r\nline \"two\"\nline \"three\""}),
    row(7, 8, r4, r7, {"3", "Zo\xC3\xAB", "\xE2\x82\xAC and \xF0\x9F\x98\x80"}),
    problem(8, 9, r7, r8, "quote inside an unquoted field"),
    problem(9, 10, r8, r9, "text after a closing quote"),
    problem(10, 11, r9, r10, "expected 3 fields, found 4"),
    row(12, 13, e11, r12, {"7", "", "\""}),
    problem(13, 14, r12, r13, "invalid UTF-8 at byte 2 of the row"),
    row(14, 15, r13, r14, {"9", "", ""}),
    row(15, 15, r14, t.size(), {"10", "last", "no line end"}),
  };
}

options three_fields() {
  options o;
  o.expect = 3;
  return o;
}

} // namespace

TEST_CASE("the tricky sample parses to the expected rows and problems", "[marketo]") {
  collector c{three_fields()};
  c.feed(tricky);
  c.finish();
  CHECK(c.items == tricky_expected());
  CHECK(c.s.rows() == 7);
  CHECK(c.s.problems() == 4);
  CHECK(c.s.offset() == tricky.size());
  CHECK(c.s.line() == 15);
}

TEST_CASE("every split of the tricky sample gives what one feed gives", "[marketo]") {
  const auto whole = tricky_expected();
  for (std::size_t i = 0; i <= tricky.size(); ++i) {
    INFO("split at " << i);
    REQUIRE(parse(tricky, {i}, three_fields()) == whole);
  }
  for (std::size_t i = 0; i <= tricky.size(); ++i)
    for (std::size_t j = i; j <= tricky.size(); ++j) {
      INFO("split at " << i << " and " << j);
      REQUIRE(parse(tricky, {i, j}, three_fields()) == whole);
    }
  CHECK(parse_bytewise(tricky, three_fields()) == whole);
}

TEST_CASE("line ends are LF or CRLF and the last one is optional", "[marketo]") {
  struct example {
    std::string text;
    std::vector<std::vector<std::string>> rows;
  };
  const std::vector<example> examples{
    {"a,b\nc,d\n", {{"a", "b"}, {"c", "d"}}},
    {"a,b\r\nc,d\r\n", {{"a", "b"}, {"c", "d"}}},
    {"a,b\r\nc,d", {{"a", "b"}, {"c", "d"}}},
    {"a,b\nc,d\r", {{"a", "b"}, {"c", "d"}}}, // a CR at the very end: a CRLF cut short
    {"a,\n,b\n,\n", {{"a", ""}, {"", "b"}, {"", ""}}},
    {"", {}},
    {"x", {{"x"}}},
  };
  for (const auto& e : examples) {
    INFO(e.text);
    std::vector<std::vector<std::string>> got;
    for (const auto& i : parse(e.text)) {
      CHECK(i.row);
      got.push_back(i.fields);
    }
    CHECK(got == e.rows);
    CHECK(parse_bytewise(e.text) == parse(e.text));
  }
}

TEST_CASE("quoted fields hold delimiters quotes and line ends", "[marketo]") {
  struct example {
    std::string text;
    std::vector<std::string> fields;
    std::uint64_t next_line;
  };
  const std::vector<example> examples{
    {"\"a,b\",c\n", {"a,b", "c"}, 2},
    {"\"say \"\"x\"\"\",\"\"\"\"\n", {"say \"x\"", "\""}, 2},
    {"\"\"\"lead\",\"trail\"\"\"\n", {"\"lead", "trail\""}, 2},
    {"\"\",\"\"\n", {"", ""}, 2},
    {"\"one\ntwo\",\"three\r\nfour\r\nfive\"\r\n", {"one\ntwo", "three\r\nfour\r\nfive"}, 5},
    {"\"cr\ronly\",x\n", {"cr\ronly", "x"}, 2},
    {"null,\"null\",\n", {"null", "null", ""}, 2}, // Marketo's empty value stays text
  };
  for (const auto& e : examples) {
    INFO(e.text);
    const auto items = parse(e.text + "next,row\n");
    REQUIRE(items.size() == 2);
    CHECK(items[0].row);
    CHECK(items[0].fields == e.fields);
    CHECK(items[0].next_line == e.next_line);
    CHECK(items[1].line == e.next_line); // later rows count the line ends inside quotes
    CHECK(items[1].fields == std::vector<std::string>{"next", "row"});
  }
}

TEST_CASE("unescaped fields are views into the pushed chunk", "[marketo]") {
  const std::string text = "plain,\"quoted, no escapes\",\"with \"\"escape\"\"\"\n";
  csv_stream s;
  s.push(text);
  REQUIRE(s.next() == csv_event::row);
  const auto f = s.current_row().fields;
  REQUIRE(f.size() == 3);
  auto inside = [&](std::string_view v) { return v.data() >= text.data() && v.data() < text.data() + text.size(); };
  CHECK(inside(f[0]));
  CHECK(inside(f[1]));
  CHECK_FALSE(inside(f[2]));
  CHECK(f[2] == "with \"escape\"");
  CHECK(s.next() == csv_event::none);
}

TEST_CASE("a BOM is skipped only at the start of the file", "[marketo]") {
  const std::string bom = "\xEF\xBB\xBF";
  auto items = parse(bom + "a,b\n");
  REQUIRE(items.size() == 1);
  CHECK(items[0].fields == std::vector<std::string>{"a", "b"});
  CHECK(items[0].offset == 3);
  CHECK(items[0].end_offset == 7);
  CHECK(parse_bytewise(bom + "a,b\n") == items);
  // Only a BOM: no rows.
  CHECK(parse(bom).empty());
  // A BOM's first bytes that turn out to be something else are data.
  items = parse("\xEF\xBB" "x,y\n");
  REQUIRE(items.size() == 1);
  CHECK_FALSE(items[0].row);
  CHECK(items[0].reason == "invalid UTF-8 at byte 0 of the row");
  CHECK(parse_bytewise("\xEF\xBB" "x,y\n") == items);
  // A resumed stream does not start at the file's start: U+FEFF there is text.
  options o;
  o.start_offset = 100;
  items = parse(bom + "a,b\n", {}, o);
  REQUIRE(items.size() == 1);
  CHECK(items[0].fields == std::vector<std::string>{bom + "a", "b"});
  CHECK(items[0].offset == 100);
}

TEST_CASE("empty lines are skipped but counted", "[marketo]") {
  const std::string text = "\n\r\na\n\n\nb\r\n\r\n";
  const auto items = parse(text);
  REQUIRE(items.size() == 2);
  CHECK(items[0].line == 3);
  CHECK(items[0].fields == std::vector<std::string>{"a"});
  CHECK(items[1].line == 6);
  CHECK(items[1].offset == 7);
  CHECK(parse_bytewise(text) == items);
  // Empty lines after the last row do not move the resume point.
  collector c{options{}};
  c.feed(text);
  c.finish();
  CHECK(c.s.offset() == 10);
  CHECK(c.s.line() == 7);
}

TEST_CASE("a wrong field count is reported with its line and parsing goes on", "[marketo]") {
  const std::string text = "h1,h2,h3\nok,ok,ok\nshort,row\n\"multi\nline\",b,c,d\nok,again,yes\n";
  collector c{options{}};
  // The header sets the count, from inside the callback.
  c.s.feed(
    text,
    [&](const csv_row& r) {
      if (r.line == 1) c.s.expect_fields(r.fields.size());
      c.on_row(r);
    },
    [&](const csv_problem& p) { c.on_problem(p); });
  c.finish();
  REQUIRE(c.items.size() == 5);
  CHECK(c.items[2] == problem(3, 4, 18, 28, "expected 3 fields, found 2"));
  CHECK(c.items[3] == problem(4, 6, 28, 47, "expected 3 fields, found 4"));
  CHECK(c.items[4].row);
  CHECK(c.items[4].line == 6);
  CHECK(c.s.rows() == 3);
  CHECK(c.s.problems() == 2);
}

TEST_CASE("malformed rows are problems and the next row parses", "[marketo]") {
  struct example {
    std::string bad;
    csv_fault fault;
    std::string reason;
  };
  const std::vector<example> examples{
    {"a,b\"c,d\n", csv_fault::quote_in_unquoted, "quote inside an unquoted field"},
    {"a,5\" screen\n", csv_fault::quote_in_unquoted, "quote inside an unquoted field"},
    {"\"a\"b,c\n", csv_fault::text_after_quote, "text after a closing quote"},
    {"\"a\" ,c\n", csv_fault::text_after_quote, "text after a closing quote"},
    {"\"a\"\rb\n", csv_fault::text_after_quote, "text after a closing quote"},
    {"a\rb,c\n", csv_fault::bare_cr, "carriage return without a line feed outside quotes"},
    {"a,\"b\"x\"c\n", csv_fault::text_after_quote, "text after a closing quote"},
  };
  for (const auto& e : examples) {
    INFO(e.bad);
    const std::string text = e.bad + "next,row\n";
    collector c{options{}};
    csv_fault seen{};
    c.s.feed(text, [&](const csv_row& r) { c.on_row(r); },
             [&](const csv_problem& p) {
               seen = p.fault;
               c.on_problem(p);
             });
    c.finish();
    REQUIRE(c.items.size() == 2);
    CHECK_FALSE(c.items[0].row);
    CHECK(seen == e.fault);
    CHECK(c.items[0].reason == e.reason);
    CHECK(c.items[0].end_offset == e.bad.size());
    CHECK(c.items[1].fields == std::vector<std::string>{"next", "row"});
    CHECK(parse_bytewise(text) == c.items);
  }
}

TEST_CASE("an unterminated quote at the end of the file is a problem", "[marketo]") {
  const std::string text = "a,b\nc,\"never closed\nstill open";
  const auto items = parse(text);
  REQUIRE(items.size() == 2);
  CHECK(items[0].row);
  CHECK(items[1] == problem(2, 3, 4, text.size(), "unterminated quoted field"));
  CHECK(parse_bytewise(text) == items);
  CHECK(parse("\"") == std::vector<item>{problem(1, 1, 0, 1, "unterminated quoted field")});
}

TEST_CASE("invalid UTF-8 makes a problem of its row", "[marketo]") {
  struct example {
    std::string bytes;
    bool valid;
  };
  const std::vector<example> examples{
    {"\x7F", true},
    {"\xC3\xA9", true},             // é
    {"\xE2\x82\xAC", true},         // €
    {"\xED\x9F\xBF", true},         // U+D7FF, just below the surrogates
    {"\xEE\x80\x80", true},         // U+E000, just above
    {"\xEF\xBF\xBD", true},         // U+FFFD
    {"\xF0\x90\x80\x80", true},     // U+10000
    {"\xF4\x8F\xBF\xBF", true},     // U+10FFFF
    {"\x80", false},                // a continuation byte alone
    {"\xBF", false},
    {"\xC0\x80", false},            // overlong NUL
    {"\xC1\xBF", false},            // overlong
    {"\xE0\x80\xAF", false},        // overlong '/'
    {"\xE0\x9F\xBF", false},        // overlong
    {"\xF0\x8F\xBF\xBF", false},    // overlong
    {"\xED\xA0\x80", false},        // U+D800, a surrogate
    {"\xED\xBF\xBF", false},        // U+DFFF
    {"\xF4\x90\x80\x80", false},    // U+110000
    {"\xF5\x80\x80\x80", false},
    {"\xFF", false},
    {"\xC3", false},                // truncated before the delimiter
    {"\xE2\x82", false},
    {"\xF0\x9F\x98", false},
    {"\xE2\x28\xA1", false},        // a bad second byte
    {"\xF0\x9F\x28\x80", false},    // a bad third byte
  };
  for (const auto& e : examples) {
    for (bool quoted : {false, true}) {
      const std::string field = quoted ? "\"" + e.bytes + "\"" : e.bytes;
      const std::string text = "ab," + field + ",c\nnext\n";
      INFO(text);
      const auto items = parse(text);
      REQUIRE(items.size() == 2);
      CHECK(items[0].row == e.valid);
      if (e.valid) CHECK(items[0].fields[1] == e.bytes);
      else CHECK(items[0].reason == "invalid UTF-8 at byte " + std::to_string(quoted ? 4 : 3) + " of the row");
      CHECK(items[1].fields == std::vector<std::string>{"next"});
      CHECK(parse_bytewise(text) == items);
    }
  }
  // A sequence cut by the end of the file.
  for (std::string text : {"a,\xE2\x82", "a,\"\xE2\x82"}) {
    INFO(text);
    const auto items = parse(text);
    REQUIRE(items.size() == 1);
    CHECK(items[0] == problem(1, 1, 0, text.size(), "invalid UTF-8 at byte " + std::to_string(text.size() - 2) + " of the row"));
    CHECK(parse_bytewise(text) == items);
  }
}

namespace {

// A header, then `n` rows "r<i>,x<i>\n"; a stray quote can replace row `bad`.
std::string numbered_rows(int n, int bad = -1, std::string_view bad_row = {}) {
  std::string text = "key,value\n";
  for (int i = 0; i < n; ++i) {
    if (i == bad) text += bad_row;
    else text += "r" + std::to_string(i) + ",x" + std::to_string(i) + "\n";
  }
  return text;
}

} // namespace

TEST_CASE("a row past max_row_bytes costs a bounded number of bytes", "[marketo]") {
  options o;
  o.limits.max_row_bytes = 100;
  o.expect = 2;
  // Row 3 (line 5) opens a quote that is never closed: without the limit it would
  // swallow the whole file.
  const std::string text = numbered_rows(400, 3, "r3,\"stray\n");
  const auto bad_at = text.find("r3,");
  const auto resync = text.find('\n', bad_at + 100) + 1;
  const auto items = parse(text, {}, o);
  REQUIRE(items.size() >= 2 + 3 + 1);
  CHECK(items[4] == problem(5, items[4].next_line, bad_at, resync, "row longer than 100 bytes"));
  // Every row that starts after the problem comes out, and the lines still add up.
  std::size_t after_problem = 0;
  for (std::size_t i = 5; i < items.size(); ++i) {
    CHECK(items[i].row);
    ++after_problem;
  }
  const auto lost = static_cast<std::size_t>(std::count(text.begin() + bad_at, text.begin() + resync, '\n'));
  CHECK(lost <= 100 / 6 + 1);
  CHECK(after_problem == 400 - 3 - lost);
  CHECK(items[5].line == 5 + lost);
  CHECK(items[5].offset == resync);
  CHECK(items.back().fields == std::vector<std::string>{"r399", "x399"});
  // Whatever the chunks.
  for (std::size_t i = 0; i <= text.size(); i += 7) {
    INFO("split at " << i);
    REQUIRE(parse(text, {i}, o) == items);
  }
  CHECK(parse_bytewise(text, o) == items);
}

TEST_CASE("max_row_bytes counts the line end and holds exactly", "[marketo]") {
  options o;
  o.limits.max_row_bytes = 10;
  for (std::string end : {"\n", "\r\n"}) {
    const std::string fits = std::string(10 - end.size(), 'a') + end;
    const std::string over = std::string(11 - end.size(), 'b') + end;
    // The LF at byte 13 is inside quotes, the row's own line end comes later.
    const std::string quoted_over = "\"" + std::string(12, 'q') + "\ntail\"" + end;
    const std::string text = fits + over + fits + quoted_over + fits;
    INFO(text);
    const auto items = parse(text, {}, o);
    REQUIRE(items.size() == 6);
    CHECK(items[0].row);
    CHECK(items[1] == problem(2, 3, 10, 21, "row longer than 10 bytes"));
    CHECK(items[2].row);
    // Past the limit the row ends at the next LF, even one that is quoted ...
    CHECK(items[3] == problem(4, 5, 31, 45, "row longer than 10 bytes"));
    // ... and the rest of that line is a problem of its own, not a row.
    CHECK(items[4] == problem(5, 6, 45, 50 + end.size(), "quote inside an unquoted field"));
    CHECK(items[5].row);
    CHECK(items[5].line == 6);
    CHECK(items[5].fields == std::vector<std::string>{std::string(10 - end.size(), 'a')});
    CHECK(parse_bytewise(text, o) == items);
    for (std::size_t i = 0; i <= text.size(); ++i) REQUIRE(parse(text, {i}, o) == items);
  }
  // At the end of the file, inside the too-long row.
  const auto items = parse("ok\n\"" + std::string(30, 'z'), {}, o);
  REQUIRE(items.size() == 2);
  CHECK(items[1] == problem(2, 2, 3, 34, "row longer than 10 bytes"));
}

TEST_CASE("one stray quote in a large file holds at most max_row_bytes", "[marketo]") {
  options o;
  o.limits.max_row_bytes = 64 * 1024;
  const std::string text = numbered_rows(200'000, 10, "r10,\"oops,x10\n");
  collector c{o};
  std::size_t most = 0;
  for (std::size_t at = 0; at < text.size(); at += 4000) {
    c.feed(std::string_view(text).substr(at, 4000));
    most = std::max(most, c.s.buffered_bytes());
  }
  c.finish();
  CHECK(most <= o.limits.max_row_bytes);
  CHECK(c.s.problems() == 1);
  CHECK(c.s.rows() > 200'000 - 64 * 1024 / 10);
  CHECK(c.items.back().fields == std::vector<std::string>{"r199999", "x199999"});
}

TEST_CASE("more than max_fields is a problem", "[marketo]") {
  options o;
  o.limits.max_fields = 4;
  const auto items = parse("a,b,c,d\na,b,c,d,e\n\"x\",\"y\nz\",c,d,e,f\nok\n", {}, o);
  REQUIRE(items.size() == 4);
  CHECK(items[0].row);
  CHECK(items[1] == problem(2, 3, 8, 18, "more than 4 fields"));
  CHECK(items[2] == problem(3, 5, 18, 36, "more than 4 fields"));
  CHECK(items[3].line == 5);
}

TEST_CASE("random inputs parse the same at any chunking and resume", "[marketo]") {
  // Short rows over an alphabet of the bytes that matter, with limits small enough that
  // every rule fires: the fast path and the carry path must draw the same boundaries.
  const std::vector<std::string> alphabet{"a", "b", ",", ",", "\"", "\"", "\"\"", "\n", "\r\n", "\r",
                                          "\xC3\xA9", "\xE2\x82\xAC", "\xC3", "\x80", "\xEF\xBB\xBF"};
  std::mt19937 rng(20240601);
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const auto pieces = rng() % 40;
    for (unsigned i = 0; i < pieces; ++i) text += alphabet[rng() % alphabet.size()];
    options o;
    o.limits.max_row_bytes = 4 + rng() % 16;
    o.limits.max_fields = 1 + rng() % 5;
    o.expect = rng() % 3;
    INFO("text [" << text << "] max_row_bytes " << o.limits.max_row_bytes << " max_fields "
                  << o.limits.max_fields << " expect " << o.expect);
    const auto whole = parse(text, {}, o);
    REQUIRE(parse_bytewise(text, o) == whole);
    std::vector<std::size_t> cuts;
    for (std::size_t at = rng() % 5; at < text.size(); at += 1 + rng() % 7) cuts.push_back(at);
    REQUIRE(parse(text, cuts, o) == whole);
    // Items follow each other without overlap; the gaps are empty lines (and a BOM).
    std::uint64_t line = 1, end = 0;
    for (const auto& i : whole) {
      REQUIRE(i.line >= line);
      REQUIRE(i.next_line >= i.line);
      REQUIRE(i.offset >= end);
      REQUIRE(i.end_offset > i.offset);
      line = i.next_line;
      end = i.end_offset;
    }
    REQUIRE(end <= text.size());
    if (!whole.empty()) {
      const auto& k = whole[rng() % whole.size()];
      options r = o;
      r.start_offset = k.seen_offset;
      r.start_line = k.seen_line;
      const auto rest = parse(std::string_view(text).substr(r.start_offset), {}, r);
      const auto at = static_cast<std::ptrdiff_t>(&k - whole.data()) + 1;
      REQUIRE(rest == std::vector<item>(whole.begin() + at, whole.end()));
    }
  }
}

TEST_CASE("a resumed stream hands out the same rows as an uninterrupted one", "[marketo]") {
  const auto whole = parse(tricky, {}, three_fields());
  for (std::size_t k = 0; k < whole.size(); ++k) {
    INFO("resume after item " << k << ": " << whole[k]);
    options o = three_fields();
    o.start_offset = whole[k].seen_offset;
    o.start_line = whole[k].seen_line;
    const auto rest = parse(std::string_view(tricky).substr(o.start_offset), {}, o);
    CHECK(rest == std::vector<item>(whole.begin() + static_cast<std::ptrdiff_t>(k) + 1, whole.end()));
    CHECK(parse_bytewise(std::string_view(tricky).substr(o.start_offset), o) == rest);
  }
  // The stream's own offset()/line() after feeding part of the file also resume.
  for (std::size_t cut = 0; cut <= tricky.size(); ++cut) {
    collector c{three_fields()};
    c.feed(std::string_view(tricky).substr(0, cut));
    options o = three_fields();
    o.start_offset = c.s.offset();
    o.start_line = c.s.line();
    auto rest = parse(std::string_view(tricky).substr(o.start_offset), {}, o);
    auto joined = c.items;
    joined.insert(joined.end(), rest.begin(), rest.end());
    INFO("cut at " << cut);
    REQUIRE(joined == whole);
  }
}

TEST_CASE("TSV and SSV delimiters", "[marketo]") {
  struct example {
    char delimiter;
    std::string text;
    std::vector<std::string> fields;
  };
  const std::vector<example> examples{
    {'\t', "a\tb,c\t\"d\te\"\t\n", {"a", "b,c", "d\te", ""}},
    {';', "a;b,c;\"d;e\";null\r\n", {"a", "b,c", "d;e", "null"}},
    {' ', "a b\t \"c d\" \"\"\"e\"\"\"\n", {"a", "b\t", "c d", "\"e\""}},
    {',', "a\tb;c d,e\n", {"a\tb;c d", "e"}},
  };
  for (const auto& e : examples) {
    INFO(e.text);
    options o;
    o.delimiter = e.delimiter;
    const auto items = parse(e.text, {}, o);
    REQUIRE(items.size() == 1);
    CHECK(items[0].fields == e.fields);
    CHECK(parse_bytewise(e.text, o) == items);
  }
}

TEST_CASE("a delimiter that cannot work is refused", "[marketo]") {
  for (char d : {'"', '\n', '\r', '\xC3'}) CHECK_THROWS_AS(csv_stream{d}, std::invalid_argument);
  CHECK_THROWS_AS((csv_stream{',', csv_limits{0, 10}}), std::invalid_argument);
  CHECK_THROWS_AS((csv_stream{',', csv_limits{10, 0}}), std::invalid_argument);
  CHECK_NOTHROW(csv_stream{'\t'});
}

TEST_CASE("the pull interface lets the caller stop between rows", "[marketo]") {
  const std::string first = "a,1\nb,2\nc,", second = "3\n";
  csv_stream s;
  s.push(first);
  REQUIRE(s.next() == csv_event::row);
  CHECK(s.current_row().fields[0] == "a");
  CHECK(s.offset() == 4);
  CHECK(s.line() == 2);
  // ... the caller does other work, then carries on with the same chunk.
  REQUIRE(s.next() == csv_event::row);
  CHECK(s.current_row().fields[1] == "2");
  CHECK(s.next() == csv_event::none);
  CHECK(s.buffered_bytes() == 2);
  s.push(second);
  REQUIRE(s.next() == csv_event::row);
  CHECK(s.current_row().fields[0] == "c");
  CHECK(s.current_row().end_offset == 12);
  CHECK(s.next() == csv_event::none);
  s.close();
  CHECK(s.next() == csv_event::none);
  CHECK(s.rows() == 3);
  CHECK(to_string(csv_fault::row_too_long) == "row_too_long");
}
