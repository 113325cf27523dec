#pragma once
#include "options.hpp"

namespace dynchat::app {

/// Runs dynchatd until SIGINT or SIGTERM; returns the process exit code.
int run_daemon(const launch_options& opts);

} // namespace dynchat::app
