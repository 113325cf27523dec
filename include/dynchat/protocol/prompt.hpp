#pragma once
// What a bot message asks of the visitor: buttons to press, an input to fill, a document
// to open. Stored with the message, so a replay after a refresh or a restart shows the
// same buttons; sent as the message frame's `prompt` object (docs/protocol.md).
#include <cstdint>
#include <string>
#include <vector>

namespace dynchat::protocol {

struct prompt_option {
  std::string label; // what the visitor sees
  std::string value; // what `choose` sends back
  bool operator==(const prompt_option&) const = default;
};

/// A meeting time the visitor may book: `book` sends its id back.
struct prompt_slot {
  std::string id;
  std::int64_t start_ms = 0, end_ms = 0;
  bool operator==(const prompt_slot&) const = default;
};

struct bot_prompt {
  std::vector<prompt_option> options;
  std::string input;       // empty: nothing to type; email | phone | text | picklist
  std::string placeholder;
  std::string link;        // a document card's address; opening it is reported
  std::vector<prompt_slot> slots; // meeting times to book, earliest first
  std::string slots_agent;        // the agent the meeting would be with
  bool empty() const {
    return options.empty() && input.empty() && placeholder.empty() && link.empty() && slots.empty() && slots_agent.empty();
  }
  bool operator==(const bot_prompt&) const = default;
};

} // namespace dynchat::protocol
