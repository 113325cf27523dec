#pragma once
// The site's chat configuration, as a marketer sets it over GET/PUT /v1/config: how the
// widget looks, the bot's name and pace, the chat switch, and the security lists (blocked
// email domains, allowed site domains). Stored in LMDB (meta "site.config", its JSON);
// what a visitor's widget needs travels in welcome.config (docs/configuration.md).
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dynchat/dialogue/validate.hpp" // problem: a path and a reason

namespace dynchat::store {
class database;
}

namespace dynchat::site {

inline constexpr std::size_t max_blocked_domains = 50;
inline constexpr std::size_t max_allowed_domains = 100;

struct config {
  bool chat_enabled = true; // off: no new conversation starts; those open carry on
  // branding
  std::string primary_color = "#1473e6"; // lower case, as a save stores it
  std::string text_color = "#ffffff";
  std::string font = "inherit"; // a font family, or inherit the page's
  std::string launcher_position = "bottom_right"; // bottom_right | bottom_left
  std::uint32_t launcher_padding_px = 20;
  std::string header_label = "Chat with us";
  // the bot
  std::string bot_name = "Assistant";
  std::string bot_avatar_url;            // https, or empty
  std::uint32_t response_delay_ms = 1000; // typing before each bot message
  bool notification_sound = true;
  std::string privacy_policy_url;        // http(s), or empty
  std::vector<std::string> blocked_email_domains; // lower case
  std::vector<std::string> allowed_site_domains;  // lower case; "*.x.com" for its subdomains; empty: every site
  bool operator==(const config&) const = default;
};

struct checked {
  std::optional<config> value; // set exactly when there is no problem
  std::vector<dialogue::problem> problems;
};

/// A PUT body: every field optional (absent: its default), unknown fields refused, every
/// problem listed with its path.
checked decode(const nlohmann::json& body, const config& defaults = {});
nlohmann::json to_json(const config& c);
/// What the visitor's widget needs (no security lists): welcome.config merges it in.
nlohmann::json widget_json(const config& c);

/// Whether a page or Origin host is on the allowed list (an empty list allows every host).
/// `host` is lower case, without a port.
bool site_allowed(const config& c, std::string_view host);
/// The host of an http(s) URL or an Origin value, lower case, without port; empty when none.
std::string host_of(std::string_view url);

/// The stored configuration (meta "site.config") over `defaults`; `defaults` when none is
/// stored, or when what is stored no longer passes (a newer build's). Throws store_error.
config load(const store::database& db, const config& defaults);
inline constexpr std::string_view meta_key = "site.config";

/// The configuration in force, shared by the actors; replaced whole when a PUT commits.
class holder {
public:
  explicit holder(config initial) : current_(std::make_shared<const config>(std::move(initial))) {}
  std::shared_ptr<const config> current() const {
    std::lock_guard lock{mutex_};
    return current_;
  }
  void set(config c) {
    auto next = std::make_shared<const config>(std::move(c));
    std::lock_guard lock{mutex_};
    current_ = std::move(next);
  }

private:
  mutable std::mutex mutex_;
  std::shared_ptr<const config> current_;
};

} // namespace dynchat::site
