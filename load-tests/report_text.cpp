#include "report_text.hpp"

#include <cstdint>
#include <utility>

#include <fmt/format.h>

namespace dynchat::load {
namespace {

using json = nlohmann::json;

// A field in microseconds, as milliseconds; 0 when absent (a report from an older tool).
double ms(const json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? it->get<double>() / 1000.0 : 0.0;
}

std::uint64_t count(const json& j, const char* key) { return j.value(key, std::uint64_t{0}); }

// The latencies in the order a chat happens, with the names people read.
constexpr std::pair<const char*, const char*> latencies[] = {
  {"session_setup", "session set-up"}, {"agent_wait", "wait for an agent"},
  {"visitor_ack", "visitor ack"},      {"agent_ack", "agent ack"},
  {"visitor_to_agent", "visitor -> agent"}, {"agent_to_visitor", "agent -> visitor"},
  {"bot_first", "bot first, past delay"}, {"bot_reply", "bot reply, past delay"},
  {"meeting_slots", "meeting times shown"}, {"meeting_booking", "booking answered"},
};

std::string reasons(const json& report) {
  std::string out;
  for (const auto& why : report.value("not_ok_because", json::array())) {
    if (!out.empty()) out += "; ";
    out += why.get<std::string>();
  }
  return out;
}

} // namespace

std::string render_report(const json& r) {
  std::string out;
  out += fmt::format("scenario {}, {} encoding, {} process(es), {:.1f} s\n", r.value("scenario", "?"),
                     r.value("encoding", "?"), count(r, "procs"), r.value("seconds", 0.0));
  out += fmt::format("visitors   arrived {}  connected {}  finished {}  resumed {}  capped {}  known {}  "
                     "held at once (peak) {}\n",
                     count(r, "visitors_arrived"), count(r, "visitors_connected"), count(r, "visitors_finished"),
                     count(r, "resumed"), count(r, "visitors_capped"), count(r, "visitors_known"),
                     count(r, "peak_concurrent_visitors"));
  out += fmt::format("           connect failures {}  closed by the server {}  unfinished at stop {}\n",
                     count(r, "connect_failures"), count(r, "closed_early"), count(r, "unfinished_at_stop"));
  out += fmt::format("messages   sent {}  acked {}  {:.0f} acked/s (peak {}/s)  peak new sessions {}/s\n",
                     count(r, "messages_sent"), count(r, "messages_acked"), r.value("acked_per_second", 0.0),
                     count(r, "peak_acked_per_second"), count(r, "peak_sessions_per_second"));
  out += fmt::format("{:<22}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}\n", "latency (ms)", "count", "p50", "p90", "p99", "p99.9",
                     "max");
  const json lat = r.value("latency", json::object());
  for (const auto& [key, name] : latencies) {
    if (!lat.contains(key)) continue;
    const auto& h = lat.at(key);
    if (count(h, "count") == 0) continue; // e.g. no agents: nothing was waited for
    out += fmt::format("  {:<20}{:>9}{:>9.1f}{:>9.1f}{:>9.1f}{:>9.1f}{:>9.1f}\n", name, count(h, "count"), ms(h, "p50_us"),
                       ms(h, "p90_us"), ms(h, "p99_us"), ms(h, "p999_us"), ms(h, "max_us"));
  }
  if (count(r, "bookings_sent") > 0)
    out += fmt::format("meetings   bookings sent {}  booked {}  refused (taken) {}  no times left {}  double-booked {}\n",
                       count(r, "bookings_sent"), count(r, "meetings_booked"), count(r, "bookings_refused"),
                       count(r, "no_times_left"), count(r, "double_booked"));
  out += fmt::format("exactly once  lost {}  duplicated {}  reordered {}\n", count(r, "lost"), count(r, "duplicated"),
                     count(r, "reordered"));
  std::string errors;
  const json by_code = r.value("errors", json::object()); // named: items() must not outlive it
  for (const auto& [code, n] : by_code.items())
    errors += fmt::format("{}{} {}", errors.empty() ? "" : ", ", code, n.get<std::uint64_t>());
  out += fmt::format("errors        {}\n", errors.empty() ? "none" : errors);
  out += r.value("ok", false) ? std::string{"result        OK\n"} : "result        NOT OK: " + reasons(r) + "\n";
  return out;
}

std::string render_capacity(const json& c) {
  std::string out;
  out += fmt::format("capacity search, scenario {}: SLO p99 visitor ack {} ms, delivery {} ms, wait for an agent {} ms "
                     "(0: unbounded), 0 lost/duplicated/reordered\n",
                     c.value("scenario", "?"), c.value("slo_p99_ack_ms", 0.0), c.value("slo_p99_delivery_ms", 0.0),
                     c.value("slo_p99_agent_wait_ms", 0.0));
  out += fmt::format("{:>4}{:>12}{:>10}{:>10}{:>10}{:>10}{:>10}  {}\n", "step", "visitors/s", "acked/s", "ack p99",
                     "v->a p99", "a->v p99", "wait p99", "result (latencies in ms)");
  unsigned k = 0;
  for (const auto& s : c.value("steps", json::array())) {
    const std::string verdict = s.value("ok", false) ? std::string{"ok"} : "missed: " + reasons(s);
    out += fmt::format("{:>4}{:>12.0f}{:>10.0f}{:>10.1f}{:>10.1f}{:>10.1f}{:>10.1f}  {}\n", ++k,
                       s.value("arrival_rate", 0.0), s.value("acked_per_second", 0.0), ms(s, "p99_visitor_ack_us"),
                       ms(s, "p99_visitor_to_agent_us"), ms(s, "p99_agent_to_visitor_us"), ms(s, "p99_agent_wait_us"),
                       verdict);
  }
  const double held = c.value("highest_arrival_rate_held", 0.0);
  out += held > 0 ? fmt::format("highest arrival rate held: {:.0f} visitors/s\n", held)
                  : std::string{"no step held\n"};
  return out;
}

} // namespace dynchat::load
