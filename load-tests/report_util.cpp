#include "report_util.hpp"

#include <arpa/inet.h>

namespace dynchat::load {

std::uint64_t micros_since(steady::time_point t) {
  auto d = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - t).count();
  return static_cast<std::uint64_t>(d > 0 ? d : 0);
}

nlohmann::json histogram_json(const latency_histogram& h) {
  return {{"count", h.count()},         {"p50_us", h.quantile(0.5)},   {"p90_us", h.quantile(0.9)},
          {"p99_us", h.quantile(0.99)}, {"p999_us", h.quantile(0.999)}, {"max_us", h.max()}};
}

bool is_loopback_v4(const std::string& host) {
  in_addr addr{};
  if (inet_pton(AF_INET, host.c_str(), &addr) != 1) return false;
  return (ntohl(addr.s_addr) >> 24) == 127;
}

} // namespace dynchat::load
