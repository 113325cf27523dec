#include "seed.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "demo_dialogue.hpp"
#include "dynchat/calendar/settings.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/dialogue/validate.hpp"
#include "dynchat/store/meetings.hpp"
#include "dynchat/store/tables.hpp"
#include "dynchat/store/writes.hpp"

namespace dynchat::app {
namespace {
constexpr const char* admin_hash_key = "admin.token_hash";
constexpr const char* seeded_key = "demo.seeded";

// A demo agent's calendar: weekdays 09:00-17:00 UTC, half-hour meetings an hour ahead at
// the soonest, and an empty calendar "uploaded", so the demo dialogue's meeting card has
// times to offer (docs/meetings.md shows how to connect a real one).
store::calendar_record demo_calendar(const std::string& agent_id) {
  nlohmann::json week = nlohmann::json::array();
  for (auto day : {"mon", "tue", "wed", "thu", "fri"}) week.push_back({{"day", day}, {"start", "09:00"}, {"end", "17:00"}});
  auto settings = calendar::decode_settings({{"time_zone", "UTC"}, {"availability", week}, {"min_notice_min", 60}});
  store::calendar_record c;
  c.agent_id = agent_id;
  c.settings_json = calendar::to_json(settings.value.value_or(calendar::settings{})).dump();
  c.source = "upload";
  c.status = "ok";
  c.refreshed_ms = c.checked_ms = now_ms();
  return c;
}
} // namespace

std::string ensure_admin_token(store::database& db, const settings& cfg) {
  if (!cfg.server.admin_token.empty()) return sha256_hex(cfg.server.admin_token);
  {
    auto txn = db.read();
    if (auto stored = store::load_meta(txn, admin_hash_key)) return *stored;
  }
  const std::string token = new_secret(32);
  store::write_batch batch;
  store::writes::put_meta(batch, admin_hash_key, sha256_hex(token));
  auto txn = db.write();
  store::writes::apply(txn, batch);
  txn.commit();
  fmt::print("\n  admin token (shown once; only its hash is stored):\n    {}\n\n", token);
  return sha256_hex(token);
}

void seed_demo_data(store::database& db, const settings& cfg) {
  if (!cfg.server.seed_demo) return;
  {
    auto txn = db.read();
    if (store::load_meta(txn, seeded_key)) return;
  }
  store::write_batch batch;
  fmt::print("  demo agents (login tokens shown once):\n");
  for (const char* name : {"Alice Demo", "Bob Demo"}) {
    store::agent_record a;
    a.id = new_id();
    a.name = name;
    a.email = fmt::format("{}@example.com", std::string{name}.substr(0, std::string{name}.find(' ')));
    a.max_chats = cfg.chat.default_max_chats;
    a.created_ms = now_ms();
    const std::string token = new_secret(32);
    a.token_hash = sha256_hex(token);
    store::writes::put_agent(batch, a);
    store::writes::put_calendar(batch, demo_calendar(a.id));
    fmt::print("    {:<11} {}\n", name, token);
  }
  // The demo dialogue, published as version 1 (the dialogues page: docs/dialogues.md).
  const auto json = nlohmann::json::parse(demo_dialogue_json());
  if (auto checked = dialogue::decode(json); checked.value) {
    store::dialogue_record d{new_id(), checked.value->name, checked.value->priority, store::dialogue_status::published,
                             json.dump(), 1, now_ms(), now_ms(), checked.value->priority};
    store::writes::put_dialogue(batch, d);
    store::writes::put_dialogue_version(batch, d.id, 1, d.draft);
    fmt::print("  demo dialogue: {} ({}), published\n", d.name, d.id);
  }
  store::writes::put_meta(batch, seeded_key, "1");
  auto txn = db.write();
  store::writes::apply(txn, batch);
  txn.commit();
  fmt::print("\n");
  std::fflush(stdout);
}

} // namespace dynchat::app
