#pragma once
// What one load run counted: latencies, correctness, counters and a per-second timeline.
// One process fills one tally; with --procs N every child sends its tally to the
// launcher as JSON, and the launcher merges them before it writes the report.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "delivery_checker.hpp"
#include "histogram.hpp"
#include "scenario.hpp"

namespace dynchat::load {

struct tally {
  latency_histogram setup, visitor_ack, agent_ack, to_agent, to_visitor;
  latency_histogram agent_wait; // a visitor's due arrival -> an agent joined its chat
  latency_histogram bot_first;  // hello sent -> the dialogue's first bot message, beyond the bot's delay
  latency_histogram bot_reply;  // an answer sent -> the bot's next message, beyond the bot's delay
  latency_histogram meeting_slots;   // hello sent (or a refused booking) -> the meeting card's times, beyond the delay
  latency_histogram meeting_booking; // book sent -> booked or refused, beyond the delay
  delivery_checker checker;
  std::map<std::string, std::uint64_t> errors; // by error code
  std::uint64_t arrived = 0, connected = 0, finished = 0, resumed = 0, connect_failures = 0, closed_early = 0,
                capped = 0, sent = 0, acked = 0;
  std::uint64_t known = 0;     // visitors the server welcomed as known leads
  std::uint64_t dialogues_met = 0, dialogue_answers = 0; // welcomed into a dialogue; options and captures sent
  std::uint64_t timed_out = 0; // processes that reached the time bound before everyone was done
  std::uint64_t bookings_sent = 0, meetings_booked = 0, bookings_refused = 0, no_times_left = 0;
  std::vector<std::string> booked_slots; // every slot a visitor was told is theirs: each at most once
  std::vector<std::uint64_t> acked_per_second;    // [k]: acks during second k+1 after the start
  std::vector<std::uint64_t> visitors_per_second; // [k]: visitors between arrival and finish at the end of second k+1
  std::vector<std::uint64_t> connected_per_second; // [k]: sessions set up (welcomed) during second k+1

  void merge(const tally& other);
  nlohmann::json to_json() const;
  /// Throws std::invalid_argument on a malformed dump.
  static tally from_json(const nlohmann::json& j);
};

/// Bounds a run must keep besides exactly-once delivery (0 turns one off). Capacity mode
/// steps the load up until one of them breaks.
struct service_levels {
  double p99_ack_ms = 0;        // visitor acks: the durable commit as the sender sees it
  double p99_delivery_ms = 0;   // visitor -> agent and agent -> visitor, the chat as people see it
  double p99_agent_wait_ms = 0; // a visitor's arrival -> an agent in its chat: a server (or an
                                // agent pool) that falls behind shows here, not in the acks
};

/// The run's report. "ok" is false when a message was lost, duplicated or reordered, when
/// the run was cut off at its time bound, or when a p99 went above a bound in `slo`
/// (each miss is listed in "slo_missed").
nlohmann::json make_report(const tally& t, const scenario& sc, double elapsed_seconds, const service_levels& slo,
                           unsigned procs);

} // namespace dynchat::load
