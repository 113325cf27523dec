#include "fixture.hpp"

#include "actors/directory.hpp"
#include "actors/supervisor.hpp"

using namespace dynchat;
using namespace dynchat::testing;

namespace {

struct failure_log {
  std::vector<std::pair<std::string, std::string>> reports;
  std::function<void(const std::string&, const std::string&)> fn() {
    return [this](const std::string& name, const std::string& reason) { reports.emplace_back(name, reason); };
  }
};

} // namespace

TEST_CASE("a watched actor that stops is reported once, by name and reason", "[actors][supervisor]") {
  actor_fixture f;
  f.ctx.router = spawn_router(f.sys, f.ctx);
  f.ctx.directory = spawn_directory(f.sys, f.ctx);
  f.run();
  failure_log log;
  auto watch = spawn_supervisor(f.sys, {{"store writer", f.ctx.writer}, {"router", f.ctx.router}, {"directory", f.ctx.directory}},
                                log.fn());
  f.run();
  caf::anon_send_exit(f.ctx.router, caf::exit_reason::kill);
  f.run();
  REQUIRE(log.reports.size() == 1);
  CHECK(log.reports[0].first == "router");
  CHECK(log.reports[0].second.find("kill") != std::string::npos);
  // A second fault adds nothing: the process is already on its way out.
  caf::anon_send_exit(f.ctx.directory, caf::exit_reason::kill);
  f.run();
  CHECK(log.reports.size() == 1);
}

TEST_CASE("an actor that quits without an error is a fault too", "[actors][supervisor]") {
  actor_fixture f;
  failure_log log;
  auto watch = spawn_supervisor(f.sys, {{"store writer", f.ctx.writer}}, log.fn());
  f.run();
  caf::anon_send(f.ctx.writer, msg::shutdown_atom::value); // nobody asked the process to stop
  f.run();
  REQUIRE(log.reports.size() == 1);
  CHECK(log.reports[0].first == "store writer");
}

TEST_CASE("an orderly shutdown is not a fault", "[actors][supervisor]") {
  actor_fixture f;
  f.ctx.router = spawn_router(f.sys, f.ctx);
  f.run();
  failure_log log;
  auto watch = spawn_supervisor(f.sys, {{"store writer", f.ctx.writer}, {"router", f.ctx.router}}, log.fn());
  f.run();
  watch->standing_down();
  caf::anon_send(f.ctx.router, msg::shutdown_atom::value);
  caf::anon_send(f.ctx.writer, msg::shutdown_atom::value);
  f.run();
  CHECK(log.reports.empty());
}
