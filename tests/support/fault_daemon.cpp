// dynchatd with a fault on demand, for the supervisor's end-to-end test. Started with
// `--fail-on-sigusr1 <actor>` (directory, router or "store writer"), it kills that actor
// when it receives SIGUSR1, as a bug inside the actor would end it; otherwise it is dynchatd.
#include <csignal>
#include <exception>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <pthread.h>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "src/app/daemon.hpp"

namespace {

caf::actor_addr actor_named(const dynchat::actor_context& ctx, const std::string& name) {
  if (name == "directory") return caf::actor_cast<caf::actor_addr>(ctx.directory);
  if (name == "router") return caf::actor_cast<caf::actor_addr>(ctx.router);
  return caf::actor_cast<caf::actor_addr>(ctx.writer);
}

} // namespace

int main(int argc, char** argv) {
  std::string victim;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::string_view{argv[i]} == "--fail-on-sigusr1" && i + 1 < argc) victim = argv[++i];
    else args.push_back(argv[i]);
  }
  if (!victim.empty() && victim != "directory" && victim != "router" && victim != "store writer") {
    spdlog::critical("--fail-on-sigusr1 takes directory, router or \"store writer\", not '{}'", victim);
    return 2;
  }
  // Blocked before any thread exists, so every thread inherits the mask and only the
  // waiting thread below takes the signal.
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, nullptr);
  try {
    auto opts = dynchat::app::parse_command_line(static_cast<int>(args.size()), args.data());
    if (!opts) return 0;
    dynchat::app::daemon_hooks hooks;
    if (!victim.empty())
      hooks.serving = [victim, usr1](const dynchat::actor_context& ctx) {
        // The address only: a signal that never comes keeps nothing alive.
        std::thread([target = actor_named(ctx, victim), usr1] {
          int sig = 0;
          sigwait(&usr1, &sig);
          if (auto actor = caf::actor_cast<caf::actor>(target)) caf::anon_send_exit(actor, caf::exit_reason::kill);
        }).detach();
      };
    return dynchat::app::run_daemon(*opts, hooks);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}
