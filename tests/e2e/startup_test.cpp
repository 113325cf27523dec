// Start-up failures end the process with a clear error instead of a hang.
#include <catch2/catch.hpp>

#include "support/daemon_process.hpp"
#include "support/ws_client.hpp"

#include <arpa/inet.h>
#include <csignal>
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

using dynchat::testing::run_until_exit;

namespace {

// A listening socket on a free loopback port, so that dynchatd finds the port taken.
std::pair<int, std::uint16_t> hold_a_loopback_port() {
  const int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(holder >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(holder, 1) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len);
  return {holder, ntohs(addr.sin_port)};
}

} // namespace

TEST_CASE("a listen port already taken: dynchatd says so and exits non-zero, no hang", "[e2e]") {
  // Hold a port on 127.0.0.1.
  const auto [holder, port] = hold_a_loopback_port();

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

TEST_CASE("a second dynchatd on a data folder in use refuses to start, naming the folder and the holder", "[e2e]") {
  dynchat::testing::daemon_process first;
  auto r = run_until_exit({DYNCHATD_PATH, "--listen", "127.0.0.1:0", "--data-dir", first.data_dir().string(),
                           "--admin-token", "x", "--no-seed"},
                          first.data_dir().parent_path() / ("second-" + std::to_string(::getpid()) + ".log"),
                          std::chrono::seconds{20});
  CHECK(r.exited);
  CHECK(r.status == 1);
  CHECK_THAT(r.log, Catch::Contains(first.data_dir().string()) && Catch::Contains("in use") &&
                      Catch::Contains("pid " + std::to_string(first.pid())));
  // The first one is untouched.
  CHECK(dynchat::testing::http_call(first.port(), "GET", "/healthz").status == 200);
}

TEST_CASE("a first start that cannot listen seeds nothing, so the next start prints the tokens", "[e2e]") {
  const auto [holder, held_port] = hold_a_loopback_port();
  const auto taken = std::to_string(held_port);
  const auto dir = std::filesystem::temp_directory_path() / ("dynchat-seed-once-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto failed = run_until_exit({DYNCHATD_PATH, "--listen", "127.0.0.1:" + taken, "--data-dir", (dir / "data").string()},
                               dir / "log1", std::chrono::seconds{20});
  ::close(holder);
  CHECK(failed.status == 1);
  CHECK_THAT(failed.log, !Catch::Contains("admin token") && !Catch::Contains("demo agents"));
  // The next start on a free port is the real first start: it prints both, then runs.
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::FILE* out = std::fopen((dir / "log2").c_str(), "w");
    ::dup2(::fileno(out), STDOUT_FILENO);
    ::dup2(::fileno(out), STDERR_FILENO);
    std::vector<std::string> args{DYNCHATD_PATH, "--listen", "127.0.0.1:0", "--data-dir", (dir / "data").string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  std::string log;
  for (int i = 0; i < 100 && log.find("listening") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    std::ifstream in(dir / "log2");
    log.assign(std::istreambuf_iterator<char>{in}, {});
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK_THAT(log, Catch::Contains("admin token") && Catch::Contains("Alice Demo") && Catch::Contains("Bob Demo"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("dynchatd --version prints the version and an unknown flag points to --help", "[e2e]") {
  const auto dir = std::filesystem::temp_directory_path() / ("dynchat-flags-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto version = run_until_exit({DYNCHATD_PATH, "--version"}, dir / "v", std::chrono::seconds{5});
  CHECK(version.status == 0);
  CHECK_THAT(version.log, Catch::StartsWith("dynchatd 0."));
  auto typo = run_until_exit({DYNCHATD_PATH, "--lisen", "127.0.0.1:1"}, dir / "t", std::chrono::seconds{5});
  CHECK(typo.status == 1);
  CHECK_THAT(typo.log, Catch::Contains("--help"));
  auto level = run_until_exit({DYNCHATD_PATH, "--log-level", "verbose"}, dir / "l", std::chrono::seconds{5});
  CHECK(level.status == 1);
  CHECK_THAT(level.log, Catch::Contains("server.log_level"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a data file cut at a page boundary: the fault names the file and the way out", "[e2e]") {
  const auto dir = std::filesystem::temp_directory_path() / ("dynchat-truncated-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    dynchat::testing::daemon_process server({}, dir);
    for (int i = 0; i < 400; ++i)
      REQUIRE(dynchat::testing::http_call(server.port(), "POST", "/v1/agents",
                                          R"({"name":")" + std::string(90, 'a') + std::to_string(i) + R"("})",
                                          dynchat::testing::admin_token)
                .status == 201);
    REQUIRE(server.stop() == 0);
  }
  const auto file = dir / "data.mdb";
  const auto pages = std::filesystem::file_size(file) / static_cast<std::uintmax_t>(::sysconf(_SC_PAGESIZE));
  REQUIRE(pages > 20);
  // Half of it, at a page boundary: its size looks like any healthy file's.
  std::filesystem::resize_file(file, pages / 2 * static_cast<std::uintmax_t>(::sysconf(_SC_PAGESIZE)));
  auto r = run_until_exit({DYNCHATD_PATH, "--listen", "127.0.0.1:0", "--data-dir", dir.string(), "--admin-token", "x",
                           "--no-seed"},
                          dir.parent_path() / ("truncated-" + std::to_string(::getpid()) + ".log"), std::chrono::seconds{20});
  CHECK(r.exited);
  CHECK(r.status == -1); // killed by the signal, not a clean exit that could be mistaken for success
  CHECK_THAT(r.log, Catch::Contains("SIGBUS") && Catch::Contains(file.string()) && Catch::Contains("restore"));
  std::filesystem::remove_all(dir);
}
