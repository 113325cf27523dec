#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "dynchat/core/settings.hpp"

using namespace dynchat;

namespace {
std::filesystem::path write_toml(const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / ("dynchat-settings-" + std::to_string(std::rand()) + ".toml");
  std::ofstream(p) << text;
  return p;
}
} // namespace

TEST_CASE("the shipped config file loads and equals the built-in defaults", "[core]") {
  auto s = load_settings_file(DYNCHAT_SOURCE_DIR "/config/dynchat.toml");
  settings d;
  CHECK(s.server.listen == d.server.listen);
  CHECK(s.websocket.max_frame_bytes == d.websocket.max_frame_bytes);
  CHECK(s.chat.offer_timeout == d.chat.offer_timeout);
  CHECK(s.chat.default_max_chats == d.chat.default_max_chats);
  CHECK(s.store.group_commit == d.store.group_commit);
  CHECK(s.limits.max_text_bytes == d.limits.max_text_bytes);
  CHECK(s.chat.decline_cooldown == d.chat.decline_cooldown);
  CHECK(s.server.max_connections == d.server.max_connections);
  CHECK(s.server.trusted_proxies.empty());
  CHECK(s.server.tls_cert.empty()); // plain TCP unless both TLS files are given
  CHECK(s.server.tls_key.empty());
  validate(s);
}

TEST_CASE("the shipped config file names every key the loader knows", "[core]") {
  std::ifstream in(DYNCHAT_SOURCE_DIR "/config/dynchat.toml");
  std::string text{std::istreambuf_iterator<char>{in}, {}}, section;
  std::set<std::string> listed;
  std::istringstream lines{text};
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("[", 0) == 0) section = line.substr(1, line.find(']') - 1);
    else if (auto eq = line.find(" = "); eq != std::string::npos && line[0] != '#') listed.insert(section + "." + line.substr(0, eq));
  }
  for (const auto& key : setting_keys()) {
    INFO(key);
    CHECK(listed.count(key) == 1);
  }
}

TEST_CASE("trusted_proxies is an array of strings, log levels are checked", "[core]") {
  auto s = load_settings_text("[server]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]\n");
  CHECK(s.server.trusted_proxies == std::vector<std::string>{"127.0.0.1", "10.0.0.0/8"});
  CHECK_THROWS_WITH(load_settings_text("[server]\ntrusted_proxies = [1]\n"), Catch::Contains("array of strings"));
  CHECK_THROWS_WITH(load_settings_text("[server]\ntrusted_proxies = \"x\"\n"), Catch::Contains("array of strings"));
  settings v;
  v.server.log_level = "verbose";
  CHECK_THROWS_WITH(validate(v), Catch::Contains("server.log_level"));
  v.server.log_level = "debug";
  validate(v);
  v.marketo.cpu_priority = "realtime";
  CHECK_THROWS_WITH(validate(v), Catch::Contains("marketo.cpu_priority must be idle, low or normal"));
  for (const char* p : {"idle", "low", "normal"}) {
    v.marketo.cpu_priority = p;
    validate(v);
  }
}

TEST_CASE("actor_threads 0 takes the cores the io threads leave, at least one", "[core]") {
  server_settings s;
  s.io_threads = 1;
  s.actor_threads = 0;
  CHECK(effective_actor_threads(s, 2) == 1);
  CHECK(effective_actor_threads(s, 8) == 7);
  CHECK(effective_actor_threads(s, 1) == 1);
  CHECK(effective_actor_threads(s, 0) == 1); // the hardware count is unknown
  s.io_threads = 2;
  CHECK(effective_actor_threads(s, 2) == 1);
  s.actor_threads = 3;
  CHECK(effective_actor_threads(s, 2) == 3); // an explicit count is kept
}

TEST_CASE("values override defaults, and unknown keys or wrong types are errors", "[core]") {
  auto p = write_toml("[chat]\noffer_timeout = 5\n[websocket]\nmax_frame_bytes = 2048\n");
  auto s = load_settings_file(p);
  CHECK(s.chat.offer_timeout == std::chrono::seconds{5});
  CHECK(s.websocket.max_frame_bytes == 2048);
  CHECK(s.server.listen == "127.0.0.1:8080");
  CHECK_THROWS_WITH(load_settings_file(write_toml("[chat]\nofer_timeout = 5\n")), Catch::Contains("unknown key 'chat.ofer_timeout'"));
  CHECK_THROWS_WITH(load_settings_file(write_toml("[chat]\noffer_timeout = \"5\"\n")), Catch::Contains("wrong type"));
  CHECK_THROWS_WITH(load_settings_file(write_toml("[chat]\noffer_timeout = -5\n")), Catch::Contains("negative"));
  CHECK_THROWS(load_settings_file(write_toml("not toml [")));
}

TEST_CASE("validation enforces the documented ranges", "[core]") {
  settings s;
  s.chat.default_max_chats = 11;
  CHECK_THROWS_WITH(validate(s), Catch::Contains("1..10"));
  s.chat.default_max_chats = 0;
  CHECK_THROWS(validate(s));
  s = settings{};
  s.websocket.max_connections = 0;
  CHECK_THROWS(validate(s));
}

TEST_CASE("every number has both ends checked: huge durations and zero sizes are refused by name", "[core]") {
  auto refused = [](const std::string& toml_text) {
    auto s = load_settings_text(toml_text);
    try {
      validate(s);
    } catch (const std::runtime_error& e) {
      return std::string{e.what()};
    }
    return std::string{"accepted"};
  };
  // Found by a hostile operator: these overflowed the millisecond deadlines or starved every socket.
  CHECK(refused("[chat]\noffer_timeout = 9999999999\n") == "config: chat.offer_timeout must be 1..86400 seconds, not 9999999999");
  CHECK_THAT(refused("[chat]\nvisitor_grace = 99999999999\n"), Catch::StartsWith("config: chat.visitor_grace must be 1..604800 seconds"));
  // A session with no grace would end before its own welcome.
  CHECK_THAT(refused("[chat]\nvisitor_grace = 0\n"), Catch::StartsWith("config: chat.visitor_grace must be 1.."));
  // Past the field's own type: refused, not wrapped around into the range.
  CHECK_THROWS_WITH(load_settings_text("[server]\nio_threads = 4294967297\n"), Catch::Contains("'server.io_threads' is too large"));
  CHECK_THROWS_WITH(load_settings_text("[chat]\ndefault_max_chats = 4294967301\n"), Catch::Contains("too large"));
  // A float for an integer key is the wrong type, not a number to convert (5e99 overflowed; found by the fuzzer).
  CHECK_THROWS_WITH(load_settings_text("[server]\nmax_header_bytes = 5e99\n"), Catch::Contains("wrong type"));
  CHECK_THROWS_WITH(load_settings_text("[chat]\noffer_timeout = 1.5\n"), Catch::Contains("wrong type"));
  CHECK(load_settings_text("[websocket]\nrate_per_second = 5\n").websocket.rate_per_second == 5); // an integer for a float is fine
  CHECK_THAT(refused("[websocket]\nidle_timeout = 0\n"), Catch::StartsWith("config: websocket.idle_timeout must be 1..86400"));
  CHECK_THAT(refused("[websocket]\nmax_outbound_bytes = 0\n"), Catch::StartsWith("config: websocket.max_outbound_bytes must be 65536.."));
  CHECK_THAT(refused("[limits]\nmax_id_bytes = 0\n"), Catch::StartsWith("config: limits.max_id_bytes must be 8..1024"));
  CHECK_THAT(refused("[limits]\nmax_text_bytes = 0\n"), Catch::StartsWith("config: limits.max_text_bytes must be 1.."));
  CHECK_THAT(refused("[websocket]\nmax_http_body = 0\n"), Catch::StartsWith("config: websocket.max_http_body must be 1024.."));
  CHECK_THAT(refused("[websocket]\nmax_frame_bytes = 0\n"), Catch::StartsWith("config: websocket.max_frame_bytes must be 256.."));
  CHECK_THAT(refused("[websocket]\nrate_per_second = 0\n"), Catch::StartsWith("config: websocket.rate_per_second must be 0.001.."));
  CHECK_THAT(refused("[store]\nmap_size_mb = 1\n"), Catch::StartsWith("config: store.map_size_mb must be 16.."));
  // Cross-key rules.
  CHECK_THAT(refused("[limits]\nmax_text_bytes = 100000\n"), Catch::Contains("websocket.max_outbound_bytes must hold four"));
  CHECK_THAT(refused("[server]\nmax_url_bytes = 20000\n"), Catch::Contains("server.max_url_bytes must not exceed"));
  // The ends themselves are allowed.
  CHECK(refused("[chat]\noffer_timeout = 86400\nvisitor_grace = 1\ndecline_cooldown = 0\n") == "accepted");
  CHECK(refused("[chat]\noffer_timeout = 1\n[websocket]\nmax_outbound_bytes = 1048576\n") == "accepted");
}

TEST_CASE("server.tls_cert and server.tls_key are set both or neither, and the error names both", "[core]") {
  auto s = load_settings_text("[server]\ntls_cert = \"/etc/dynchat/cert.pem\"\ntls_key = \"/etc/dynchat/key.pem\"\n");
  CHECK(s.server.tls_cert == "/etc/dynchat/cert.pem");
  CHECK(s.server.tls_key == "/etc/dynchat/key.pem");
  validate(s);
  validate(settings{}); // neither: plain TCP
  const std::string half = "config: server.tls_cert and server.tls_key go together: set both (TLS) or neither (plain TCP)";
  auto cert_only = load_settings_text("[server]\ntls_cert = \"/etc/dynchat/cert.pem\"\n");
  CHECK_THROWS_WITH(validate(cert_only), half);
  auto key_only = load_settings_text("[server]\ntls_key = \"/etc/dynchat/key.pem\"\n");
  CHECK_THROWS_WITH(validate(key_only), half);
  // An empty string is "not set": it cannot stand in for the missing half.
  auto empty_key = load_settings_text("[server]\ntls_cert = \"/etc/dynchat/cert.pem\"\ntls_key = \"\"\n");
  CHECK_THROWS_WITH(validate(empty_key), half);
  CHECK_THROWS_WITH(load_settings_text("[server]\ntls_cert = 443\n"), Catch::Contains("'server.tls_cert' has the wrong type"));
}
