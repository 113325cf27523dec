#pragma once
// A real SMTP server on 127.0.0.1 for the invite tests: Debian's python3-aiosmtpd with its
// Mailbox handler, each message a file in a maildir. Stopped (SIGTERM) when destroyed.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dynchat::testing {

class smtp_sink {
public:
  smtp_sink();
  ~smtp_sink();
  smtp_sink(const smtp_sink&) = delete;
  smtp_sink& operator=(const smtp_sink&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  /// Every message received so far, whole.
  std::vector<std::string> messages() const;
  /// Waits until at least `count` have arrived (or `limit` passed); returns them.
  std::vector<std::string> wait_for(std::size_t count, std::chrono::milliseconds limit) const;

private:
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  int pid_ = 0;
};

} // namespace dynchat::testing
