#pragma once
// The server's lifecycle frames, built here so no actor assembles a frame itself. The
// per-message ones (ack, message) are in outbound.hpp; error, typing and transcript
// pages in frames.hpp.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dynchat/protocol/frames.hpp"

namespace dynchat::protocol {

/// The limits a visitor's client is told in its welcome.
struct client_limits {
  std::size_t max_text_bytes = 0;
  std::size_t max_frame_bytes = 0;
  double rate_per_second = 0;
};

struct visitor_welcome {
  std::string_view visitor_id;
  std::string_view conversation_id;
  std::string_view resume_token;
  bool known = false;
  std::string_view phase;
  std::uint64_t last_seq = 0;
  client_limits limits;
  // The dialogue leading the conversation; empty id: none (a live chat).
  std::string_view dialogue_id;
  std::string_view dialogue_name;
  std::uint32_t dialogue_version = 0;
  bool dialogue_finished = false; // it ran to its end: nothing more will be asked
};
json make_visitor_welcome(const visitor_welcome& w);

/// Who a visitor is, as an agent sees them.
struct visitor_card {
  std::string_view visitor_id;
  std::string_view page_url;
  std::string_view referrer;
  std::string_view email;
};
json visitor_card_json(const visitor_card& v);

struct agent_chat_entry {
  std::string_view conversation_id;
  visitor_card visitor;
  std::uint64_t last_seq = 0;
};
struct agent_welcome {
  std::string_view agent_id;
  std::string_view name;
  std::string_view status;
  std::uint32_t max_chats = 0;
  std::vector<agent_chat_entry> conversations;
};
json make_agent_welcome(const agent_welcome& w);

json make_ended(std::string_view conversation_id, std::string_view reason);
json make_status(std::string_view status);
json make_offer_withdrawn(std::string_view conversation_id, std::string_view reason);

} // namespace dynchat::protocol
