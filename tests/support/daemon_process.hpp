#pragma once
// Runs a real dynchatd in a child process on 127.0.0.1 with an ephemeral port and its
// own temporary data folder; stops it with SIGTERM or SIGKILL.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ws_client.hpp"

namespace dynchat::testing {

inline const std::string admin_token = "test-admin-token";

/// How the child is started, beyond its flags.
struct launch_limits {
  std::size_t open_files = 0; // RLIMIT_NOFILE for the child; 0: inherited
  bool capture_log = false;   // stdout and stderr to a file, read with log()
  std::string program{};      // the binary; empty: dynchatd (DYNCHATD_FAULTS_PATH: one with faults on demand)
  bool seed_demo = false;     // the first start creates the demo agents and dialogue, as for a new user
};

class daemon_process {
public:
  /// extra: more flags, e.g. {"--set", "chat.offer_timeout=1"}.
  explicit daemon_process(std::vector<std::string> extra = {}, std::filesystem::path data_dir = {},
                          launch_limits limits = {});
  ~daemon_process();
  daemon_process(const daemon_process&) = delete;
  daemon_process& operator=(const daemon_process&) = delete;

  void start();
  std::uint16_t port() const { return port_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  /// SIGTERM and wait; returns the exit status (or -1 on timeout, after a SIGKILL).
  int stop();
  /// Waits for the process to end by itself: its exit status, -signal when a signal ended
  /// it, or -1 when it still runs after `limit` (it is then killed).
  int wait_exit(std::chrono::milliseconds limit);
  /// SIGKILL: no shutdown code runs at all.
  void kill_hard();
  bool running() const { return pid_ > 0; }
  int pid() const { return pid_; }
  /// What the process printed (with capture_log).
  std::string log() const;

private:
  std::vector<std::string> extra_;
  launch_limits limits_;
  std::filesystem::path log_file_;
  std::filesystem::path data_dir_;
  bool own_dir_ = false;
  int pid_ = -1;
  std::uint16_t port_ = 0;
};

struct exit_result {
  bool exited = false; // within the time allowed
  int status = -1;     // the exit status; -1 when killed by a signal
  std::string log;     // stdout and stderr
};
/// Runs a program (args[0] its path) to its end, its output going to `log`; killed
/// after `limit`. For start-ups that must fail.
exit_result run_until_exit(std::vector<std::string> args, const std::filesystem::path& log, std::chrono::seconds limit);

/// Creates an agent through the REST API and returns {id, token}.
std::pair<std::string, std::string> create_agent(std::uint16_t port, const std::string& name, int max_chats = 5,
                                                 const transport& t = {});

} // namespace dynchat::testing
