// The rows of meetings against a real LMDB file: calendars, meetings with their place in
// the agent's time index (moved on a reschedule), invites waiting for SMTP, and a bot
// message's meeting times.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include "dynchat/store/meetings.hpp"
#include "dynchat/store/records.hpp"
#include "dynchat/store/writes.hpp"

using namespace dynchat::store;

namespace {
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("dynchat-meetings-test-" + std::to_string(rd()));
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
};

const std::string ann = "0123456789abcdef0123456789abcdef";

meeting_record meeting(const std::string& id, std::int64_t start) {
  meeting_record m;
  m.id = id;
  m.agent_id = ann;
  m.start_ms = start;
  m.end_ms = start + 1'800'000;
  m.booker_email = "v@example.org";
  m.manage_token_hash = "hash";
  return m;
}

void commit(database& db, const write_batch& b) {
  auto txn = db.write();
  writes::apply(txn, b);
  txn.commit();
}
} // namespace

TEST_CASE("meeting rows round trip through their encoding", "[store][meetings]") {
  calendar_record c{ann, R"({"time_zone":"UTC"})", "feed", "https://cal.example/x.ics", "failing", "timed out", 5, 9,
                    {{1, 2}, {3, 4}}, 7};
  CHECK(decode_calendar(encode(c)) == c);
  auto m = meeting("m1", 1000);
  m.status = "rescheduled";
  m.sequence = 2;
  CHECK(decode_meeting(encode(m)) == m);
  invite_delivery d{"m1", 2, "v@example.org", "Updated: x", "BEGIN:VCALENDAR", "failed", 3, 99, "refused", 0};
  CHECK(decode_invite_delivery(encode(d)) == d);
  CHECK_FALSE(decode_meeting("\x01garbage"));

  message_record bot;
  bot.from = "bot";
  bot.text = "When suits you?";
  bot.prompt.slots = {{ann + ":1000", 1000, 2000}};
  bot.prompt.slots_agent = "Ann";
  auto back = decode_message(encode(bot));
  REQUIRE(back);
  CHECK(back->prompt == bot.prompt);
}

TEST_CASE("a meeting moves in its agent's time index and is read back across a reopen", "[store][meetings]") {
  temp_dir dir;
  {
    auto db = database::open(dir.path, {});
    write_batch b;
    writes::put_meeting(b, meeting("m1", 5'000'000), nullptr);
    writes::put_meeting(b, meeting("m2", 1'000'000), nullptr);
    writes::put_calendar(b, calendar_record{ann, "{}", "upload", {}, "ok", {}, 1, 1, {{10, 20}}, 1});
    commit(*db, b);
    auto txn = db->read();
    auto ahead = load_agent_meetings(txn, ann, 0);
    REQUIRE(ahead.size() == 2);
    CHECK(ahead[0].id == "m2"); // in start order
    // Rescheduled: its old index entry goes.
    write_batch moved;
    auto before = meeting("m2", 1'000'000);
    auto after = before;
    after.start_ms = 9'000'000;
    after.end_ms = 9'000'000 + 1'800'000;
    writes::put_meeting(moved, after, &before);
    commit(*db, moved);
  }
  auto db = database::open(dir.path, {});
  auto txn = db->read();
  auto ahead = load_agent_meetings(txn, ann, 0);
  REQUIRE(ahead.size() == 2);
  CHECK(ahead[0].id == "m1");
  CHECK(ahead[1].id == "m2");
  CHECK(ahead[1].start_ms == 9'000'000);
  CHECK(load_agent_meetings(txn, ann, 7'000'000).size() == 1); // those ending after a time
  std::vector<std::string> ids;
  scan_meetings(txn, "", [&](const meeting_record& m) {
    ids.push_back(m.id);
    return true;
  });
  CHECK(ids == std::vector<std::string>{"m1", "m2"});
  ids.clear();
  scan_meetings(txn, "m1", [&](const meeting_record& m) {
    ids.push_back(m.id);
    return true;
  });
  CHECK(ids == std::vector<std::string>{"m2"}); // strictly after
  REQUIRE(load_calendar(txn, ann));
  CHECK(load_calendar(txn, ann)->busy.size() == 1);
}
