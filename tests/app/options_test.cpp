#include <catch2/catch.hpp>

#include <cstdlib>
#include <random>

#include "src/app/options.hpp"
#include "src/app/seed.hpp"
#include "dynchat/store/tables.hpp"

using namespace dynchat;

namespace {
std::optional<app::launch_options> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "dynchatd");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return app::parse_command_line(static_cast<int>(argv.size()), argv.data());
}
} // namespace

TEST_CASE("flags beat environment variables, which beat the config file", "[app]") {
  ::setenv("DYNCHAT_LISTEN", "127.0.0.1:9100", 1);
  ::setenv("DYNCHAT_DATA_DIR", "/tmp/from-env", 1);
  auto from_env = parse({"--config", DYNCHAT_SOURCE_DIR "/config/dynchat.toml"});
  REQUIRE(from_env);
  CHECK(from_env->cfg.server.listen == "127.0.0.1:9100");
  CHECK(from_env->cfg.server.data_dir == "/tmp/from-env");
  auto from_flag = parse({"--listen", "127.0.0.1:9200", "--set", "chat.offer_timeout=7", "--no-seed"});
  REQUIRE(from_flag);
  CHECK(from_flag->cfg.server.listen == "127.0.0.1:9200");
  CHECK(from_flag->cfg.chat.offer_timeout == std::chrono::seconds{7});
  CHECK_FALSE(from_flag->cfg.server.seed_demo);
  ::unsetenv("DYNCHAT_LISTEN");
  ::unsetenv("DYNCHAT_DATA_DIR");
  CHECK_THROWS_WITH(parse({"--set", "chat.nope=1"}), Catch::Contains("unknown key"));
  CHECK_THROWS_WITH(parse({"--set", "novalue"}), Catch::Contains("section.key=value"));
  CHECK_THROWS(parse({"--set", "chat.default_max_chats=20"}));
}

TEST_CASE("first start seeds two demo agents, a demo dialogue and an admin token, once", "[app]") {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() / ("dynchat-seed-" + std::to_string(rd()));
  auto db = store::database::open(dir, {64 << 20, false});
  settings cfg;
  auto admin1 = app::ensure_admin_token(*db, cfg);
  auto admin2 = app::ensure_admin_token(*db, cfg);
  CHECK(admin1 == admin2); // generated once, then read back
  app::seed_demo_data(*db, cfg);
  app::seed_demo_data(*db, cfg);
  auto agents = store::load_agents(db->read());
  REQUIRE(agents.size() == 2);
  CHECK(agents[0].name == "Alice Demo");
  CHECK(agents[0].token_hash.size() == 64);
  auto dialogues = store::load_dialogues(db->read());
  REQUIRE(dialogues.size() == 1); // valid (it is stored only then), published as version 1
  CHECK(dialogues[0].status == store::dialogue_status::published);
  CHECK(store::load_dialogue_version(db->read(), dialogues[0].id, 1) == dialogues[0].draft);
  cfg.server.admin_token = "configured";
  CHECK(app::ensure_admin_token(*db, cfg) != admin1); // a configured token wins
  std::filesystem::remove_all(dir);
}

TEST_CASE("an unknown flag points to --help, an unknown log level is refused", "[app]") {
  CHECK_THROWS_WITH(parse({"--lisen", "x"}), Catch::Contains("--help"));
  CHECK_THROWS_WITH(parse({"--log-level", "verbose"}), Catch::Contains("server.log_level"));
  auto ok = parse({"--log-level", "warn"});
  REQUIRE(ok);
  CHECK(ok->cfg.server.log_level == "warn");
}
