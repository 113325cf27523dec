#include "report_util.hpp"

#include <algorithm>

#include <arpa/inet.h>
#include <unistd.h>

namespace dynchat::load {

std::uint64_t micros_since(steady::time_point t) {
  auto d = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - t).count();
  return static_cast<std::uint64_t>(d > 0 ? d : 0);
}

nlohmann::json histogram_json(const latency_histogram& h) {
  return {{"count", h.count()},         {"p50_us", h.quantile(0.5)},   {"p90_us", h.quantile(0.9)},
          {"p99_us", h.quantile(0.99)}, {"p999_us", h.quantile(0.999)}, {"max_us", h.max()}};
}

bool write_line(int fd, const std::string& line) {
  const std::string out = line + "\n";
  for (std::size_t done = 0; done < out.size();) {
    const auto n = ::write(fd, out.data() + done, out.size() - done);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool is_loopback_v4(const std::string& host) {
  in_addr addr{};
  if (inet_pton(AF_INET, host.c_str(), &addr) != 1) return false;
  return (ntohl(addr.s_addr) >> 24) == 127;
}

std::uint32_t source_address_v4(unsigned process, std::uint64_t connection, unsigned per_process) {
  const auto n = static_cast<std::uint32_t>(connection % std::max(1u, per_process));
  return (127u << 24) | ((process % 254 + 1) << 16) | ((n / 254) % 256) << 8 | (n % 254 + 1);
}

} // namespace dynchat::load
