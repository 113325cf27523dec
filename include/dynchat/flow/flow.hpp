#pragma once
// What a conversation does next, decided by plain code the visitor_session runs.
// Today's only flow hands the visitor straight to live chat; the dialogue engine
// implements the same interface with bot messages, options, captures and booking.
#include <memory>
#include <string>
#include <vector>

namespace dynchat::flow {

struct action {
  enum class kind { bot_message, handover, end } what;
  std::string text;
  std::vector<std::string> options; // buttons offered with a bot message
};

class conversation_flow {
public:
  virtual ~conversation_flow() = default;
  /// A new conversation opened.
  virtual std::vector<action> start() = 0;
  /// The visitor said something while no agent holds the conversation.
  virtual std::vector<action> on_visitor_text(const std::string& text) = 0;
  /// The visitor picked an option; false when the flow offered none.
  virtual bool accepts_choices() const = 0;
  virtual std::vector<action> on_choice(const std::string& option) = 0;
};

/// Hands every conversation to live chat at once, and again when a visitor writes
/// into an ended one.
std::unique_ptr<conversation_flow> make_live_chat_flow();

} // namespace dynchat::flow
