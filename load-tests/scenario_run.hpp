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

/// Runs the scenario against a dynchatd on loopback; prints progress each second and a
/// report at the end. Exit code: 0 ok, 1 a correctness or SLO failure, 2 bad set-up.
int run_scenario(const scenario& s, const run_options& o);

} // namespace dynchat::load
