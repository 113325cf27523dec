#include "daemon_process.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ws_client.hpp"

namespace dynchat::testing {

namespace {

// Forks and runs `args` (args[0] the program) with stdout and stderr going to `log` when
// one is given (appended or truncated), under RLIMIT_NOFILE `open_files` when not 0.
pid_t spawn_child(std::vector<std::string> args, const std::filesystem::path& log, int log_mode,
                  std::size_t open_files) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) { // only async-signal-safe calls from here on
    if (open_files) {
      rlimit lim{open_files, open_files};
      ::setrlimit(RLIMIT_NOFILE, &lim);
    }
    if (!log.empty()) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | log_mode, 0644);
      if (fd >= 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
      }
    }
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  return pid;
}

// The child's end within `limit`: its exit status, or -signal when a signal ended it;
// nullopt while it still runs.
std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (true) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      if (WIFSIGNALED(status)) return -WTERMSIG(status);
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

} // namespace

daemon_process::daemon_process(std::vector<std::string> extra, std::filesystem::path data_dir, launch_limits limits)
  : extra_(std::move(extra)), limits_(limits), data_dir_(std::move(data_dir)) {
  std::random_device rd;
  const auto tag = std::to_string(::getpid()) + "-" + std::to_string(rd());
  if (data_dir_.empty()) {
    data_dir_ = std::filesystem::temp_directory_path() / ("dynchat-test-" + tag);
    own_dir_ = true;
  }
  if (limits_.capture_log) log_file_ = std::filesystem::temp_directory_path() / ("dynchat-test-" + tag + ".log");
  start();
}

std::string daemon_process::log() const {
  std::ifstream in(log_file_);
  return std::string{std::istreambuf_iterator<char>{in}, {}};
}

daemon_process::~daemon_process() {
  if (pid_ > 0) stop();
  if (own_dir_) std::filesystem::remove_all(data_dir_);
  if (!log_file_.empty()) std::filesystem::remove(log_file_);
}

void daemon_process::start() {
  std::filesystem::create_directories(data_dir_);
  auto port_file = data_dir_ / "port";
  std::filesystem::remove(port_file);
  std::vector<std::string> args{limits_.program.empty() ? std::string{DYNCHATD_PATH} : limits_.program,
                                "--listen", "127.0.0.1:0", "--data-dir", data_dir_.string(),
                                "--admin-token", admin_token, "--port-file", port_file.string()};
  if (!limits_.seed_demo) args.push_back("--no-seed");
  if (std::find(extra_.begin(), extra_.end(), "--log-level") == extra_.end()) args.insert(args.end(), {"--log-level", "warn"});
  args.insert(args.end(), extra_.begin(), extra_.end());
  pid_ = spawn_child(std::move(args), log_file_, O_APPEND, limits_.open_files);
  for (int i = 0; i < 500; ++i) { // up to 10 s
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      port_ = static_cast<std::uint16_t>(port);
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("dynchatd exited during start-up");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  throw std::runtime_error("dynchatd did not start listening");
}

int daemon_process::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  return wait_exit(std::chrono::seconds{30});
}

int daemon_process::wait_exit(std::chrono::milliseconds limit) {
  if (pid_ <= 0) return -1;
  auto status = wait_for_exit(pid_, limit);
  if (!status) {
    kill_hard();
    return -1;
  }
  pid_ = -1;
  if (*status < 0) std::fprintf(stderr, "dynchatd died of signal %d\n", -*status);
  return *status;
}

void daemon_process::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

exit_result run_until_exit(std::vector<std::string> args, const std::filesystem::path& log, std::chrono::seconds limit) {
  const pid_t pid = spawn_child(std::move(args), log, O_TRUNC, 0);
  exit_result r;
  if (auto status = wait_for_exit(pid, limit)) {
    r.exited = true;
    r.status = *status < 0 ? -1 : *status;
  } else {
    ::kill(pid, SIGKILL);
    int ignored = 0;
    ::waitpid(pid, &ignored, 0);
  }
  std::ifstream in(log);
  r.log.assign(std::istreambuf_iterator<char>{in}, {});
  return r;
}

std::pair<std::string, std::string> create_agent(std::uint16_t port, const std::string& name, int max_chats,
                                                 const transport& t) {
  json body{{"name", name}, {"max_chats", max_chats}};
  auto res = http_call(port, "POST", "/v1/agents", body.dump(), admin_token, t);
  if (res.status != 201) throw std::runtime_error("create agent failed: " + res.body);
  auto j = res.json_body();
  return {j["id"].get<std::string>(), j["token"].get<std::string>()};
}

} // namespace dynchat::testing
