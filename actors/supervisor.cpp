#include "actors/supervisor.hpp"

#include <atomic>
#include <memory>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"

namespace dynchat {
namespace {

struct shared_flags {
  std::atomic<bool> standing_down{false};
  std::atomic<bool> reported{false};
};

struct supervisor_state {
  static inline const char* name = "supervisor";
};

caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self, std::vector<supervised> watched,
                         std::shared_ptr<shared_flags> flags,
                         std::function<void(const std::string&, const std::string&)> on_failure) {
  for (const auto& w : watched) self->monitor(w.handle);
  self->set_down_handler([=](caf::down_msg& dm) {
    if (flags->standing_down) return;
    std::string name = "an actor";
    for (const auto& w : watched)
      if (w.handle.address() == dm.source) name = w.name;
    const std::string reason = dm.reason ? to_string(dm.reason) : std::string{"it stopped without an error"};
    spdlog::critical("the {} stopped: {}; dynchatd cannot serve without it and exits", name, reason);
    if (!flags->reported.exchange(true)) on_failure(name, reason);
  });
  return {
    [=](msg::shutdown_atom) { self->quit(); },
  };
}

class supervisor_impl final : public supervisor_handle {
public:
  supervisor_impl(caf::actor actor, std::shared_ptr<shared_flags> flags) : actor_{std::move(actor)}, flags_{std::move(flags)} {}
  void standing_down() override {
    flags_->standing_down = true;
    caf::anon_send(actor_, msg::shutdown_atom::value);
  }
  ~supervisor_impl() override { standing_down(); }

private:
  caf::actor actor_;
  std::shared_ptr<shared_flags> flags_;
};

} // namespace

std::unique_ptr<supervisor_handle> spawn_supervisor(caf::actor_system& sys, std::vector<supervised> watched,
                                                    std::function<void(const std::string&, const std::string&)> on_failure) {
  auto flags = std::make_shared<shared_flags>();
  auto actor = sys.spawn(supervisor, std::move(watched), flags, std::move(on_failure));
  return std::make_unique<supervisor_impl>(std::move(actor), std::move(flags));
}

} // namespace dynchat
