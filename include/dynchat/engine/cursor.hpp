#pragma once
// Where a conversation stands in its flow: everything the engine needs to take the next
// step, and nothing else. It is stored with the conversation (an opaque byte string in
// its record), so a restart carries on from the same card with the same answers.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dynchat::engine {

/// Which kind of flow leads the conversation. Persisted as its number: append only.
enum class flow_kind : std::uint8_t {
  live_chat = 0,           // straight to an agent (today's only flow)
  dialogue = 1,            // a marketer's dialogue, pinned to one version
  conversational_flow = 2, // a reusable flow a page triggers by name
};

/// A wake-up the flow asked for; the session arms it on the actor clock and feeds
/// `timer_due` back when it fires.
struct pending_timer {
  std::string name;
  std::int64_t due_ms = 0;
  bool operator==(const pending_timer&) const = default;
};

struct cursor {
  flow_kind flow = flow_kind::live_chat;
  std::string flow_id;            // the dialogue or conversational flow; empty for live chat
  std::uint32_t flow_version = 0; // the dialogue version this conversation is pinned to
  std::string card;               // the current card; empty before the first step
  std::map<std::string, std::string> answers; // captured values by card or attribute
  std::vector<pending_timer> timers;
  bool engaged = false;   // the visitor answered at least once
  bool completed = false; // the flow reached its end, a goal or a hand-over that was taken
  bool handed_over = false; // a live agent was asked for and the chat has not ended since
  bool finished = false;    // the flow ran to its end: nothing more to show
  bool start_asked = false; // the conversation opened (the dialogue may wait for the page's events)
  bool started_shown = false; // the dialogue began: its first card was run
  bool operator==(const cursor&) const = default;
};

/// One version byte, then MessagePack; fields only ever appended.
std::string encode(const cursor& c);
/// nullopt for a corrupt value or an unknown version. Empty bytes are the default
/// cursor: conversations stored before cursors existed were all live chat.
std::optional<cursor> decode_cursor(std::string_view bytes);

} // namespace dynchat::engine
