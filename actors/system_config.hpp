#pragma once
#include <caf/actor_system_config.hpp>

namespace dynchat {

/// Scheduler tuned for latency (see stack-notes: the default moderate sleep adds
/// ~60 µs to every hop) and the project's message types announced.
void configure_actor_system(caf::actor_system_config& cfg, unsigned threads);

/// For deterministic tests: every actor runs on CAF's test coordinator.
void configure_deterministic(caf::actor_system_config& cfg);

} // namespace dynchat
