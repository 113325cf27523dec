#pragma once
#include <functional>

#include "actors/context.hpp"
#include "options.hpp"

namespace dynchat::app {

/// What a test build adds to the daemon; dynchatd itself adds nothing.
struct daemon_hooks {
  /// Called once, when the daemon serves, with the actors it runs
  /// (tests/support/fault_daemon.cpp ends one of them, as a bug inside it would).
  std::function<void(const actor_context&)> serving;
};

/// Runs dynchatd until SIGINT or SIGTERM; returns the process exit code.
int run_daemon(const launch_options& opts, const daemon_hooks& hooks = {});

} // namespace dynchat::app
