#pragma once
// Watches the actors the process cannot live without (the store writer, the router, the
// directory). One that stops while the process is not shutting down is a fault nothing
// inside can repair: the supervisor logs it with its reason and calls `on_failure`, so
// the daemon exits non-zero and its own supervisor (systemd, a container runtime)
// restarts it, rather than leaving a process that accepts sockets and answers nothing.
#include <functional>
#include <string>
#include <vector>

#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>

namespace dynchat {

struct supervised {
  std::string name;
  caf::actor handle;
  template <class Handle>
  supervised(std::string n, const Handle& h) : name(std::move(n)), handle(caf::actor_cast<caf::actor>(h)) {}
};

class supervisor_handle {
public:
  /// Stops watching: the actors are about to be told to quit.
  virtual void standing_down() = 0;
  virtual ~supervisor_handle() = default;
};

/// on_failure(name, reason) runs on an actor thread, once, for the first fault.
std::unique_ptr<supervisor_handle> spawn_supervisor(caf::actor_system& sys, std::vector<supervised> watched,
                                                    std::function<void(const std::string&, const std::string&)> on_failure);

} // namespace dynchat
