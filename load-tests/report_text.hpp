#pragma once
// The final report for people: what a run (or a capacity search) measured, in a few
// aligned lines, rendered from the same JSON report that --report writes.
#include <string>

#include <nlohmann/json.hpp>

namespace dynchat::load {

/// A scenario run's report (make_report) as text: counts, throughput, a latency table
/// (ms), correctness, errors and the verdict with its reasons.
std::string render_report(const nlohmann::json& report);

/// A capacity search (find_capacity) as text: the SLOs, one line per step, and the
/// highest arrival rate held.
std::string render_capacity(const nlohmann::json& capacity);

} // namespace dynchat::load
