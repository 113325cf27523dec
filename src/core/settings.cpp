#include "dynchat/core/settings.hpp"

#include <functional>
#include <map>
#include <stdexcept>

#include <toml++/toml.h>

namespace dynchat {
namespace {

// One setter per "section.key": unknown keys are an error, so a typo never passes silently.
using setter = std::function<void(settings&, const toml::node&, const std::string&)>;

template <class T>
T need(const toml::node& node, const std::string& key) {
  if constexpr (std::is_same_v<T, bool>) {
    if (auto v = node.value<bool>()) return *v;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (auto v = node.value<std::string>()) return *v;
  } else if constexpr (std::is_floating_point_v<T>) {
    if (auto v = node.value<double>()) return static_cast<T>(*v);
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    if (auto* arr = node.as_array()) {
      T out;
      for (auto& e : *arr) {
        auto v = e.value<std::string>();
        if (!v) break;
        out.push_back(*v);
      }
      if (out.size() == arr->size()) return out;
    }
    throw std::runtime_error("config key '" + key + "' must be an array of strings");
  } else {
    if (auto v = node.value<std::int64_t>(); v && *v >= 0) return static_cast<T>(*v);
  }
  throw std::runtime_error("config key '" + key + "' has the wrong type or a negative value");
}

template <class T>
setter field(T settings::*section_member, auto member) {
  return [=](settings& s, const toml::node& n, const std::string& key) {
    auto& target = s.*section_member.*member;
    using value_t = std::remove_reference_t<decltype(target)>;
    if constexpr (std::is_same_v<value_t, seconds>) target = seconds{need<std::int64_t>(n, key)};
    else target = need<value_t>(n, key);
  };
}

const std::map<std::string, setter>& setters() {
  static const std::map<std::string, setter> table = {
    {"server.listen", field(&settings::server, &server_settings::listen)},
    {"server.io_threads", field(&settings::server, &server_settings::io_threads)},
    {"server.actor_threads", field(&settings::server, &server_settings::actor_threads)},
    {"server.data_dir", field(&settings::server, &server_settings::data_dir)},
    {"server.admin_token", field(&settings::server, &server_settings::admin_token)},
    {"server.seed_demo", field(&settings::server, &server_settings::seed_demo)},
    {"server.log_level", field(&settings::server, &server_settings::log_level)},
    {"server.shutdown_timeout", field(&settings::server, &server_settings::shutdown_timeout)},
    {"server.max_connections", field(&settings::server, &server_settings::max_connections)},
    {"server.reserved_descriptors", field(&settings::server, &server_settings::reserved_descriptors)},
    {"server.health_reserve", field(&settings::server, &server_settings::health_reserve)},
    {"server.max_connections_per_address", field(&settings::server, &server_settings::max_connections_per_address)},
    {"server.header_timeout", field(&settings::server, &server_settings::header_timeout)},
    {"server.request_timeout", field(&settings::server, &server_settings::request_timeout)},
    {"server.max_header_bytes", field(&settings::server, &server_settings::max_header_bytes)},
    {"server.max_url_bytes", field(&settings::server, &server_settings::max_url_bytes)},
    {"server.trusted_proxies", field(&settings::server, &server_settings::trusted_proxies)},
    {"store.map_size_mb", field(&settings::store, &store_settings::map_size_mb)},
    {"store.group_commit", field(&settings::store, &store_settings::group_commit)},
    {"store.max_batch_requests", field(&settings::store, &store_settings::max_batch_requests)},
    {"store.durable", field(&settings::store, &store_settings::durable)},
    {"websocket.max_frame_bytes", field(&settings::websocket, &websocket_settings::max_frame_bytes)},
    {"websocket.max_fragments", field(&settings::websocket, &websocket_settings::max_fragments)},
    {"websocket.rate_per_second", field(&settings::websocket, &websocket_settings::rate_per_second)},
    {"websocket.rate_burst", field(&settings::websocket, &websocket_settings::rate_burst)},
    {"websocket.flood_strikes", field(&settings::websocket, &websocket_settings::flood_strikes)},
    {"websocket.max_outbound_frames", field(&settings::websocket, &websocket_settings::max_outbound_frames)},
    {"websocket.max_outbound_bytes", field(&settings::websocket, &websocket_settings::max_outbound_bytes)},
    {"websocket.agent_max_outbound_frames", field(&settings::websocket, &websocket_settings::agent_max_outbound_frames)},
    {"websocket.agent_max_outbound_bytes", field(&settings::websocket, &websocket_settings::agent_max_outbound_bytes)},
    {"websocket.hello_timeout", field(&settings::websocket, &websocket_settings::hello_timeout)},
    {"websocket.idle_timeout", field(&settings::websocket, &websocket_settings::idle_timeout)},
    {"websocket.handshake_timeout", field(&settings::websocket, &websocket_settings::handshake_timeout)},
    {"websocket.max_connections", field(&settings::websocket, &websocket_settings::max_connections)},
    {"websocket.max_http_body", field(&settings::websocket, &websocket_settings::max_http_body)},
    {"chat.visitor_grace", field(&settings::chat, &chat_settings::visitor_grace)},
    {"chat.offer_timeout", field(&settings::chat, &chat_settings::offer_timeout)},
    {"chat.max_offer_attempts", field(&settings::chat, &chat_settings::max_offer_attempts)},
    {"chat.decline_cooldown", field(&settings::chat, &chat_settings::decline_cooldown)},
    {"chat.away_after_missed", field(&settings::chat, &chat_settings::away_after_missed)},
    {"chat.chat_idle_timeout", field(&settings::chat, &chat_settings::chat_idle_timeout)},
    {"chat.default_max_chats", field(&settings::chat, &chat_settings::default_max_chats)},
    {"chat.max_in_flight", field(&settings::chat, &chat_settings::max_in_flight)},
    {"chat.max_replay", field(&settings::chat, &chat_settings::max_replay)},
    {"chat.history_page", field(&settings::chat, &chat_settings::history_page)},
    {"chat.max_sockets_per_conversation", field(&settings::chat, &chat_settings::max_sockets_per_conversation)},
    {"chat.max_sockets_per_agent", field(&settings::chat, &chat_settings::max_sockets_per_agent)},
    {"chat.new_conversations_per_second", field(&settings::chat, &chat_settings::new_conversations_per_second)},
    {"chat.new_conversations_burst", field(&settings::chat, &chat_settings::new_conversations_burst)},
    {"limits.max_text_bytes", field(&settings::limits, &protocol::decode_limits::max_text_bytes)},
    {"limits.max_id_bytes", field(&settings::limits, &protocol::decode_limits::max_id_bytes)},
    {"limits.max_url_bytes", field(&settings::limits, &protocol::decode_limits::max_url_bytes)},
  };
  return table;
}

} // namespace

namespace {

settings apply_document(const toml::table& doc, settings base) {
  for (auto&& [section, node] : doc) {
    auto* tbl = node.as_table();
    if (!tbl) throw std::runtime_error("config: '" + std::string{section.str()} + "' must be a [section]");
    for (auto&& [key, value] : *tbl) {
      std::string full = std::string{section.str()} + "." + std::string{key.str()};
      auto it = setters().find(full);
      if (it == setters().end()) throw std::runtime_error("config: unknown key '" + full + "'");
      it->second(base, value, full);
    }
  }
  return base;
}

} // namespace

settings load_settings_file(const std::filesystem::path& path, settings base) {
  try {
    return apply_document(toml::parse_file(path.string()), std::move(base));
  } catch (const toml::parse_error& e) {
    throw std::runtime_error("cannot parse " + path.string() + ": " + std::string{e.description()});
  }
}

settings load_settings_text(std::string_view toml_text, settings base) {
  try {
    return apply_document(toml::parse(toml_text), std::move(base));
  } catch (const toml::parse_error& e) {
    throw std::runtime_error("cannot parse '" + std::string{toml_text} + "': " + std::string{e.description()});
  }
}

void validate(const settings& s) {
  auto require = [](bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string{"config: "} + what);
  };
  require(s.chat.default_max_chats >= 1 && s.chat.default_max_chats <= 10, "chat.default_max_chats must be 1..10");
  require(s.websocket.max_frame_bytes >= 256, "websocket.max_frame_bytes must be at least 256");
  require(s.websocket.rate_per_second > 0 && s.websocket.rate_burst >= 1, "websocket rate must be positive");
  require(s.websocket.max_outbound_frames >= 8, "websocket.max_outbound_frames must be at least 8");
  require(s.websocket.agent_max_outbound_frames >= 8, "websocket.agent_max_outbound_frames must be at least 8");
  require(s.websocket.max_connections >= 1, "websocket.max_connections must be at least 1");
  require(s.server.io_threads >= 1, "server.io_threads must be at least 1");
  require(s.chat.max_offer_attempts >= 1, "chat.max_offer_attempts must be at least 1");
  require(s.chat.offer_timeout.count() >= 1, "chat.offer_timeout must be at least 1 s");
  require(s.chat.max_in_flight >= 1, "chat.max_in_flight must be at least 1");
  require(s.store.max_batch_requests >= 1, "store.max_batch_requests must be at least 1");
  const auto& level = s.server.log_level;
  require(level == "trace" || level == "debug" || level == "info" || level == "warn" || level == "error" ||
            level == "critical" || level == "off",
          "server.log_level must be trace, debug, info, warn, error, critical or off");
  require(s.websocket.max_fragments >= 1, "websocket.max_fragments must be at least 1");
  require(s.websocket.idle_timeout.count() >= 1, "websocket.idle_timeout must be at least 1 s");
  require(s.server.header_timeout.count() >= 1, "server.header_timeout must be at least 1 s");
  require(s.server.request_timeout.count() >= 1, "server.request_timeout must be at least 1 s");
  require(s.server.max_connections > s.server.health_reserve, "server.max_connections must exceed server.health_reserve");
  require(s.server.max_connections_per_address >= 1, "server.max_connections_per_address must be at least 1");
  require(s.chat.max_sockets_per_conversation >= 1 && s.chat.max_sockets_per_agent >= 1,
          "chat.max_sockets_per_conversation and chat.max_sockets_per_agent must be at least 1");
  require(s.websocket.max_connections <= s.server.max_connections,
          "websocket.max_connections must not exceed server.max_connections");
  require(s.server.max_header_bytes >= 1024, "server.max_header_bytes must be at least 1024");
  require(s.server.max_url_bytes >= 256, "server.max_url_bytes must be at least 256");
  // Every message in flight is acked on the socket that sent it: the acks must fit its queue.
  require(s.chat.max_in_flight * 2 <= s.websocket.max_outbound_frames,
          "chat.max_in_flight must be at most half of websocket.max_outbound_frames");
  require(s.chat.history_page >= 1 && s.chat.history_page <= protocol::max_history_limit,
          "chat.history_page must be 1..200");
  require(s.chat.new_conversations_per_second > 0 && s.chat.new_conversations_burst >= 1,
          "chat.new_conversations_per_second must be positive and chat.new_conversations_burst at least 1");
}

std::vector<std::string> setting_keys() {
  std::vector<std::string> out;
  for (const auto& [key, set] : setters()) out.push_back(key);
  return out;
}

unsigned effective_actor_threads(const server_settings& s, unsigned hardware_threads) {
  if (s.actor_threads > 0) return s.actor_threads;
  return hardware_threads > s.io_threads ? hardware_threads - s.io_threads : 1;
}

} // namespace dynchat
