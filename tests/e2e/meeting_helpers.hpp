#pragma once
// What the meeting and routing tests share: an agent whose calendar is free all day,
// every day.
#include "helpers.hpp"

namespace dynchat::testing {

// An agent who meets any day, all day, from now on: every half hour is a slot.
inline std::string agent_with_calendar(std::uint16_t port, const std::string& name) {
  auto created = http_call(port, "POST", "/v1/agents", json{{"name", name}, {"email", name + "@acme.example"}}.dump(), admin_token);
  REQUIRE(created.status == 201);
  const std::string id = created.json_body()["id"];
  json week = json::array();
  for (auto day : {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}) week.push_back({{"day", day}, {"start", "00:00"}, {"end", "24:00"}});
  auto settings = http_call(port, "PUT", "/v1/agents/" + id + "/calendar",
                            json{{"time_zone", "UTC"}, {"min_notice_min", 0}, {"horizon_days", 2}, {"availability", week}}.dump(),
                            admin_token);
  REQUIRE(settings.status == 200);
  const std::string ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nEND:VCALENDAR\r\n";
  auto uploaded = http_call(port, "PUT", "/v1/agents/" + id + "/calendar/ics", ics, admin_token);
  REQUIRE(uploaded.status == 200);
  REQUIRE(uploaded.json_body()["connection"]["status"] == "ok");
  return id;
}

inline std::string agent_of(const std::string& slot_id) { return slot_id.substr(0, slot_id.find(':')); }

} // namespace dynchat::testing
