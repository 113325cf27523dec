#pragma once
// Client -> server frames of protocol v1 as plain structs, decoded from a parsed
// value with every field checked; and builders for server -> client frames.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "dynchat/protocol/codec.hpp"
#include "dynchat/protocol/prompt.hpp"

namespace dynchat::protocol {

struct decode_limits {
  std::size_t max_text_bytes = 8192;   // say.text
  std::size_t max_id_bytes = 128;      // client_msg_id, ids, tokens
  std::size_t max_url_bytes = 2048;    // page_url, referrer
};

/// A `choose` frame's option: an answer's stored value, which a dialogue keeps to 255 bytes.
inline constexpr std::size_t max_option_bytes = 255;
/// A page of history asked for at most this many messages.
inline constexpr std::uint32_t max_history_limit = 200;
/// An agent's hello resumes at most this many conversations.
inline constexpr std::size_t max_resume_entries = 100;

/// A client_msg_id as the client sent it: a string, or a non-negative integer kept as
/// its decimal text (the two spell the same id). Echoed back in the client's own type.
struct client_msg_id {
  std::string text;
  bool numeric = false;
  bool empty() const { return text.empty(); }
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
  bool page_load = false; // the page just loaded (not a reconnect): a finished dialogue makes way for the next
};
struct visitor_say { client_msg_id id; std::string text; };
struct visitor_choose { client_msg_id id; std::string option; };
struct visitor_book { client_msg_id id; std::string slot; std::string time_zone; }; // the visitor's zone, optional
struct visitor_opened { std::string link; }; // a document card's link, opened
struct visitor_event { std::string kind; std::int64_t value = 0; }; // time_on_page_s, time_on_site_s, scroll_pct
struct visitor_trigger { std::string flow; }; // the page starts a conversational flow (its id)
struct visitor_typing {};
/// Older messages: those before `before_seq` (0: the newest), at most `limit`.
struct history_request { std::uint64_t before_seq = 0; std::uint32_t limit = 0; };
struct visitor_history { history_request page; };
using visitor_frame =
  std::variant<visitor_hello, visitor_say, visitor_choose, visitor_book, visitor_typing, visitor_history, visitor_opened, visitor_event,
               visitor_trigger>;

// ---- agent endpoint ----
/// `resume`: conversation id -> the last seq this console has; those chats are replayed
/// from there instead of starting with their newest page.
struct agent_hello { std::string token; std::vector<std::pair<std::string, std::uint64_t>> resume; };
struct agent_status { std::string status; };
struct agent_accept { std::string conversation_id; };
struct agent_decline { std::string conversation_id; };
struct agent_say { std::string conversation_id; client_msg_id id; std::string text; };
struct agent_typing { std::string conversation_id; };
struct agent_end { std::string conversation_id; };
struct agent_history { std::string conversation_id; history_request page; };
/// Free times of a calendar shared into a chat the agent holds: theirs, or `agent_id`'s.
struct agent_share_calendar { std::string conversation_id; std::string agent_id; };
using agent_frame = std::variant<agent_hello, agent_status, agent_accept, agent_decline,
                                 agent_say, agent_typing, agent_end, agent_history, agent_share_calendar>;

using visitor_decode = result<visitor_frame, error_code>;
using agent_decode = result<agent_frame, error_code>;

visitor_decode decode_visitor(const json& frame, const decode_limits& limits);
agent_decode decode_agent(const json& frame, const decode_limits& limits);

/// True for the statuses an agent may set.
bool is_agent_status(std::string_view s) noexcept;

// ---- server -> client (ack and message, sent most, are in outbound.hpp) ----
json make_error(error_code code, std::string_view message, const client_msg_id& id = {});
json make_typing(std::string_view conversation_id, std::string_view from);
/// The id as the client wrote it: a number when it sent one.
json client_msg_id_json(const client_msg_id& id);

/// A stored message as clients see it; outbound_frame::message (outbound.hpp) sends it.
struct message_view {
  std::string_view conversation_id;
  std::uint64_t seq;
  std::string_view from; // bot | visitor | agent | system
  std::string_view text;
  std::int64_t ts_ms;
  std::string_view agent_name; // set when from == agent
  const bot_prompt* prompt = nullptr; // a bot message's buttons or input; null or empty: none
};

/// A prompt as clients see it: {options?: [{label, value}], input?, placeholder?, link?}.
json prompt_json(const bot_prompt& p);
/// One message inside a transcript (offer, chat, history): {seq, from, text, ts, agent?, prompt?}.
json transcript_entry(const message_view& m);
/// A page of a conversation's messages, `transcript` in seq order: `type` is offer, chat
/// or history; has_more says older messages exist before the first one.
json make_page(std::string_view type, std::string_view conversation_id, json transcript, bool has_more);

} // namespace dynchat::protocol
