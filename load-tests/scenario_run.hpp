#pragma once
#include <cstdint>
#include <string>

#include "scenario.hpp"
#include "tally.hpp"

namespace dynchat::load {

struct run_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string admin_token;  // to create the simulated agents over REST
  double max_seconds = 0;   // hard bound; 0: derived from the scenario
  service_levels slo;       // bounds the run must keep (all off by default)
  std::uint64_t seed = 1;
  unsigned procs = 1;              // client processes (see launcher.hpp)
  unsigned source_addresses = 64;  // source addresses per process, 127.(p+1).x.y
  std::string run_tag;             // names this run's visitors (page_url); set by run_scenario
  // Set by the launcher for each child process:
  unsigned proc_index = 0;
  std::int64_t start_at_ns = 0;    // steady_clock (system-wide CLOCK_MONOTONIC) start; 0: now
  int progress_fd = -1;            // write progress and the final tally as JSON lines here
};

struct run_result {
  int exit_code = 0;   // 0 ok, 1 a correctness or SLO failure, 2 bad set-up
  std::string report;  // the JSON report
};

/// Runs the scenario against a dynchatd on loopback, printing progress each second; with
/// o.procs > 1, in that many child processes whose tallies are merged into one report.
run_result run_scenario(const scenario& s, const run_options& o);

/// One process's part of a run (`s` is already its share). Returns what it counted and
/// the seconds it ran. With o.procs > 1 it reports progress on o.progress_fd and stops
/// on SIGUSR1 (the launcher's "everyone is done") or at the time bound. Throws
/// std::runtime_error when it cannot set up (the agents could not be created).
tally run_share(const scenario& s, const run_options& o, double& elapsed_seconds);

/// The time bound of a run, in seconds: o.max_seconds, or one derived from the scenario.
double run_bound_seconds(const scenario& s, const run_options& o);

/// Capacity mode: runs the scenario at arrival_rate x factor^k, k = 0, 1, ... until a step
/// misses the SLO or loses, duplicates or reorders a message (or max_steps); reports
/// every step and the highest rate that held.
run_result find_capacity(scenario s, const run_options& o, double factor, unsigned max_steps);

} // namespace dynchat::load
