#include <catch2/catch.hpp>

#include "dynchat/calendar/settings.hpp"

using namespace dynchat::calendar;
using nlohmann::json;

namespace {
std::vector<std::string> paths(const decoded& d) {
  std::vector<std::string> out;
  for (const auto& p : d.problems) out.push_back(p.path + ": " + p.reason);
  return out;
}
} // namespace

TEST_CASE("calendar settings decode with every field and round-trip through JSON", "[calendar]") {
  const auto body = json::parse(R"({"time_zone":"Europe/Berlin","availability":[
      {"day":"tue","start":"13:00","end":"17:00"},{"day":"mon","start":"09:00","end":"12:00"},
      {"day":"tue","start":"09:00","end":"12:00"}],
    "duration_min":45,"buffer_min":15,"min_notice_min":120,"horizon_days":21,"takes_meetings":true,
    "invite_template":"Hi {{lead.firstName:\"there\"}}","conference_template":"https://meet.example.com/ann",
    "live_chat_hours":[{"day":"fri","start":"10:00","end":"11:00"},{"day":"mon","start":"08:00","end":"18:00"}]})");
  const auto d = decode_settings(body);
  INFO(paths(d).size());
  REQUIRE(d.value);
  CHECK(d.value->time_zone == "Europe/Berlin");
  REQUIRE(d.value->weekly.size() == 3);
  CHECK(d.value->weekly[0] == weekly_block{1, 9 * 60, 12 * 60}); // sorted by day, then start
  CHECK(d.value->weekly[1] == weekly_block{2, 9 * 60, 12 * 60});
  CHECK(d.value->weekly[2] == weekly_block{2, 13 * 60, 17 * 60});
  CHECK(d.value->duration_min == 45);
  CHECK(d.value->buffer_min == 15);
  CHECK(d.value->min_notice_min == 120);
  CHECK(d.value->horizon_days == 21);
  REQUIRE(d.value->chat_hours.size() == 2); // live chat's own hours, sorted too
  CHECK(d.value->chat_hours[0] == weekly_block{1, 8 * 60, 18 * 60});
  CHECK(d.value->chat_hours[1] == weekly_block{5, 10 * 60, 11 * 60});
  const auto again = decode_settings(to_json(*d.value));
  REQUIRE(again.value);
  CHECK(*again.value == *d.value);
}

TEST_CASE("calendar settings take the documented defaults", "[calendar]") {
  const auto d = decode_settings(json{{"time_zone", "UTC"}});
  REQUIRE(d.value);
  CHECK(d.value->min_notice_min == 24 * 60);
  CHECK(d.value->horizon_days == 14);
  CHECK(d.value->duration_min == 30);
  CHECK(d.value->weekly.empty());
}

TEST_CASE("bad calendar settings list every problem with its path", "[calendar]") {
  struct row {
    const char* body;
    const char* expected; // a substring of one problem, "path: reason"
  };
  const row rows[] = {
    {R"({})", "time_zone: is missing"},
    {R"({"time_zone":"Mars/Olympus"})", "time_zone: is not a known IANA time zone"},
    {R"({"time_zone":"UTC","availability":[{"day":"mon","start":"12:00","end":"09:00"}]})", "availability[0]: ends at or before it starts"},
    {R"({"time_zone":"UTC","availability":[{"day":"mon","start":"10:00","end":"10:00"}]})", "availability[0]: ends at or before it starts"},
    {R"({"time_zone":"UTC","availability":[{"day":"mon","start":"09:00","end":"12:00"},{"day":"mon","start":"11:00","end":"13:00"}]})",
     "availability[1]: overlaps another block on mon"},
    {R"({"time_zone":"UTC","live_chat_hours":[{"day":"mon","start":"09:00","end":"12:00"},{"day":"mon","start":"11:00","end":"13:00"}]})",
     "live_chat_hours[1]: overlaps another block on mon"},
    {R"({"time_zone":"UTC","live_chat_hours":[{"day":"tue","start":"12:00","end":"09:00"}]})", "live_chat_hours[0]: ends at or before it starts"},
    {R"({"time_zone":"UTC","availability":[{"day":"monday","start":"09:00","end":"12:00"}]})", "availability[0].day: must be one of"},
    {R"({"time_zone":"UTC","availability":[{"day":"mon","start":"-1:00","end":"12:00"}]})", "availability[0].start: must be a time"},
    {R"({"time_zone":"UTC","availability":[{"day":"mon","start":"09:00","end":"24:30"}]})", "availability[0].end: must be a time"},
    {R"({"time_zone":"UTC","availability":[{"day":"mon","start":"09:00","end":"09:20"}]})", "availability: a block on mon is shorter than one meeting"},
    {R"({"time_zone":"UTC","duration_min":0})", "duration_min: must be a whole number from 5 to 480"},
    {R"({"time_zone":"UTC","buffer_min":-5})", "buffer_min: must be a whole number"},
    {R"({"time_zone":"UTC","horizon_days":365})", "horizon_days: must be a whole number from 1 to 90"},
    {R"({"time_zone":"UTC","min_notice":5})", "min_notice: is not a field here"},
    {R"({"time_zone":"UTC","takes_meetings":"yes"})", "takes_meetings: must be true or false"},
    {R"([1])", ": must be an object"},
  };
  for (const auto& r : rows) {
    const auto d = decode_settings(json::parse(r.body));
    const auto found = paths(d);
    INFO(r.body);
    CHECK_FALSE(d.value);
    CHECK(std::any_of(found.begin(), found.end(), [&](const std::string& p) { return p.find(r.expected) != std::string::npos; }));
  }
  // Several at once: all of them listed.
  const auto d = decode_settings(json::parse(R"({"time_zone":"Nowhere/City","duration_min":1000,"colour":1})"));
  CHECK(d.problems.size() == 3);
}

TEST_CASE("stored settings read back, and none or unreadable text is no settings", "[calendar]") {
  auto decoded = dynchat::calendar::decode_settings(nlohmann::json::parse(
    R"({"time_zone":"Asia/Tokyo","availability":[{"day":"mon","start":"09:00","end":"10:00"}]})"));
  REQUIRE(decoded.value);
  const auto text = dynchat::calendar::to_json(*decoded.value).dump();
  CHECK(dynchat::calendar::settings_from_stored(text) == decoded.value);
  CHECK_FALSE(dynchat::calendar::settings_from_stored(""));
  CHECK_FALSE(dynchat::calendar::settings_from_stored("{not json"));
  CHECK_FALSE(dynchat::calendar::settings_from_stored(R"({"time_zone":"Mars/Base"})"));
}
