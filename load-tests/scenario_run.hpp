#pragma once
#include <cstdint>
#include <string>

#include "scenario.hpp"

namespace dynchat::load {

struct run_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string admin_token;  // to create the simulated agents over REST
  std::string report;       // JSON report path
  double max_seconds = 0;   // hard bound; 0: derived from the scenario
  double slo_p99_ack_ms = 0; // 0: none
  std::uint64_t seed = 1;
};

struct run_result {
  int exit_code = 0;   // 0 ok, 1 a correctness or SLO failure, 2 bad set-up
  std::string report;  // the JSON report
};

/// Runs the scenario against a dynchatd on loopback, printing progress each second.
run_result run_scenario(const scenario& s, const run_options& o);

/// Capacity mode: runs the scenario at arrival_rate x factor^k, k = 0, 1, ... until a step
/// misses the SLO or loses, duplicates or reorders a message (or max_steps); reports
/// every step and the highest rate that held.
run_result find_capacity(scenario s, const run_options& o, double factor, unsigned max_steps);

} // namespace dynchat::load
