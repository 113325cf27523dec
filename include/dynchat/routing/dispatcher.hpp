#pragma once
// Who gets which live chat: the whole routing policy as plain code, without actors or
// clocks. The router actor feeds it inputs (a conversation asks, an agent accepts,
// declines or changes status, an offer times out, a chat ends) with the current time,
// and carries out the effects it returns (send an offer, withdraw one, tell a visitor
// its place in line, set an agent away, wake up later).
//
// The dispatcher is the one authority on capacity: an agent's load is its assigned
// chats plus its pending offers, counted here as they happen, so no report arriving
// late can make it offer past max_chats.
//
//   request ──► line empty and an agent may take it? ──yes──► offer ──accept──► assigned
//                   │ no                                          │          release ──► gone
//                   ▼                                             │ decline, miss, agent gone
//                 line ◄──────────────────────────────────────────┘ (a refusal: that agent
//                   │  drained oldest first whenever an agent       cools down for this chat)
//                   └─ has room; the next agent comes at once when one has room
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "dynchat/routing/waiting_line.hpp"

namespace dynchat::routing {

struct dispatch_settings {
  std::int64_t offer_timeout_ms = 100'000; // an offer not accepted in time is missed
  std::int64_t refusal_cooldown_ms = 30'000; // a decliner is not offered the same chat again sooner
  unsigned max_attempts = 2;               // refusals in a row after which the visitor hears it waits
  bool away_after_missed = true;           // an agent who misses an offer is set away
};

// ---- effects ----
struct offer_made {
  std::string conversation_id;
  std::string agent_id;
  std::uint64_t offer_id; // tells this offer's timeout from a later offer's
  std::int64_t expires_at_ms;
  unsigned attempt;       // 1 for the first agent tried in a row
  bool by_turn = true;    // round robin's pick; false: one of the conversation's preferred agents
};
struct offer_withdrawn {
  std::string conversation_id;
  std::string agent_id;
  std::string reason; // missed | visitor_left | agent_unavailable | agent_removed
};
struct set_away {
  std::string agent_id;
};
/// The conversation now waits in line at this 1-based position.
struct queued {
  std::string conversation_id;
  std::uint32_t position;
};
using effect = std::variant<offer_made, offer_withdrawn, set_away, queued>;
using effects = std::vector<effect>;

enum class accept_outcome { assigned, no_offer, at_capacity };

struct accept_result {
  accept_outcome outcome;
  effects follow_up; // re-routing when the accept was refused
};

class dispatcher {
public:
  explicit dispatcher(dispatch_settings s) : settings_(s) {}

  // ---- agents (kept in the order they are added: the round-robin order) ----
  /// Adds an agent, or updates its capacity; new agents start unavailable.
  effects add_agent(const std::string& id, std::uint32_t max_chats, std::int64_t now);
  /// available: status available and at least one socket open. Going unavailable
  /// withdraws the agent's pending offers and routes them on at once.
  effects update_agent(const std::string& id, bool available, std::uint32_t max_chats, std::int64_t now);
  /// The agent is deleted: its offers go to others; its chats are ended by their sessions.
  effects remove_agent(const std::string& id, std::int64_t now);

  // ---- conversations ----
  /// A conversation asks for an agent. `preferred`: agents to try first, in order, before
  /// round robin (routing/assignment.hpp: the account's owner, the rule's agents); an
  /// offer to one of them does not move the cursor. Asking again while it is routed only
  /// replaces its preferred agents.
  effects request(const std::string& conversation_id, std::int64_t requested_ms, std::int64_t now,
                  std::vector<std::string> preferred = {});
  /// Start-up: a conversation that was waiting goes back into the line at its place,
  /// without dispatching (call drain() once everything is restored).
  void restore_waiting(const std::string& conversation_id, std::int64_t requested_ms);
  /// Start-up: a live chat counts against its agent's capacity.
  void restore_chat(const std::string& conversation_id, const std::string& agent_id);
  /// The visitor left before an agent took the conversation.
  effects cancel(const std::string& conversation_id, std::int64_t now);
  accept_result accept(const std::string& conversation_id, const std::string& agent_id, std::int64_t now);
  effects decline(const std::string& conversation_id, const std::string& agent_id, std::int64_t now);
  effects offer_expired(const std::string& conversation_id, std::uint64_t offer_id, std::int64_t now);
  /// A chat ended (or was handed back): its agent has room again.
  effects release(const std::string& conversation_id, const std::string& agent_id, std::int64_t now);
  /// Offers what can be offered now; also what to call when a cool-down ends.
  effects drain(std::int64_t now);

  // ---- views ----
  /// When the earliest cool-down of a waiting conversation ends (after `now`), if any.
  std::optional<std::int64_t> next_wake(std::int64_t now);
  /// The agent who got the last offer (the round-robin cursor); persisted by the router.
  const std::string& cursor() const { return cursor_; }
  void set_cursor(std::string id) { cursor_ = std::move(id); }
  std::size_t waiting() const { return line_.size(); }
  std::size_t pending_offers() const;
  /// Some agent is available and has room for one more chat: a request now is offered.
  bool any_room() const;

  struct agent_view {
    std::string id;
    bool available;
    std::uint32_t max_chats;
    std::size_t chats;
    std::size_t offers;
  };
  std::vector<agent_view> agents() const;
  /// The agent holding an offer for the conversation, if any.
  std::optional<std::string> offered_to(const std::string& conversation_id) const;
  /// The agent a conversation is assigned to, if any.
  std::optional<std::string> assigned_to(const std::string& conversation_id) const;
  bool is_waiting(const std::string& conversation_id) const { return line_.contains(conversation_id); }
  /// Waiting conversations, oldest first.
  std::vector<std::string> line() const;

private:
  struct agent {
    std::string id;
    bool available = false;
    std::uint32_t max_chats = 5;
    std::set<std::string> chats;
    std::set<std::string> offers;
    std::size_t load() const { return chats.size() + offers.size(); }
    bool has_room() const { return available && load() < max_chats; }
  };
  struct offer {
    std::string agent_id;
    std::uint64_t id;
  };
  struct routed { // a conversation waiting in line or offered
    std::int64_t requested_ms = 0;
    unsigned attempts = 0;                            // refusals in a row
    std::map<std::string, std::int64_t> refused_until; // agent id -> cool-down end
    std::optional<offer> current;
    std::vector<std::string> preferred; // tried first, in order
  };
  struct choice {
    std::size_t index; // into order_
    bool by_turn;      // round robin's pick, not a preferred agent
  };

  agent* find(const std::string& id);
  const agent* find(const std::string& id) const;
  bool may_take(const agent& a, const routed& r, std::int64_t now) const;
  std::optional<choice> pick(const routed& r, std::int64_t now) const;
  void make_offer(const std::string& conversation_id, routed& r, choice c, std::int64_t now, effects& out);
  /// The current offer failed: route on (refused: the agent chose not to, or missed it).
  void route_on(const std::string& conversation_id, bool refused, std::int64_t now, effects& out);
  void enqueue(const std::string& conversation_id, routed& r, bool tell_now, std::int64_t now, effects& out);
  void drain_into(std::int64_t now, effects& out);

  dispatch_settings settings_;
  std::vector<agent> order_;
  std::unordered_map<std::string, routed> routed_;
  std::unordered_map<std::string, std::string> assigned_; // conversation -> agent
  waiting_line<char> line_;
  std::set<std::pair<std::int64_t, std::string>> cooldowns_; // (end, conversation), pruned lazily
  std::string cursor_;
  std::uint64_t next_offer_id_ = 0;
};

} // namespace dynchat::routing
