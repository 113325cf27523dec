// Random schedules of the scheduler on the deterministic coordinator: clients ask for
// times (in turn, by a routing rule, or of one agent), book them (offered, stale or never offered), cancel
// and reschedule, while the store writer fails some writes and messages are taken in a
// random order. Whatever the order, afterwards:
// - no two active meetings of an agent overlap, with the buffer after each, and none
//   lies on a busy time of the agent's calendar;
// - each booking answered "booked" is one stored meeting, and nothing else is stored;
// - a scheduler started from the store offers exactly the times the running one offers,
//   and agrees whose turn it is, round robin's and the rule's (a failed write gave back
//   what it took).
#include "fixture.hpp"
#include "flaky_writer.hpp"

#include <map>

#include "actors/meeting_messages.hpp"
#include "actors/scheduler.hpp"
#include "dynchat/calendar/settings.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/routing/stored_rules.hpp"
#include "dynchat/store/meetings.hpp"
#include "dynchat/store/writes.hpp"

using namespace dynchat;
using namespace dynchat::testing;

namespace {

constexpr std::int64_t minute = 60'000;
constexpr std::int64_t buffer = 10 * minute;

struct replies {
  std::vector<msg::slot_offer> offers;
  std::vector<store::meeting_record> booked; // new meetings
  std::map<std::string, store::meeting_record> changed; // cancelled or moved, by id
  int refused = 0, failed = 0;
};

struct scheduler_fixture : actor_fixture {
  std::mt19937 rng;
  std::shared_ptr<int> failures = std::make_shared<int>(0);
  std::vector<std::string> agents;
  std::shared_ptr<replies> seen = std::make_shared<replies>();

  explicit scheduler_fixture(unsigned seed) : rng(seed) {
    own(ctx.writer);
    ctx.writer = caf::actor_cast<store_writer_actor>(sys.spawn(flaky_writer, ctx.writer, failures));
    own(ctx.writer);
    nlohmann::json week = nlohmann::json::array();
    for (auto d : {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}) week.push_back({{"day", d}, {"start", "08:00"}, {"end", "12:00"}});
    auto settings = calendar::decode_settings(
      {{"time_zone", "Europe/Berlin"}, {"min_notice_min", 0}, {"horizon_days", 3}, {"buffer_min", 10}, {"availability", week}});
    REQUIRE(settings.value);
    store::write_batch b;
    for (int i = 0; i < 3; ++i) {
      store::agent_record a;
      a.id = new_id();
      a.name = "agent" + std::to_string(i);
      a.email = a.name + "@acme.example";
      a.token_hash = sha256_hex(new_secret());
      store::writes::put_agent(b, a);
      store::calendar_record c;
      c.agent_id = a.id;
      c.settings_json = calendar::to_json(*settings.value).dump();
      c.source = "upload";
      c.status = "ok";
      c.refreshed_ms = now_ms();
      // An hour busy tomorrow, whenever that is in the agent's day.
      const auto tomorrow = (now_ms() / 86'400'000 + 1) * 86'400'000;
      c.busy = {{tomorrow + (7 + i) * 60 * minute, tomorrow + (8 + i) * 60 * minute}};
      store::writes::put_calendar(b, c);
      agents.push_back(a.id);
    }
    std::sort(agents.begin(), agents.end());
    // Leads from Germany go to the last and the first agent, in turn.
    routing::rule germany;
    germany.id = new_id();
    germany.name = "Germany";
    germany.conditions = {{"country", dialogue::op::is, "DE"}};
    germany.agent_ids = {agents[2], agents[0]};
    routing::put_rule(b, germany);
    auto txn = ctx.db->write();
    store::writes::apply(txn, b);
    txn.commit();
    ctx.scheduler = spawn_scheduler(sys, ctx);
    own(ctx.scheduler);
    run();
  }

  bool step_one_actor() {
    if (sched.jobs.empty()) return false;
    std::swap(sched.jobs.front(), sched.jobs[rng() % sched.jobs.size()]);
    sched.run_once();
    return true;
  }

  template <class... Ts>
  void client(Ts... xs) {
    auto log = seen;
    auto to = ctx.scheduler;
    own(sys.spawn([=](caf::event_based_actor* self) {
      self->request(to, caf::infinite, xs...)
        .then([log](const msg::slot_offer& o) { log->offers.push_back(o); },
              [log](caf::error&) { ++log->failed; });
    }));
  }
  template <class... Ts>
  void change_client(bool is_new, Ts... xs) {
    auto log = seen;
    auto to = ctx.scheduler;
    own(sys.spawn([=](caf::event_based_actor* self) {
      self->request(to, caf::infinite, xs...)
        .then(
          [log, is_new](const msg::booking_reply& r) {
            if (!r.booked) ++log->refused;
            else if (is_new) log->booked.push_back(r.meeting);
            else log->changed[r.meeting.id] = r.meeting;
          },
          [log](caf::error&) { ++log->failed; });
    }));
  }

  // A slot some client was shown, or one nobody was (a minute off the grid).
  std::string some_slot() {
    if (seen->offers.empty() || rng() % 8 == 0) return agents[rng() % agents.size()] + ":" + std::to_string(now_ms() + 7 * minute);
    const auto& o = seen->offers[rng() % seen->offers.size()];
    if (o.slots.empty()) return "nonsense";
    return o.slots[rng() % std::min<std::size_t>(o.slots.size(), 4)].id; // the first few: where races happen
  }
  std::string some_meeting() {
    if (seen->booked.empty()) return new_id();
    return seen->booked[rng() % seen->booked.size()].id;
  }

  std::map<std::string, std::string> some_lead() {
    if (rng() % 3 == 0) return {};
    return {{"country", "DE"}};
  }

  void random_step() {
    switch (rng() % 7) {
      case 0: client(msg::slots_atom::value, msg::slot_request{"round_robin", {}, 0, 0, 20, {}}); break;
      case 6: client(msg::slots_atom::value, msg::slot_request{"rule", {}, 0, 0, 20, some_lead()}); break;
      case 1: client(msg::slots_atom::value, msg::slot_request{"agent", agents[rng() % agents.size()], 0, 0, 20, {}}); break;
      case 2:
      case 3: {
        msg::booking_request req;
        req.slot_id = some_slot();
        const char* routings[] = {"round_robin", "agent", "rule"};
        req.routing = routings[rng() % 3];
        if (req.routing == "rule") req.lead = some_lead();
        req.booker_email = "v@example.org";
        change_client(true, msg::book_atom::value, req);
        break;
      }
      case 4: change_client(false, msg::cancel_atom::value, some_meeting()); break;
      case 5: change_client(false, msg::reschedule_atom::value, some_meeting(), some_slot()); break;
    }
    if (rng() % 10 == 0) *failures = 1; // the next write fails
    for (auto n = rng() % 6; n > 0 && step_one_actor(); --n) {
    }
  }

  std::vector<msg::slot_offer> offers_of(scheduler_actor s) {
    std::vector<msg::slot_offer> out;
    caf::scoped_actor self{sys};
    for (const auto& a : agents) {
      self->send(s, msg::slots_atom::value, msg::slot_request{"agent", a, 0, 0, 0, {}});
      run();
      self->receive([&](const msg::slot_offer& o) { out.push_back(o); });
    }
    self->send(s, msg::slots_atom::value, msg::slot_request{"round_robin", {}, 0, 0, 1, {}});
    run();
    self->receive([&](const msg::slot_offer& o) { out.push_back(o); });
    self->send(s, msg::slots_atom::value, msg::slot_request{"rule", {}, 0, 0, 1, {{"country", "DE"}}});
    run();
    self->receive([&](const msg::slot_offer& o) { out.push_back(o); });
    return out;
  }
};

} // namespace

TEST_CASE("a random schedule of bookings never double-books and keeps the store and memory alike", "[actors][schedule][meetings]") {
  const auto seed = GENERATE(take(12, random(1u, 1000000u)));
  INFO("seed " << seed);
  scheduler_fixture f{seed};
  for (int i = 0; i < 150; ++i) f.random_step();
  *f.failures = 0;
  f.run();

  auto txn = f.ctx.db->read();
  std::map<std::string, std::vector<store::meeting_record>> active;
  std::size_t stored = 0;
  store::scan_meetings(txn, {}, [&](const store::meeting_record& m) {
    ++stored;
    if (m.status == "scheduled" || m.status == "rescheduled") active[m.agent_id].push_back(m);
    return true;
  });
  // Each "booked" is one stored meeting; a refused or failed booking stored nothing.
  CHECK(stored == f.seen->booked.size());
  for (const auto& m : f.seen->booked) {
    auto s = store::load_meeting(txn, m.id);
    REQUIRE(s);
    if (auto changed = f.seen->changed.find(m.id); changed != f.seen->changed.end()) continue;
    CHECK(*s == m);
  }
  for (auto& [agent, meetings] : active) {
    std::sort(meetings.begin(), meetings.end(), [](const auto& a, const auto& b) { return a.start_ms < b.start_ms; });
    for (std::size_t i = 1; i < meetings.size(); ++i) {
      INFO("agent " << agent << " meetings " << meetings[i - 1].id << " (" << meetings[i - 1].status << " seq "
                    << meetings[i - 1].sequence << ") and " << meetings[i].id << " (" << meetings[i].status << " seq "
                    << meetings[i].sequence << ")");
      CHECK(meetings[i].start_ms >= meetings[i - 1].end_ms + buffer);
    }
    const auto cal = store::load_calendar(txn, agent);
    REQUIRE(cal);
    for (const auto& m : meetings)
      for (const auto& [start, end] : cal->busy) CHECK((m.end_ms + buffer <= start || m.start_ms >= end + buffer));
  }
  // What the running scheduler holds is what the store says.
  const auto live = f.offers_of(f.ctx.scheduler);
  auto fresh = spawn_scheduler(f.sys, f.ctx);
  f.own(fresh);
  f.run();
  const auto reloaded = f.offers_of(fresh);
  REQUIRE(live.size() == reloaded.size());
  for (std::size_t i = 0; i < live.size(); ++i) {
    INFO("offer " << i);
    CHECK(live[i].agent_id == reloaded[i].agent_id);
    REQUIRE(live[i].slots.size() == reloaded[i].slots.size());
    for (std::size_t j = 0; j < live[i].slots.size(); ++j) CHECK(live[i].slots[j].id == reloaded[i].slots[j].id);
  }
}
