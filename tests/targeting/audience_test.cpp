#include <catch2/catch.hpp>

#include "dynchat/targeting/audience.hpp"

using namespace dynchat;
using namespace dynchat::targeting;
using dialogue::op;

namespace {

page_url page(const char* url) { return *parse_page_url(url); }

dialogue::condition cond(const char* attribute, op o, const char* value = "") { return {attribute, o, value}; }

candidate make(const char* id, std::uint32_t priority, dialogue::audience a) {
  return {id, priority, *compiled_audience::compile(a)};
}

} // namespace

TEST_CASE("every operator, on a present, an empty and a missing field", "[targeting]") {
  const lead_attributes lead{{"country", "Germany"}, {"employees", "750"}, {"title", ""}, {"email", "a@b.de"}};
  struct row {
    dialogue::condition c;
    bool holds;
  };
  const row rows[] = {
    {cond("country", op::is, "germany"), true},        {cond("country", op::is, "Ger"), false},
    {cond("missing", op::is, ""), true},               {cond("country", op::is_not, "France"), true},
    {cond("country", op::is_not, "GERMANY"), false},   {cond("missing", op::is_not, "x"), true},
    {cond("country", op::contains, "RMA"), true},      {cond("country", op::contains, "x"), false},
    {cond("country", op::starts_with, "ger"), true},   {cond("country", op::starts_with, "many"), false},
    {cond("employees", op::greater_than, "500"), true}, {cond("employees", op::greater_than, "750"), false},
    {cond("employees", op::less_than, "1000.5"), true}, {cond("employees", op::less_than, "-3"), false},
    {cond("country", op::greater_than, "1"), false},   // not a number: false either way
    {cond("country", op::less_than, "1"), false},      {cond("missing", op::greater_than, "-1"), false},
    {cond("title", op::is_empty), true},               {cond("missing", op::is_empty), true},
    {cond("country", op::is_empty), false},            {cond("title", op::is_not_empty), false},
    {cond("country", op::is_not_empty), true},
  };
  for (const auto& r : rows) {
    CAPTURE(r.c.attribute, dialogue::to_string(r.c.op), r.c.value);
    CHECK(holds(r.c, lead) == r.holds);
  }
}

TEST_CASE("groups join their conditions by all or any, audiences their groups", "[targeting]") {
  const lead_attributes lead{{"country", "DE"}, {"industry", "Retail"}};
  dialogue::condition_group all{true, {cond("country", op::is, "DE"), cond("industry", op::is, "Banking")}};
  dialogue::condition_group any{false, {cond("country", op::is, "DE"), cond("industry", op::is, "Banking")}};
  CHECK_FALSE(holds(all, lead));
  CHECK(holds(any, lead));
  dialogue::audience a;
  a.groups = {all, any};
  CHECK_FALSE(compiled_audience::compile(a)->matches(page("https://x.com/"), lead));
  a.all_groups = false;
  CHECK(compiled_audience::compile(a)->matches(page("https://x.com/"), lead));
}

TEST_CASE("an audience: target URLs, exclusions, known or anonymous", "[targeting]") {
  dialogue::audience a;
  a.urls = {"https://site.com/pricing/*", "https://site.com/plans"};
  a.excluded = {"https://site.com/pricing/old*"};
  auto compiled = *compiled_audience::compile(a);
  const lead_attributes anonymous{}, known{{"email", "ann@example.com"}};
  CHECK(compiled.matches(page("https://site.com/pricing/team?ref=ad"), anonymous));
  CHECK(compiled.matches(page("https://site.com/plans"), known));
  CHECK_FALSE(compiled.matches(page("https://site.com/pricing/old-plans"), anonymous)); // excluded
  CHECK_FALSE(compiled.matches(page("https://site.com/blog"), anonymous));              // not targeted
  a.visitors = dialogue::visitor_kind::known;
  CHECK_FALSE(compiled_audience::compile(a)->matches(page("https://site.com/plans"), anonymous));
  CHECK(compiled_audience::compile(a)->matches(page("https://site.com/plans"), known));
  a.visitors = dialogue::visitor_kind::anonymous;
  CHECK(compiled_audience::compile(a)->matches(page("https://site.com/plans"), anonymous));
  CHECK_FALSE(compiled_audience::compile(a)->matches(page("https://site.com/plans"), known));
  dialogue::audience everywhere; // no URLs: every page
  CHECK(compiled_audience::compile(everywhere)->matches(page("https://anything.org/x"), anonymous));
}

TEST_CASE("the highest priority among the matching dialogues wins, and skipped ones never do", "[targeting]") {
  dialogue::audience pricing;
  pricing.urls = {"https://site.com/pricing*"};
  dialogue::audience everywhere;
  dialogue::audience known_only;
  known_only.visitors = dialogue::visitor_kind::known;
  const std::vector<candidate> published = {
    make("general", 5, everywhere), make("pricing", 2, pricing), make("vip", 1, known_only), make("also-pricing", 2, pricing)};
  const lead_attributes anonymous{}, known{{"email", "ann@example.com"}};
  CHECK(resolve(published, page("https://site.com/pricing"), known) == "vip");
  CHECK(resolve(published, page("https://site.com/pricing"), anonymous) == "also-pricing"); // a tie: the smaller id
  CHECK(resolve(published, page("https://site.com/blog"), anonymous) == "general");
  CHECK(resolve(published, page("https://site.com/pricing"), anonymous, {"also-pricing", "pricing"}) == "general");
  CHECK_FALSE(resolve(published, page("https://site.com/blog"), anonymous, {"general"}));
  CHECK_FALSE(resolve({}, page("https://site.com/"), anonymous));
}
