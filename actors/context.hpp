#pragma once
// What every dynchat actor is spawned with: the database for reads, settings,
// metrics, and the handles of the singleton actors.
#include <atomic>
#include <memory>

#include <caf/error.hpp>

#include "actors/interfaces.hpp"

#include "dynchat/core/metrics.hpp"
#include "dynchat/core/settings.hpp"
#include "dynchat/protocol/error_code.hpp"
#include "dynchat/store/lmdb.hpp"

namespace dynchat::dialogue {
class library;
}
namespace dynchat::site {
class holder;
}

namespace dynchat {

struct actor_context {
  std::shared_ptr<store::database> db;
  const settings* cfg = nullptr;
  metrics* stats = nullptr;
  store_writer_actor writer;
  router_actor router;
  directory_actor directory;
  scheduler_actor scheduler;                    // meetings; null: none are booked
  calendar_feeds_actor feeds;                   // iCal feeds; null: none are read
  invite_mailer_actor mailer;                   // invites by SMTP; null: they wait in the outbox
  std::shared_ptr<dialogue::library> dialogues; // the published dialogues; null: none are run
  std::shared_ptr<site::holder> site;           // the chat configuration (GET/PUT /v1/config); null: its defaults
  // Written by the router after each change: some available agent has room for a chat.
  // What a dialogue's branch and live_chat card read; null: availability is not known.
  std::shared_ptr<std::atomic<bool>> agent_room;
  marketo_sync_actor marketo;                   // the Marketo sync; null: none (tests)
};

/// Runs `body`; a store failure inside it (LMDB could not be read: a full reader table,
/// an I/O error) becomes `on_failure(error)` instead of ending the actor that ran it.
template <class Body, class OnFailure>
auto guard_store(Body&& body, OnFailure&& on_failure) {
  try {
    return body();
  } catch (const store::store_error& e) {
    return on_failure(e);
  }
}

/// Domain errors travel between actors as caf::error in the "dynchat" category.
caf::error to_caf_error(protocol::error_code code);
protocol::error_code from_caf_error(const caf::error& err);

} // namespace dynchat
