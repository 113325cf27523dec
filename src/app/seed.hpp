#pragma once
// First-start set-up, run before any actor exists: the admin token and demo agents.
#include <string>

#include "dynchat/core/settings.hpp"
#include "dynchat/store/lmdb.hpp"

namespace dynchat::app {

/// The hash of the admin token in force: the configured one, else the stored one, else
/// a new one generated, stored (hash only) and printed once.
std::string ensure_admin_token(store::database& db, const settings& cfg);

/// On a data folder never seeded: two demo agents, their login tokens printed.
void seed_demo_data(store::database& db, const settings& cfg);

} // namespace dynchat::app
