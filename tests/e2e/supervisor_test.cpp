// The supervisor in a real process: an actor dynchatd cannot serve without ends (killed
// on demand by the fault build, tests/support/fault_daemon.cpp), and the process logs it
// with its reason and exits 1 through its orderly shutdown, at once.
#include <catch2/catch.hpp>

#include <csignal>

#include "helpers.hpp"

using namespace dynchat::testing;

TEST_CASE("a failed store writer, router or directory is logged with its reason and the daemon exits 1 at once",
          "[e2e][supervisor]") {
  const std::string actor = GENERATE("directory", "router", "store writer");
  CAPTURE(actor);
  // The watchdog would end a hung shutdown after 2 × 3 s with status 2.
  daemon_process server({"--fail-on-sigusr1", actor, "--set", "server.shutdown_timeout=3"}, {},
                        launch_limits{0, true, DYNCHATD_FAULTS_PATH});
  // A session and an agent run: only the directory knows them.
  auto [agent_id, token] = create_agent(server.port(), "Ann");
  ws_client agent, visitor;
  login_agent(agent, server.port(), token);
  start_live_chat(agent, visitor, server.port());

  const auto failed = std::chrono::steady_clock::now();
  REQUIRE(::kill(server.pid(), SIGUSR1) == 0);
  const int status = server.wait_exit(10s);
  const auto took = std::chrono::steady_clock::now() - failed;
  const auto log = server.log();
  INFO(log);
  CHECK(status == 1);
  CHECK(took < 3s);
  CHECK(log.find("the " + actor + " stopped: ") != std::string::npos);
  CHECK(log.find("kill") != std::string::npos); // the reason
  expect_close(visitor, 1001); // the orderly shutdown closed the sockets
}
