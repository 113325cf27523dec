#include "tally.hpp"

#include <set>

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "report_util.hpp"

namespace dynchat::load {
namespace {

using json = nlohmann::json;

json buckets_json(const latency_histogram& h) {
  auto buckets = json::array();
  h.for_each_bucket([&](std::size_t i, std::uint64_t n) { buckets.push_back({i, n}); });
  return {{"max", h.max()}, {"buckets", buckets}};
}

latency_histogram histogram_from(const json& j) {
  latency_histogram h;
  const auto max = j.at("max").get<std::uint64_t>();
  for (const auto& b : j.at("buckets"))
    if (!h.add_bucket(b.at(0).get<std::size_t>(), b.at(1).get<std::uint64_t>(), max))
      throw std::invalid_argument("tally dump: histogram bucket out of range");
  return h;
}

std::uint64_t peak(const std::vector<std::uint64_t>& series) {
  return series.empty() ? 0 : *std::max_element(series.begin(), series.end());
}

void add_series(std::vector<std::uint64_t>& into, const std::vector<std::uint64_t>& from) {
  if (into.size() < from.size()) into.resize(from.size());
  for (std::size_t i = 0; i < from.size(); ++i) into[i] += from[i];
}

// The counters, named once for both directions of the JSON dump.
template <class Tally, class Fn> void for_each_counter(Tally& t, Fn&& fn) {
  fn("arrived", t.arrived);
  fn("connected", t.connected);
  fn("finished", t.finished);
  fn("resumed", t.resumed);
  fn("connect_failures", t.connect_failures);
  fn("closed_early", t.closed_early);
  fn("capped", t.capped);
  fn("sent", t.sent);
  fn("acked", t.acked);
  fn("timed_out", t.timed_out);
  fn("known", t.known);
  fn("dialogues_met", t.dialogues_met);
  fn("dialogue_answers", t.dialogue_answers);
  fn("bookings_sent", t.bookings_sent);
  fn("meetings_booked", t.meetings_booked);
  fn("bookings_refused", t.bookings_refused);
  fn("no_times_left", t.no_times_left);
}

template <class Tally, class Fn> void for_each_histogram(Tally& t, Fn&& fn) {
  fn("session_setup", t.setup);
  fn("visitor_ack", t.visitor_ack);
  fn("agent_ack", t.agent_ack);
  fn("visitor_to_agent", t.to_agent);
  fn("agent_to_visitor", t.to_visitor);
  fn("agent_wait", t.agent_wait);
  fn("bot_first", t.bot_first);
  fn("bot_reply", t.bot_reply);
  fn("meeting_slots", t.meeting_slots);
  fn("meeting_booking", t.meeting_booking);
}

} // namespace

void tally::merge(const tally& other) {
  setup.merge(other.setup);
  visitor_ack.merge(other.visitor_ack);
  agent_ack.merge(other.agent_ack);
  to_agent.merge(other.to_agent);
  to_visitor.merge(other.to_visitor);
  agent_wait.merge(other.agent_wait);
  bot_first.merge(other.bot_first);
  bot_reply.merge(other.bot_reply);
  meeting_slots.merge(other.meeting_slots);
  meeting_booking.merge(other.meeting_booking);
  booked_slots.insert(booked_slots.end(), other.booked_slots.begin(), other.booked_slots.end());
  bookings_sent += other.bookings_sent;
  meetings_booked += other.meetings_booked;
  bookings_refused += other.bookings_refused;
  no_times_left += other.no_times_left;
  checker.merge(other.checker);
  for (const auto& [code, n] : other.errors) errors[code] += n;
  arrived += other.arrived;
  connected += other.connected;
  finished += other.finished;
  resumed += other.resumed;
  connect_failures += other.connect_failures;
  closed_early += other.closed_early;
  capped += other.capped;
  sent += other.sent;
  acked += other.acked;
  timed_out += other.timed_out;
  known += other.known;
  dialogues_met += other.dialogues_met;
  dialogue_answers += other.dialogue_answers;
  add_series(acked_per_second, other.acked_per_second);
  add_series(visitors_per_second, other.visitors_per_second);
  add_series(connected_per_second, other.connected_per_second);
}

json tally::to_json() const {
  json j{{"checker", checker.to_json()},
         {"errors", errors},
         {"acked_per_second", acked_per_second},
         {"visitors_per_second", visitors_per_second},
         {"connected_per_second", connected_per_second},
         {"booked_slots", booked_slots}};
  for_each_counter(*this, [&](const char* name, std::uint64_t v) { j[name] = v; });
  for_each_histogram(*this, [&](const char* name, const latency_histogram& h) { j["histograms"][name] = buckets_json(h); });
  return j;
}

tally tally::from_json(const json& j) {
  try {
    tally t;
    t.checker = delivery_checker::from_json(j.at("checker"));
    t.errors = j.at("errors").get<std::map<std::string, std::uint64_t>>();
    t.acked_per_second = j.at("acked_per_second").get<std::vector<std::uint64_t>>();
    t.visitors_per_second = j.at("visitors_per_second").get<std::vector<std::uint64_t>>();
    t.connected_per_second = j.at("connected_per_second").get<std::vector<std::uint64_t>>();
    t.booked_slots = j.at("booked_slots").get<std::vector<std::string>>();
    for_each_counter(t, [&](const char* name, std::uint64_t& v) { v = j.at(name).get<std::uint64_t>(); });
    for_each_histogram(t, [&](const char* name, latency_histogram& h) { h = histogram_from(j.at("histograms").at(name)); });
    return t;
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string{"tally dump: "} + e.what());
  }
}

json make_report(const tally& t, const scenario& sc, double elapsed, const service_levels& slo, unsigned procs) {
  auto timeline = json::array(); // one sample a second, for throughput-over-time plots
  for (std::size_t k = 0; k < t.acked_per_second.size(); ++k)
    timeline.push_back({{"t", static_cast<double>(k + 1)},
                        {"acked", t.acked_per_second[k]},
                        {"visitors", k < t.visitors_per_second.size() ? t.visitors_per_second[k] : 0},
                        {"connected", k < t.connected_per_second.size() ? t.connected_per_second[k] : 0}});
  const auto lost = t.checker.lost(); // a scan over every conversation: once
  const bool exactly_once = lost == 0 && t.checker.duplicated() == 0 && t.checker.reordered() == 0;
  std::set<std::string> distinct_slots(t.booked_slots.begin(), t.booked_slots.end());
  const auto double_booked = t.booked_slots.size() - distinct_slots.size();
  json latency;
  for_each_histogram(t, [&](const char* name, const latency_histogram& h) { latency[name] = histogram_json(h); });
  json report{{"scenario", sc.name},
              {"encoding", sc.msgpack ? "msgpack" : "json"},
              {"procs", procs},
              {"seconds", elapsed},
              {"visitors_arrived", t.arrived},
              {"visitors_connected", t.connected},
              {"visitors_known", t.known},
              {"dialogues_met", t.dialogues_met},
              {"dialogue_answers", t.dialogue_answers},
              {"visitors_finished", t.finished},
              {"visitors_capped", t.capped},
              {"resumed", t.resumed},
              {"connect_failures", t.connect_failures},
              {"closed_early", t.closed_early},
              {"unfinished_at_stop", t.arrived - t.capped - t.finished},
              {"timed_out", t.timed_out > 0},
              {"agents", sc.agents},
              {"messages_sent", t.sent},
              {"messages_acked", t.acked},
              {"acked_per_second", elapsed > 0 ? static_cast<double>(t.acked) / elapsed : 0.0},
              {"peak_acked_per_second", peak(t.acked_per_second)},
              {"peak_sessions_per_second", peak(t.connected_per_second)},
              {"peak_concurrent_visitors", peak(t.visitors_per_second)},
              {"lost", lost},
              {"duplicated", t.checker.duplicated()},
              {"reordered", t.checker.reordered()},
              {"latency", latency},
              {"errors", t.errors},
              {"bookings_sent", t.bookings_sent},
              {"meetings_booked", t.meetings_booked},
              {"bookings_refused", t.bookings_refused},
              {"no_times_left", t.no_times_left},
              {"double_booked", double_booked},
              {"timeline", timeline}};
  // ok is "no reason against it".
  auto refuse = [&](const std::string& why) { report["not_ok_because"].push_back(why); };
  if (!exactly_once) refuse("messages lost, duplicated or reordered");
  if (double_booked > 0) refuse("a slot was booked by more than one visitor");
  // Cut off at the time bound: what was acked and not yet delivered shows up in "lost".
  if (t.timed_out) refuse("the run reached its time bound before every visitor was done");
  auto bound = [&](const latency_histogram& h, double limit_ms, const char* what) {
    if (limit_ms <= 0 || static_cast<double>(h.quantile(0.99)) <= limit_ms * 1000) return;
    const std::string why = fmt::format("p99 {} above {:g} ms", what, limit_ms);
    report["slo_missed"].push_back(why);
    refuse(why);
  };
  bound(t.visitor_ack, slo.p99_ack_ms, "visitor ack");
  bound(t.to_agent, slo.p99_delivery_ms, "visitor -> agent delivery");
  bound(t.to_visitor, slo.p99_delivery_ms, "agent -> visitor delivery");
  bound(t.agent_wait, slo.p99_agent_wait_ms, "wait for an agent");
  report["ok"] = !report.contains("not_ok_because");
  return report;
}

} // namespace dynchat::load
