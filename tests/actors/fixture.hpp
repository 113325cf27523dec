#pragma once
// Deterministic actor tests: every actor (the store writer too) runs on CAF's test
// coordinator, so a test decides when messages are handled and when time passes.
#include <catch2/catch.hpp>

#include <random>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/context.hpp"
#include "actors/messages.hpp"
#include "actors/router.hpp"
#include "actors/store_writer.hpp"
#include "actors/system_config.hpp"
#include "dynchat/dialogue/library.hpp"
#include "dynchat/site/config.hpp"

namespace dynchat::testing {

inline caf::actor_system_config& deterministic_config(caf::actor_system_config& cfg) {
  configure_deterministic(cfg);
  return cfg;
}

struct actor_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{deterministic_config(cfg)};
  caf::scheduler::test_coordinator& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::filesystem::path dir;
  settings config;
  metrics stats;
  actor_context ctx;
  std::vector<caf::actor> owned; // exited at the end: a pending timer keeps an actor alive

  explicit actor_fixture(bool group_commit = true) {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() / ("dynchat-actor-test-" + std::to_string(rd()));
    config.store.group_commit = group_commit;
    ctx.db = store::database::open(dir, {64ull << 20, false});
    ctx.cfg = &config;
    ctx.stats = &stats;
    ctx.writer = spawn_store_writer(sys, ctx, false);
    ctx.dialogues = std::make_shared<dialogue::library>(ctx.db);
    ctx.site = std::make_shared<site::holder>(site::config{});
  }
  ~actor_fixture() {
    // The directory stops every session and agent it started, the recovered ones too.
    if (ctx.directory) caf::anon_send(ctx.directory, msg::shutdown_atom::value);
    sched.run();
    own(ctx.writer);
    own(ctx.router);
    own(ctx.directory);
    for (auto& a : owned)
      if (a) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
    std::filesystem::remove_all(dir);
  }
  void run() { sched.run(); }
  /// Exited with the fixture, whatever the test did.
  template <class Handle>
  void own(const Handle& h) {
    owned.push_back(caf::actor_cast<caf::actor>(h));
  }
};

} // namespace dynchat::testing
