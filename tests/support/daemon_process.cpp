#include "daemon_process.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ws_client.hpp"

namespace dynchat::testing {

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
  std::vector<std::string> args{DYNCHATD_PATH, "--listen", "127.0.0.1:0", "--data-dir", data_dir_.string(),
                                "--admin-token", admin_token, "--no-seed", "--port-file", port_file.string()};
  if (std::find(extra_.begin(), extra_.end(), "--log-level") == extra_.end()) args.insert(args.end(), {"--log-level", "warn"});
  args.insert(args.end(), extra_.begin(), extra_.end());
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    if (limits_.open_files) {
      rlimit lim{limits_.open_files, limits_.open_files};
      ::setrlimit(RLIMIT_NOFILE, &lim);
    }
    if (!log_file_.empty()) {
      const int fd = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
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
  for (int i = 0; i < 1500; ++i) { // up to 30 s
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (WIFSIGNALED(status)) {
        std::fprintf(stderr, "dynchatd died of signal %d\n", WTERMSIG(status));
        return -WTERMSIG(status);
      }
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  kill_hard();
  return -1;
}

void daemon_process::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

exit_result run_until_exit(std::vector<std::string> args, const std::filesystem::path& log, std::chrono::seconds limit) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  exit_result r;
  const auto until = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      r.exited = true;
      r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  if (!r.exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
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
