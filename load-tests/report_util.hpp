#pragma once
// Small pieces both load modes share: timing, histogram summaries, the loopback rule.
#include <chrono>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "histogram.hpp"

namespace dynchat::load {

using steady = std::chrono::steady_clock;

/// Microseconds from t until now, never negative.
std::uint64_t micros_since(steady::time_point t);
/// count, p50, p90, p99, p99.9 and max of a histogram, in microseconds.
nlohmann::json histogram_json(const latency_histogram& h);
/// Writes line + '\n' to a pipe or file descriptor, all of it; false if it could not.
bool write_line(int fd, const std::string& line);
/// True for an IPv4 address in 127.0.0.0/8: load is only ever sent to this machine.
bool is_loopback_v4(const std::string& host);
/// The source address (host order) of a client's k-th connection. Process p of the load
/// tester uses `per_process` addresses 127.(p+1).x.y, so connections spread over
/// 127.0.0.0/8 and no one source address runs out of ephemeral ports. p < 254.
std::uint32_t source_address_v4(unsigned process, std::uint64_t connection, unsigned per_process);

} // namespace dynchat::load
