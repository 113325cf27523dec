#include "dynchat/core/settings.hpp"

#include <functional>
#include <limits>
#include <map>
#include <stdexcept>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace dynchat {
namespace {

// One rule per "section.key": unknown keys are an error, so a typo never passes silently.

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
    // Only a TOML integer: converting a float (5e99) to an integer is undefined (found by the fuzzer).
    if (auto v = node.is_integer() ? node.value<std::int64_t>() : std::nullopt; v && *v >= 0) {
      // Checked before narrowing: 4294967297 must not become 1 and pass the range check.
      if (static_cast<std::uint64_t>(*v) > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
        throw std::runtime_error("config key '" + key + "' is too large");
      return static_cast<T>(*v);
    }
  }
  throw std::runtime_error("config key '" + key + "' has the wrong type or a negative value");
}

// Sizes and durations a setting may take. Both ends are there so that a typo of a few
// digits is refused instead of overflowing a deadline or starving every socket.
struct bounds {
  double min;
  double max;
};
constexpr double kib = 1024, mib = 1024 * kib, gib = 1024 * mib;
constexpr double hour = 3600, day = 24 * hour, week = 7 * day;

// How one "section.key" is read from TOML, and the range validate() holds it to.
struct key_rule {
  std::function<void(settings&, const toml::node&, const std::string&)> set;
  std::function<void(const settings&, const std::string&)> check; // empty: any value of its type
};

template <class T>
key_rule field(T settings::*section_member, auto member) {
  return {[=](settings& s, const toml::node& n, const std::string& key) {
            auto& target = s.*section_member.*member;
            using value_t = std::remove_reference_t<decltype(target)>;
            if constexpr (std::is_same_v<value_t, seconds>) target = seconds{need<std::int64_t>(n, key)};
            else target = need<value_t>(n, key);
          },
          {}};
}

template <class T>
key_rule field(T settings::*section_member, auto member, bounds range) {
  auto rule = field(section_member, member);
  rule.check = [=](const settings& s, const std::string& key) {
    const auto& target = s.*section_member.*member;
    using value_t = std::remove_cvref_t<decltype(target)>;
    double value = 0;
    if constexpr (std::is_same_v<value_t, seconds>) value = static_cast<double>(target.count());
    else value = static_cast<double>(target);
    if (value >= range.min && value <= range.max) return;
    throw std::runtime_error(fmt::format("config: {} must be {}..{}{}, not {}", key, range.min, range.max,
                                         std::is_same_v<value_t, seconds> ? " seconds" : "", value));
  };
  return rule;
}

const std::map<std::string, key_rule>& rules() {
  static const std::map<std::string, key_rule> table = {
    {"server.listen", field(&settings::server, &server_settings::listen)},
    {"server.io_threads", field(&settings::server, &server_settings::io_threads, {1, 64})},
    {"server.actor_threads", field(&settings::server, &server_settings::actor_threads, {0, 256})},
    {"server.data_dir", field(&settings::server, &server_settings::data_dir)},
    {"server.admin_token", field(&settings::server, &server_settings::admin_token)},
    {"server.seed_demo", field(&settings::server, &server_settings::seed_demo)},
    {"server.log_level", field(&settings::server, &server_settings::log_level)},
    {"server.shutdown_timeout", field(&settings::server, &server_settings::shutdown_timeout, {1, hour})},
    {"server.max_connections", field(&settings::server, &server_settings::max_connections, {2, 1'000'000})},
    {"server.reserved_descriptors", field(&settings::server, &server_settings::reserved_descriptors, {0, 100'000})},
    {"server.health_reserve", field(&settings::server, &server_settings::health_reserve, {0, 10'000})},
    {"server.max_connections_per_address", field(&settings::server, &server_settings::max_connections_per_address, {1, 1'000'000})},
    {"server.max_api_tokens", field(&settings::server, &server_settings::max_api_tokens, {1, 100'000})},
    {"server.max_dialogues", field(&settings::server, &server_settings::max_dialogues, {1, 100'000})},
    {"server.header_timeout", field(&settings::server, &server_settings::header_timeout, {1, hour})},
    {"server.request_timeout", field(&settings::server, &server_settings::request_timeout, {1, hour})},
    {"server.max_header_bytes", field(&settings::server, &server_settings::max_header_bytes, {1024, mib})},
    {"server.max_url_bytes", field(&settings::server, &server_settings::max_url_bytes, {256, 64 * kib})},
    {"server.trusted_proxies", field(&settings::server, &server_settings::trusted_proxies)},
    {"server.tls_cert", field(&settings::server, &server_settings::tls_cert)},
    {"server.tls_key", field(&settings::server, &server_settings::tls_key)},
    {"store.map_size_mb", field(&settings::store, &store_settings::map_size_mb, {16, 1024 * 1024})},
    {"store.group_commit", field(&settings::store, &store_settings::group_commit)},
    {"store.max_batch_requests", field(&settings::store, &store_settings::max_batch_requests, {1, 1'000'000})},
    {"store.durable", field(&settings::store, &store_settings::durable)},
    {"websocket.max_frame_bytes", field(&settings::websocket, &websocket_settings::max_frame_bytes, {256, 64 * mib})},
    {"websocket.max_fragments", field(&settings::websocket, &websocket_settings::max_fragments, {1, 100'000})},
    {"websocket.rate_per_second", field(&settings::websocket, &websocket_settings::rate_per_second, {0.001, 1e7})},
    {"websocket.rate_burst", field(&settings::websocket, &websocket_settings::rate_burst, {1, 1e7})},
    {"websocket.flood_strikes", field(&settings::websocket, &websocket_settings::flood_strikes, {1, 1'000'000})},
    {"websocket.max_outbound_frames", field(&settings::websocket, &websocket_settings::max_outbound_frames, {8, 10'000'000})},
    {"websocket.max_outbound_bytes", field(&settings::websocket, &websocket_settings::max_outbound_bytes, {64 * kib, gib})},
    {"websocket.agent_max_outbound_frames", field(&settings::websocket, &websocket_settings::agent_max_outbound_frames, {8, 10'000'000})},
    {"websocket.agent_max_outbound_bytes", field(&settings::websocket, &websocket_settings::agent_max_outbound_bytes, {64 * kib, 4 * gib})},
    {"websocket.hello_timeout", field(&settings::websocket, &websocket_settings::hello_timeout, {1, hour})},
    {"websocket.idle_timeout", field(&settings::websocket, &websocket_settings::idle_timeout, {1, day})},
    {"websocket.handshake_timeout", field(&settings::websocket, &websocket_settings::handshake_timeout, {1, hour})},
    {"websocket.max_connections", field(&settings::websocket, &websocket_settings::max_connections, {1, 1'000'000})},
    {"websocket.max_http_body", field(&settings::websocket, &websocket_settings::max_http_body, {1024, 256 * mib})},
    {"chat.visitor_grace", field(&settings::chat, &chat_settings::visitor_grace, {1, week})},
    {"chat.offer_timeout", field(&settings::chat, &chat_settings::offer_timeout, {1, day})},
    {"chat.max_offer_attempts", field(&settings::chat, &chat_settings::max_offer_attempts, {1, 1000})},
    {"chat.decline_cooldown", field(&settings::chat, &chat_settings::decline_cooldown, {0, day})},
    {"chat.away_after_missed", field(&settings::chat, &chat_settings::away_after_missed)},
    {"chat.chat_idle_timeout", field(&settings::chat, &chat_settings::chat_idle_timeout, {1, week})},
    {"chat.default_max_chats", field(&settings::chat, &chat_settings::default_max_chats, {1, 10})},
    {"chat.bot_response_delay_ms", field(&settings::chat, &chat_settings::bot_response_delay_ms, {0, 60'000})},
    {"chat.meeting_slots_shown", field(&settings::chat, &chat_settings::meeting_slots_shown, {1, 50})},
    {"meetings.feed_refresh", field(&settings::meetings, &meetings_settings::feed_refresh, {1, 7 * 24 * hour})},
    {"meetings.feed_timeout", field(&settings::meetings, &meetings_settings::feed_timeout, {1, hour})},
    {"meetings.feed_max_bytes", field(&settings::meetings, &meetings_settings::feed_max_bytes, {1024, 256 * mib})},
    {"meetings.feed_ca_file", field(&settings::meetings, &meetings_settings::feed_ca_file)},
    {"meetings.smtp_url", field(&settings::meetings, &meetings_settings::smtp_url)},
    {"meetings.smtp_user", field(&settings::meetings, &meetings_settings::smtp_user)},
    {"meetings.smtp_password", field(&settings::meetings, &meetings_settings::smtp_password)},
    {"meetings.smtp_from", field(&settings::meetings, &meetings_settings::smtp_from)},
    {"meetings.smtp_starttls", field(&settings::meetings, &meetings_settings::smtp_starttls)},
    {"meetings.smtp_ca_file", field(&settings::meetings, &meetings_settings::smtp_ca_file)},
    {"meetings.smtp_timeout", field(&settings::meetings, &meetings_settings::smtp_timeout, {1, hour})},
    {"meetings.smtp_max_attempts", field(&settings::meetings, &meetings_settings::smtp_max_attempts, {1, 100})},
    {"meetings.smtp_retry_base", field(&settings::meetings, &meetings_settings::smtp_retry_base, {1, hour})},
    {"routing.agents_tried_per_rule", field(&settings::routing, &routing_settings::agents_tried_per_rule, {1, 100})},
    {"routing.max_rules", field(&settings::routing, &routing_settings::max_rules, {1, 10'000})},
    {"routing.max_teams", field(&settings::routing, &routing_settings::max_teams, {1, 10'000})},
    {"routing.max_members", field(&settings::routing, &routing_settings::max_members, {1, 10'000})},
    {"routing.max_accounts", field(&settings::routing, &routing_settings::max_accounts, {1, 10'000'000})},
    {"marketo.poll_interval_ms", field(&settings::marketo, &marketo_settings::poll_interval_ms, {1, day * 1000})},
    {"marketo.download_chunk_bytes", field(&settings::marketo, &marketo_settings::download_chunk_bytes, {4 * kib, 256 * mib})},
    {"marketo.sync_batch_leads", field(&settings::marketo, &marketo_settings::sync_batch_leads, {1, 100'000})},
    {"marketo.max_calls", field(&settings::marketo, &marketo_settings::max_calls, {1, 100'000})},
    {"marketo.call_window_ms", field(&settings::marketo, &marketo_settings::call_window_ms, {1, hour * 1000})},
    {"marketo.max_concurrent", field(&settings::marketo, &marketo_settings::max_concurrent, {1, 1000})},
    {"marketo.max_retries", field(&settings::marketo, &marketo_settings::max_retries, {0, 100})},
    {"marketo.retry_base_ms", field(&settings::marketo, &marketo_settings::retry_base_ms, {1, hour * 1000})},
    {"marketo.retry_cap_ms", field(&settings::marketo, &marketo_settings::retry_cap_ms, {1, day * 1000})},
    {"marketo.request_timeout", field(&settings::marketo, &marketo_settings::request_timeout, {1, hour})},
    {"marketo.ca_file", field(&settings::marketo, &marketo_settings::ca_file)},
    {"marketo.full_sync_since", field(&settings::marketo, &marketo_settings::full_sync_since)},
    {"marketo.incremental_every", field(&settings::marketo, &marketo_settings::incremental_every, {1, week})},
    {"marketo.activity_settle", field(&settings::marketo, &marketo_settings::activity_settle, {0, day})},
    {"marketo.activity_interval_ms", field(&settings::marketo, &marketo_settings::activity_interval_ms, {1, hour * 1000})},
    {"marketo.lookup_timeout_ms", field(&settings::marketo, &marketo_settings::lookup_timeout_ms, {1, 60'000})},
    {"marketo.recent_activities", field(&settings::marketo, &marketo_settings::recent_activities, {1, 300})},
    {"marketo.cpu_priority", field(&settings::marketo, &marketo_settings::cpu_priority)},
    {"chat.max_in_flight", field(&settings::chat, &chat_settings::max_in_flight, {1, 1'000'000})},
    {"chat.max_replay", field(&settings::chat, &chat_settings::max_replay, {1, 10'000'000})},
    {"chat.history_page", field(&settings::chat, &chat_settings::history_page, {1, protocol::max_history_limit})},
    {"chat.max_sockets_per_conversation", field(&settings::chat, &chat_settings::max_sockets_per_conversation, {1, 1000})},
    {"chat.max_sockets_per_agent", field(&settings::chat, &chat_settings::max_sockets_per_agent, {1, 1000})},
    {"chat.new_conversations_per_second", field(&settings::chat, &chat_settings::new_conversations_per_second, {0.001, 1e7})},
    {"chat.new_conversations_burst", field(&settings::chat, &chat_settings::new_conversations_burst, {1, 1e7})},
    {"limits.max_text_bytes", field(&settings::limits, &protocol::decode_limits::max_text_bytes, {1, mib})},
    {"limits.max_id_bytes", field(&settings::limits, &protocol::decode_limits::max_id_bytes, {8, 1024})},
    {"limits.max_url_bytes", field(&settings::limits, &protocol::decode_limits::max_url_bytes, {16, 64 * kib})},
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
      auto it = rules().find(full);
      if (it == rules().end()) throw std::runtime_error("config: unknown key '" + full + "'");
      it->second.set(base, value, full);
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
  for (const auto& [key, rule] : rules())
    if (rule.check) rule.check(s, key);
  auto require = [](bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string{"config: "} + what);
  };
  const auto& level = s.server.log_level;
  require(level == "trace" || level == "debug" || level == "info" || level == "warn" || level == "error" ||
            level == "critical" || level == "off",
          "server.log_level must be trace, debug, info, warn, error, critical or off");
  const auto& cpu = s.marketo.cpu_priority;
  require(cpu == "idle" || cpu == "low" || cpu == "normal", "marketo.cpu_priority must be idle, low or normal");
  require(s.server.max_connections > s.server.health_reserve, "server.max_connections must exceed server.health_reserve");
  require(s.websocket.max_connections <= s.server.max_connections,
          "websocket.max_connections must not exceed server.max_connections");
  require(s.server.max_url_bytes <= s.server.max_header_bytes, "server.max_url_bytes must not exceed server.max_header_bytes");
  // Half a TLS setup would serve plain TCP where TLS was meant, or fail on every handshake.
  require(s.server.tls_cert.empty() == s.server.tls_key.empty(),
          "server.tls_cert and server.tls_key go together: set both (TLS) or neither (plain TCP)");
  // Every message in flight is acked on the socket that sent it: the acks must fit its queue.
  require(s.chat.max_in_flight * 2 <= s.websocket.max_outbound_frames,
          "chat.max_in_flight must be at most half of websocket.max_outbound_frames");
  // A visitor's longest message, as a frame (JSON escapes can take six bytes a byte),
  // must fit a visitor's queue a few times over, or its echo alone drops the socket.
  const double longest_message_frame = 128 + 6.0 * (s.limits.max_text_bytes + 2 * s.limits.max_id_bytes);
  require(4 * longest_message_frame <= s.websocket.max_outbound_bytes,
          "websocket.max_outbound_bytes must hold four of the largest message frames (24 times limits.max_text_bytes)");
  require(4 * longest_message_frame <= s.websocket.agent_max_outbound_bytes,
          "websocket.agent_max_outbound_bytes must hold four of the largest message frames (24 times limits.max_text_bytes)");
}

std::vector<std::string> setting_keys() {
  std::vector<std::string> out;
  for (const auto& [key, rule] : rules()) out.push_back(key);
  return out;
}

unsigned effective_actor_threads(const server_settings& s, unsigned hardware_threads) {
  if (s.actor_threads > 0) return s.actor_threads;
  return hardware_threads > s.io_threads ? hardware_threads - s.io_threads : 1;
}

} // namespace dynchat
