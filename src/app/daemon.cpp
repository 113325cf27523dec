// Wiring and shutdown. Start order: the store (its folder lock refuses a second
// process), the TLS files and the listening socket (a bad certificate or a taken port
// fails before anything is seeded or printed), first-start seeding, the actors (writer,
// router, directory, REST), the recovery of every open conversation, then accepting. Stop in reverse: stop accepting,
// close websockets with 1001, stop the actors, drain the store writer, close LMDB. A
// watchdog bounds it all.
#include "daemon.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

#include <unistd.h>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/directory.hpp"
#include "actors/messages.hpp"
#include "actors/rest_api.hpp"
#include "actors/router.hpp"
#include "actors/calendar_feeds.hpp"
#include "actors/invite_mailer.hpp"
#include "actors/marketo_sync.hpp"
#include "actors/scheduler.hpp"
#include "actors/socket_bridge.hpp"
#include "actors/store_writer.hpp"
#include "actors/supervisor.hpp"
#include "actors/system_config.hpp"
#include "dynchat/dialogue/library.hpp"
#include "dynchat/site/config.hpp"
#include "dynchat/net/server.hpp"
#include "seed.hpp"

namespace dynchat::app {
namespace {

sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// LMDB maps data.mdb: a page missing from a truncated file (cut at a page boundary, which
// its size cannot show) faults on first read. Say what it most likely is, then die of it.
char bus_notice[1024];
std::size_t bus_notice_size = 0;

extern "C" void on_bus_error(int) {
  [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, bus_notice, bus_notice_size);
  // SA_RESETHAND restored the default action: the faulting read runs again and ends the process.
}

void name_the_data_file_on_sigbus(const std::string& data_dir) {
  const int n = std::snprintf(bus_notice, sizeof bus_notice,
                              "dynchatd: SIGBUS reading %s/data.mdb: the file is most likely truncated (or its disk "
                              "failed); restore the data folder from a backup\n",
                              data_dir.c_str());
  bus_notice_size = n < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(n), sizeof bus_notice - 1);
  struct sigaction action {};
  action.sa_handler = on_bus_error;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGBUS, &action, nullptr);
}

// Set by the supervisor when an actor the process needs has stopped: the shutdown that
// follows ends with a non-zero status.
std::atomic<bool> actor_failed{false};

// Tells the directory, the router and the writer to quit, the writer last: it commits
// what it holds first. Clears the handles, so a second call does nothing.
// The writer stops last: sessions write what their logs still hold while they stop, so
// the directory (which stops them) and the router must be gone before it is told.
void finish_actors(caf::actor_system& sys, actor_context& ctx) {
  caf::scoped_actor self{sys};
  int stopping = 0;
  for (const caf::actor& a : {caf::actor_cast<caf::actor>(ctx.directory), caf::actor_cast<caf::actor>(ctx.router),
                              caf::actor_cast<caf::actor>(ctx.feeds), caf::actor_cast<caf::actor>(ctx.scheduler),
                              caf::actor_cast<caf::actor>(ctx.marketo),
                              caf::actor_cast<caf::actor>(ctx.mailer)}) {
    if (!a) continue;
    self->monitor(a);
    caf::anon_send(a, msg::shutdown_atom::value);
    ++stopping;
  }
  // One deadline for all of them, not one per down message.
  const auto deadline = std::chrono::steady_clock::now() +
                        (ctx.cfg ? ctx.cfg->server.shutdown_timeout : std::chrono::seconds{10});
  for (bool waiting = true; waiting && stopping > 0;) {
    const auto left = std::max(std::chrono::steady_clock::duration::zero(), deadline - std::chrono::steady_clock::now());
    self->receive([&](const caf::down_msg&) { --stopping; },
                  caf::after(std::chrono::duration_cast<std::chrono::milliseconds>(left)) >> [&] {
                    spdlog::warn("shutdown: {} actors did not stop within server.shutdown_timeout", stopping);
                    waiting = false;
                  });
  }
  if (ctx.writer) caf::anon_send(ctx.writer, msg::shutdown_atom::value);
  ctx = {};
}

} // namespace

int run_daemon(const launch_options& opts, const daemon_hooks& hooks) {
  const settings& cfg = opts.cfg;
  spdlog::set_level(spdlog::level::from_str(cfg.server.log_level));
  // Block the signals before any thread exists so every thread inherits the mask and
  // only sigwait below sees them.
  sigset_t signals = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  metrics stats;
  name_the_data_file_on_sigbus(cfg.server.data_dir);
  auto db = store::database::open(cfg.server.data_dir,
                                  {cfg.store.map_size_mb * 1024 * 1024, cfg.store.durable});
  caf::actor_system_config sys_cfg;
  const unsigned actor_threads = effective_actor_threads(cfg.server, std::thread::hardware_concurrency());
  spdlog::info("threads: {} io, {} actor workers, 1 store writer", cfg.server.io_threads, actor_threads);
  configure_actor_system(sys_cfg, actor_threads);
  caf::actor_system sys{sys_cfg};
  // After the actor system, so it is destroyed first: the sockets' handlers hold actor
  // handles, which must go while the system is still there.
  net::server server{cfg, stats};
  server.bind();
  const std::string admin_hash = ensure_admin_token(*db, cfg);
  seed_demo_data(*db, cfg);
  actor_context ctx{db, &cfg, &stats, {}, {}, {}, {}, {}, {}, std::make_shared<dialogue::library>(db)};
  ctx.dialogues->reload(); // what visitors meet from the first hello on
  site::config site_defaults;
  site_defaults.response_delay_ms = cfg.chat.bot_response_delay_ms; // until a configuration is saved
  ctx.site = std::make_shared<site::holder>(site::load(*db, site_defaults));
  ctx.agent_room = std::make_shared<std::atomic<bool>>(false);
  // On every way out, a start-up failure (the port is taken) included, the long-lived
  // actors are told to finish: the actor system's destructor waits for them.
  struct finish_on_exit {
    caf::actor_system& sys;
    actor_context& ctx;
    ~finish_on_exit() { finish_actors(sys, ctx); }
  } finish{sys, ctx};
  ctx.writer = spawn_store_writer(sys, ctx, true);
  ctx.router = spawn_router(sys, ctx);
  ctx.mailer = spawn_invite_mailer(sys, ctx); // before the scheduler, which hands it the invites it commits
  ctx.scheduler = spawn_scheduler(sys, ctx); // before the directory, whose sessions book through it
  ctx.feeds = spawn_calendar_feeds(sys, ctx);
  ctx.marketo = spawn_marketo_sync(sys, ctx); // before the directory, whose sessions look visitors up through it
  ctx.directory = spawn_directory(sys, ctx);
  auto watch = spawn_supervisor(sys,
                                {{"store writer", ctx.writer},
                                 {"router", ctx.router},
                                 {"scheduler", ctx.scheduler},
                                 {"calendar feeds", ctx.feeds},
                                 {"marketo sync", ctx.marketo},
                                 {"invite mailer", ctx.mailer},
                                 {"directory", ctx.directory}},
                                [](const std::string&, const std::string&) {
                                  actor_failed = true;
                                  ::kill(::getpid(), SIGTERM); // wakes the sigwait below
                                });
  auto rest = make_rest_api(sys, ctx, admin_hash);
  auto gateway = make_actor_gateway(ctx.directory, cfg, stats);
  {
    // Before anyone is served: every open conversation's actor runs again, and the
    // router has rebuilt the line in request order.
    caf::scoped_actor self{sys};
    self->request(ctx.directory, std::chrono::minutes{5}, msg::recover_atom::value)
      .receive([](std::uint64_t n) { if (n) spdlog::info("recovered {} open conversations", n); },
               [](caf::error& e) { throw std::runtime_error("recovering open conversations failed: " + to_string(e)); });
  }

  server.start(*gateway, *rest);
  spdlog::info("dynchatd listening on {} (port {}, {}, at most {} connections), data in {}", cfg.server.listen,
               server.port(), server.tls() ? "TLS: https and wss" : "plain http and ws", server.max_connections(),
               cfg.server.data_dir);
  if (!opts.port_file.empty()) std::ofstream(opts.port_file) << server.port() << "\n";
  if (hooks.serving) hooks.serving(ctx);

  int sig = 0;
  sigwait(&signals, &sig);
  if (actor_failed) spdlog::critical("shutting down after an actor failed; the exit status will be 1");
  else spdlog::info("signal {}: shutting down", sig);
  // Three phases, each bounded by shutdown_timeout: the sockets close, the sessions write
  // what they hold and stop, the writer commits and LMDB closes.
  std::thread watchdog([limit = cfg.server.shutdown_timeout * 3] {
    std::this_thread::sleep_for(limit);
    spdlog::error("shutdown took longer than {} s; exiting hard (committed data is safe)", limit.count());
    std::_Exit(2);
  });
  watchdog.detach();

  server.stop_accepting();
  server.close_all(net::close_code::going_away, "server shutting down");
  if (!server.wait_closed(std::chrono::duration_cast<std::chrono::milliseconds>(cfg.server.shutdown_timeout)))
    spdlog::warn("{} websockets did not close within server.shutdown_timeout; dropping them", server.open_websockets());
  spdlog::debug("shutdown: websockets closed");
  server.stop();
  spdlog::debug("shutdown: io threads stopped");
  rest.reset();
  watch->standing_down();
  finish_actors(sys, ctx);
  sys.await_all_actors_done();
  spdlog::debug("shutdown: actors stopped");
  spdlog::info("store drained; closing {}", cfg.server.data_dir);
  return actor_failed ? 1 : 0;
}

} // namespace dynchat::app
