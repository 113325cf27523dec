#pragma once
// Client -> server frames of protocol v1 as plain structs, decoded from a parsed
// value with every field checked; and builders for server -> client frames.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "dynchat/protocol/codec.hpp"

namespace dynchat::protocol {

struct decode_limits {
  std::size_t max_text_bytes = 8192;   // say.text
  std::size_t max_id_bytes = 128;      // client_msg_id, ids, tokens
  std::size_t max_url_bytes = 2048;    // page_url, referrer
};

// ---- visitor endpoint ----
struct visitor_hello {
  std::string page_url;
  std::string visitor_id;   // empty: anonymous, a new id is issued
  std::string resume_token; // empty: start a new conversation
  std::uint64_t last_seq = 0;
  std::string email;
  std::string mkto_trk;
  std::string referrer;
};
struct visitor_say { std::string client_msg_id; std::string text; };
struct visitor_choose { std::string client_msg_id; std::string option; };
struct visitor_book { std::string client_msg_id; std::string slot; };
struct visitor_typing {};
using visitor_frame =
  std::variant<visitor_hello, visitor_say, visitor_choose, visitor_book, visitor_typing>;

// ---- agent endpoint ----
struct agent_hello { std::string token; };
struct agent_status { std::string status; };
struct agent_accept { std::string conversation_id; };
struct agent_decline { std::string conversation_id; };
struct agent_say { std::string conversation_id; std::string client_msg_id; std::string text; };
struct agent_typing { std::string conversation_id; };
struct agent_end { std::string conversation_id; };
using agent_frame = std::variant<agent_hello, agent_status, agent_accept, agent_decline,
                                 agent_say, agent_typing, agent_end>;

using visitor_decode = result<visitor_frame, error_code>;
using agent_decode = result<agent_frame, error_code>;

visitor_decode decode_visitor(const json& frame, const decode_limits& limits);
agent_decode decode_agent(const json& frame, const decode_limits& limits);

/// True for the statuses an agent may set.
bool is_agent_status(std::string_view s) noexcept;

// ---- server -> client (ack and message, sent most, are in outbound.hpp) ----
json make_error(error_code code, std::string_view message, std::string_view client_msg_id = {});
json make_typing(std::string_view conversation_id, std::string_view from);

/// A stored message as clients see it; outbound_frame::message (outbound.hpp) sends it.
struct message_view {
  std::string_view conversation_id;
  std::uint64_t seq;
  std::string_view from; // bot | visitor | agent | system
  std::string_view text;
  std::int64_t ts_ms;
  std::string_view agent_name; // set when from == agent
};

} // namespace dynchat::protocol
