// The site configuration's checks, every problem by path, its defaults, and the allowed
// site domains (exact hosts and *. subdomains).
#include <catch2/catch.hpp>

#include <set>

#include "dynchat/site/config.hpp"

using namespace dynchat;
using nlohmann::json;

namespace {
std::set<std::string> problem_paths(const json& body) {
  std::set<std::string> out;
  for (const auto& p : site::decode(body).problems) out.insert(p.path);
  return out;
}
} // namespace

TEST_CASE("an empty configuration is the defaults, and what is given is taken", "[site]") {
  auto empty = site::decode(json::object());
  REQUIRE(empty.value);
  CHECK(*empty.value == site::config{});
  site::config defaults;
  defaults.response_delay_ms = 250;
  CHECK(site::decode(json::object(), defaults).value->response_delay_ms == 250);
  auto c = site::decode(json{{"chat_enabled", false},
                             {"primary_color", "#AABBCC"},
                             {"font", "\"Source Sans Pro\", Arial"},
                             {"launcher_position", "bottom_left"},
                             {"launcher_padding_px", 0},
                             {"bot_name", "Ada"},
                             {"bot_avatar_url", "https://cdn.example.com/ada.png"},
                             {"response_delay_seconds", 1.5},
                             {"privacy_policy_url", "http://example.com/privacy"},
                             {"blocked_email_domains", {"GMAIL.com", "yahoo.com"}},
                             {"allowed_site_domains", {"example.com", "*.Acme.example"}}});
  REQUIRE(c.value);
  CHECK_FALSE(c.value->chat_enabled);
  CHECK(c.value->primary_color == "#aabbcc");
  CHECK(c.value->response_delay_ms == 1500);
  CHECK(c.value->blocked_email_domains == std::vector<std::string>{"gmail.com", "yahoo.com"});
  CHECK(c.value->allowed_site_domains == std::vector<std::string>{"example.com", "*.acme.example"});
  // What the widget gets leaves the security lists out; the full form round trips.
  CHECK_FALSE(site::widget_json(*c.value).contains("blocked_email_domains"));
  CHECK(site::decode(site::to_json(*c.value)).value == c.value);
}

TEST_CASE("every problem of a configuration is listed by its field", "[site]") {
  CHECK(problem_paths(json::array()) == std::set<std::string>{""});
  CHECK(problem_paths({{"colour", "#fff"}}) == std::set<std::string>{"colour"});
  CHECK(problem_paths({{"primary_color", "red"},
                       {"text_color", "#12345"},
                       {"font", "Arial; } body { display: none"},
                       {"launcher_position", "top"},
                       {"launcher_padding_px", 201},
                       {"header_label", "line\nbreak"},
                       {"bot_name", ""},
                       {"bot_avatar_url", "http://insecure.example/a.png"},
                       {"response_delay_seconds", 11},
                       {"notification_sound", "yes"},
                       {"privacy_policy_url", "javascript:alert(1)"},
                       {"chat_enabled", 1}}) ==
        std::set<std::string>{"primary_color", "text_color", "font", "launcher_position", "launcher_padding_px",
                              "header_label", "bot_name", "bot_avatar_url", "response_delay_seconds",
                              "notification_sound", "privacy_policy_url", "chat_enabled"});
  std::vector<std::string> many;
  for (int i = 0; i < 51; ++i) many.push_back("d" + std::to_string(i) + ".example");
  CHECK(problem_paths({{"blocked_email_domains", many}}) == std::set<std::string>{"blocked_email_domains"});
  many.pop_back();
  CHECK(problem_paths({{"blocked_email_domains", many}}).empty()); // 50 is the limit
  CHECK(problem_paths({{"blocked_email_domains", {"gmail.com", "*.gmail.com", "localhost", "GMAIL.COM", 7}}}) ==
        std::set<std::string>{"blocked_email_domains[1]", "blocked_email_domains[2]", "blocked_email_domains[3]",
                              "blocked_email_domains[4]"});
  CHECK(problem_paths({{"allowed_site_domains", {"*.example.com", "*.", "exa mple.com"}}}) ==
        std::set<std::string>{"allowed_site_domains[1]", "allowed_site_domains[2]"});
  CHECK(problem_paths({{"response_delay_seconds", -0.5}}) == std::set<std::string>{"response_delay_seconds"});
}

TEST_CASE("allowed site domains admit their hosts and, with *., their subdomains only", "[site]") {
  site::config open;
  CHECK(site::site_allowed(open, "anything.example"));
  CHECK(site::site_allowed(open, ""));
  site::config c;
  c.allowed_site_domains = {"example.com", "*.acme.example"};
  CHECK(site::site_allowed(c, "example.com"));
  CHECK_FALSE(site::site_allowed(c, "www.example.com")); // no *.: the host itself
  CHECK(site::site_allowed(c, "www.acme.example"));
  CHECK(site::site_allowed(c, "a.b.acme.example"));
  CHECK_FALSE(site::site_allowed(c, "acme.example")); // *. is for subdomains
  CHECK_FALSE(site::site_allowed(c, "evilacme.example"));
  CHECK_FALSE(site::site_allowed(c, ""));
  CHECK(site::host_of("https://WWW.Acme.example:8443/path?q=1") == "www.acme.example");
  CHECK(site::host_of("https://example.com") == "example.com");
  CHECK(site::host_of("null").empty());
  CHECK(site::host_of("").empty());
}
