#pragma once
// Stored values: one schema-version byte, then a MessagePack array. Fields are only ever
// appended: a record written before a field existed decodes with that field's default.
// Decoders return nullopt for an unknown version or a corrupt value rather than throwing.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dynchat/protocol/prompt.hpp"

namespace dynchat::store {

/// Where a conversation stands. Persisted as its number: append only.
enum class conversation_phase : std::uint8_t {
  bot = 0,     // the flow is talking
  waiting = 1, // asked for an agent, not yet assigned (offered or queued)
  live = 2,    // an agent holds it
  ended = 3,
};
std::string_view to_string(conversation_phase p) noexcept;
std::optional<conversation_phase> phase_from_string(std::string_view s) noexcept;

struct conversation_record {
  std::string id;
  std::string visitor_id;
  conversation_phase phase = conversation_phase::bot;
  std::string agent_id;        // set while live, and kept after the end for reports
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::int64_t requested_ms = 0; // when it asked for an agent: the queue order
  std::int64_t ended_ms = 0;
  std::string end_reason;
  std::string page_url;
  std::string referrer;
  std::string email;
  // appended fields
  std::int64_t visitor_left_ms = 0;   // the visitor's last socket closed then; 0: connected (or unknown)
  std::uint32_t queue_notice = 0;     // the place in line the visitor was last told during this request
  std::string flow_cursor;            // the conversation engine's cursor (engine::encode); empty: a new one
  std::vector<std::string> held_by;   // every agent that held it, first assignment first (agent_id is the latest)
  std::uint8_t score = 0;             // the conversation score, 0..3: a goal card's, or an agent's
};

/// The conversation passes to `agent_id`, who joins the agents that held it: one who held
/// it before another took over still sees it over REST.
void assign_agent(conversation_record& c, std::string_view agent_id);
/// Whether `agent_id` holds or ever held it. A record from before `held_by` knows only its
/// latest agent.
bool was_held_by(const conversation_record& c, std::string_view agent_id);

struct message_record {
  std::string from; // bot | visitor | agent | system
  std::string text;
  std::int64_t ts_ms = 0;
  std::string client_msg_id;
  std::string agent_id;
  std::string agent_name;
  protocol::bot_prompt prompt; // a bot message's buttons or input (appended to the schema)
};

/// One visitor's meeting with one dialogue, written by the conversation that runs it
/// whenever a fact changes. Each conversation owns its row, so counts built from these
/// rows are exact however many visitors arrive at once.
struct dialogue_visit {
  std::string dialogue_id;
  std::uint32_t version = 0;
  std::string conversation_id;
  std::string visitor_id;
  std::int64_t triggered_ms = 0;
  std::int64_t engaged_ms = 0;   // 0: never answered
  std::int64_t completed_ms = 0; // 0: not completed
  bool known = false;            // the visitor was known when it triggered
  bool acquired = false;         // a valid email was given in it
  std::uint32_t goals = 0;       // goals reached
  std::uint32_t meetings = 0;    // meetings booked
  bool flow = false;             // a conversational flow, not a targeted dialogue
  bool operator==(const dialogue_visit&) const = default;
};

/// One request for a live agent, written by its conversation as it goes: asked, taken,
/// the agent's first answer, the end. Never taken and over: missed.
struct live_chat_visit {
  std::string conversation_id;
  std::int64_t requested_ms = 0;
  std::int64_t connected_ms = 0;      // an agent took it; 0: not (yet)
  std::int64_t first_response_ms = 0; // the agent's first message
  std::int64_t ended_ms = 0;
  std::string agent_id;
  std::string dialogue_id; // the dialogue that handed over, if one did
  bool known = false;
  bool operator==(const live_chat_visit&) const = default;
};

/// What happened in a chat that Marketo shows as an activity of the lead: the outbox row
/// the Marketo sync delivers. One row per conversation, kind and name (a goal's, a
/// document's): a dialogue's engagement row is rewritten as its status moves on.
struct activity_record {
  std::string kind; // dialogue_engaged | goal_reached | document_opened | agent_engaged | meeting_scheduled
  std::string name; // the goal's name, the document's address; empty for the others
  std::int64_t ts_ms = 0; // when it first happened
  std::string conversation_id;
  std::string visitor_id;
  std::string email;     // the lead, when known
  std::string page_url;
  std::string dialogue_id;
  std::string dialogue_name;
  std::string status;    // the conversation's: initiated | dropped | completed
  std::uint8_t score = 0; // the conversation score, 0..3
  std::string agent_id;
  std::string agent_name;
  std::string agent_email;
  std::int64_t updated_ms = 0;
  bool operator==(const activity_record&) const = default;
};

struct agent_record {
  std::string id;
  std::string name;
  std::string email;
  std::string token_hash; // hex sha256 of the login token; the token itself is never stored
  std::uint32_t max_chats = 5;
  std::int64_t created_ms = 0;
};

/// A REST API token: what it may do (a role) and, for the agent role, whose it is.
/// A dialogue: its draft (the JSON as last saved), and its published versions by number.
enum class dialogue_status : std::uint8_t { draft = 0, published = 1, unpublished = 2 };
std::string_view to_string(dialogue_status s) noexcept;

struct dialogue_record {
  std::string id;
  std::string name;
  std::uint32_t priority = 1;
  dialogue_status status = dialogue_status::draft;
  std::string draft;                  // the definition's JSON, validated when saved
  std::uint32_t published_version = 0; // the newest version; 0: never published
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::uint32_t published_priority = 0; // the published version's (the draft's may differ); appended
  bool flow = false; // a conversational flow (its page starts it), not a targeted dialogue; appended
  bool operator==(const dialogue_record&) const = default;
};

struct api_token_record {
  std::string id;
  std::string name;       // what the admin called it ("reports export")
  std::string role;       // admin | marketer | sales_admin | agent
  std::string agent_id;   // for role agent: the agent it acts as
  std::string token_hash; // hex sha256 of the token; the token itself is never stored
  std::int64_t created_ms = 0;
};

struct visitor_record {
  std::string id;
  std::int64_t created_ms = 0;
  std::string email;
  std::string last_conversation_id;
};

std::string encode(const conversation_record& r);
std::string encode(const message_record& r);
std::string encode(const agent_record& r);
std::string encode(const visitor_record& r);
std::string encode(const api_token_record& r);
std::string encode(const dialogue_record& r);
std::string encode(const dialogue_visit& r);
std::string encode(const activity_record& r);
std::string encode(const live_chat_visit& r);
std::optional<live_chat_visit> decode_live_chat(std::string_view bytes);
std::optional<activity_record> decode_activity(std::string_view bytes);
std::optional<dialogue_visit> decode_dialogue_visit(std::string_view bytes);

std::optional<conversation_record> decode_conversation(std::string_view bytes);
std::optional<message_record> decode_message(std::string_view bytes);
std::optional<agent_record> decode_agent(std::string_view bytes);
std::optional<visitor_record> decode_visitor(std::string_view bytes);
std::optional<api_token_record> decode_api_token(std::string_view bytes);
std::optional<dialogue_record> decode_dialogue(std::string_view bytes);

} // namespace dynchat::store
