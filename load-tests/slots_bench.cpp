// How long one visitor's request for meeting times takes in the scheduler (not a test:
// prints figures). 100 agents in New York, available Monday to Friday 09:00-17:00 (30 min
// meetings, 10 min buffer, 14-day horizon), each with 500 busy events in those 14 days;
// the request is what the scheduler does for a meeting card: the agents in turn order,
// the first eligible one (a free slot within the horizon), then its first 8 times.
// Three workloads:
//  - typical: every agent has free time; the first agent in turn answers;
//  - worst: the first 99 agents in turn are booked solid, so every one of their 14 days
//    is searched before the 100th answers;
//  - full list: one agent's every free time in the 14 days (GET /v1/agents/{id}/slots?limit=500).
// Usage: build/slots-bench [seconds per workload, default 2]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "dynchat/calendar/slots.hpp"
#include "dynchat/routing/assignment.hpp"
#include "dynchat/routing/meeting_turn.hpp"

using namespace dynchat;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr int agents = 100, events = 500, horizon_days = 14;
constexpr std::int64_t minute = 60'000, hour = 60 * minute, day = 24 * hour;

struct agent_calendar {
  calendar::settings settings;
  calendar::occupancy busy;
};

calendar::settings working_week() {
  nlohmann::json week = nlohmann::json::array();
  for (auto d : {"mon", "tue", "wed", "thu", "fri"}) week.push_back({{"day", d}, {"start", "09:00"}, {"end", "17:00"}});
  auto decoded = calendar::decode_settings({{"time_zone", "America/New_York"},
                                            {"availability", week},
                                            {"duration_min", 30},
                                            {"buffer_min", 10},
                                            {"min_notice_min", 0},
                                            {"horizon_days", horizon_days}});
  if (!decoded.value) std::abort();
  return *decoded.value;
}

// 500 events of 15 to 60 minutes over the next 14 days; `solid` adds one covering it all.
calendar::occupancy busy_times(std::mt19937& rng, std::int64_t now, bool solid) {
  std::vector<calendar::interval> busy;
  for (int e = 0; e < events; ++e) {
    const auto start = now + static_cast<std::int64_t>(rng() % (horizon_days * day / minute)) * minute;
    busy.push_back({start, start + (15 + static_cast<std::int64_t>(rng() % 46)) * minute});
  }
  if (solid) busy.push_back({now - day, now + (horizon_days + 1) * day});
  return calendar::occupancy{std::move(busy)};
}

struct figures {
  double mean_us, p50_us, p99_us, max_us;
  std::size_t requests;
};

template <class Fn>
figures measure(double seconds, Fn&& request) {
  std::vector<double> us;
  const auto until = clock_type::now() + std::chrono::duration<double>(seconds);
  while (clock_type::now() < until) {
    const auto t0 = clock_type::now();
    request();
    us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double v : us) sum += v;
  return {sum / us.size(), us[us.size() / 2], us[us.size() * 99 / 100], us.back(), us.size()};
}

void print(const char* name, const figures& f, std::size_t slots) {
  std::printf("%-10s %8zu requests  mean %8.1f us  p50 %8.1f us  p99 %8.1f us  max %8.1f us  (%zu times offered)\n", name,
              f.requests, f.mean_us, f.p50_us, f.p99_us, f.max_us, slots);
}

} // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  std::mt19937 rng{42};
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto settings = working_week();

  std::vector<std::string> ids;
  for (int a = 0; a < agents; ++a) ids.push_back("agent" + std::to_string(1000 + a));
  std::map<std::string, agent_calendar> free_agents, solid_agents;
  for (int a = 0; a < agents; ++a) {
    free_agents[ids[a]] = {settings, busy_times(rng, now, false)};
    solid_agents[ids[a]] = {settings, busy_times(rng, now, a != agents - 1)}; // the last in turn order answers
  }

  // What actors/scheduler.cpp offer() does for one request.
  auto offer = [&](const std::map<std::string, agent_calendar>& cals, std::size_t max) {
    auto eligible = [&](const std::string& id) {
      const auto& c = cals.at(id);
      return !calendar::free_slots(c.settings, c.busy, {now, 0, 0, 1}).empty();
    };
    const auto pick = routing::assign({}, routing::meeting_turns(ids, ""), eligible);
    if (!pick) return std::size_t{0};
    const auto& c = cals.at(pick->agent_id);
    return calendar::free_slots(c.settings, c.busy, {now, 0, 0, max}).size();
  };

  std::size_t shown = 0;
  std::printf("slots: %d agents x %d days x %d busy events each, %.1f s per workload\n", agents, horizon_days, events, seconds);
  auto typical = measure(seconds, [&] { shown = offer(free_agents, 8); });
  print("typical", typical, shown);
  auto worst = measure(seconds, [&] { shown = offer(solid_agents, 8); });
  print("worst", worst, shown);
  auto full = measure(seconds, [&] {
    const auto& c = free_agents.begin()->second;
    shown = calendar::free_slots(c.settings, c.busy, {now, 0, 0, 500}).size();
  });
  print("full list", full, shown);
  return 0;
}
