// Start-up failures end the process with a clear error instead of a hang.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct exit_result {
  bool exited = false; // within the time allowed
  int status = -1;
  std::string log;
};

exit_result run_until_exit(std::vector<std::string> args, const std::filesystem::path& log, std::chrono::seconds limit) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::FILE* out = std::fopen(log.c_str(), "w");
    if (out) {
      ::dup2(::fileno(out), STDOUT_FILENO);
      ::dup2(::fileno(out), STDERR_FILENO);
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
  std::stringstream text;
  text << in.rdbuf();
  r.log = text.str();
  return r;
}

} // namespace

TEST_CASE("a listen port already taken: dynchatd says so and exits non-zero, no hang", "[e2e]") {
  // Hold a port on 127.0.0.1.
  const int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(holder >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(holder, 1) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len);
  const auto port = ntohs(addr.sin_port);

  const auto dir = std::filesystem::temp_directory_path() / ("dynchat-startup-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto r = run_until_exit({DYNCHATD_PATH, "--listen", "127.0.0.1:" + std::to_string(port), "--data-dir", (dir / "data").string(),
                           "--admin-token", "x", "--no-seed", "--log-level", "warn"},
                          dir / "log", std::chrono::seconds{20});
  ::close(holder);
  std::filesystem::remove_all(dir);
  CHECK(r.exited);
  CHECK(r.status != 0);
  CHECK_THAT(r.log, Catch::Contains("cannot listen on 127.0.0.1:" + std::to_string(port)));
}
