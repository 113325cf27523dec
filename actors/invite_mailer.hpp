#pragma once
// The invites' outbox, delivered by SMTP (docs/meetings.md, "Invites by email").
#include <caf/fwd.hpp>

#include "actors/context.hpp"

namespace dynchat {

/// Detached: a delivery blocks its own thread, never a scheduler's. With no
/// meetings.smtp_url the invites stay pending in the outbox.
invite_mailer_actor spawn_invite_mailer(caf::actor_system& sys, const actor_context& ctx);

} // namespace dynchat
