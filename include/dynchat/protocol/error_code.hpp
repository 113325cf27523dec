#pragma once
// Stable error codes carried in `error` frames and REST error bodies. The string
// form is the wire contract (docs/protocol.md); never rename one.
#include <cstdint>
#include <string_view>

namespace dynchat::protocol {

enum class error_code : std::uint8_t {
  bad_frame,            // not parseable as JSON / MessagePack, or trailing bytes
  not_an_object,        // the frame is valid but not an object/map
  too_deep,             // nesting deeper than the decoder accepts
  missing_type,         // no "type" field
  unknown_type,         // "type" names no frame of this endpoint
  missing_field,        // a required field is absent
  wrong_type,           // a field has the wrong JSON/MessagePack type
  too_long,             // a string is over its configured limit
  bad_utf8,             // a MessagePack string is not valid UTF-8
  bad_value,            // a field has a value outside its allowed set
  hello_required,       // the first frame of a connection must be `hello`
  already_hello,        // a second `hello` on one connection
  hello_timeout,        // no `hello` within the configured time
  unauthorized,         // missing or wrong token
  invalid_resume_token, // resume token matches no conversation
  rate_limited,         // over the per-connection message rate
  busy,                 // too many messages in flight for this conversation
  unknown_conversation, // conversation id unknown to this agent
  not_assigned,         // the agent does not hold this conversation
  offer_expired,        // accept of an offer that is gone
  at_capacity,          // the agent is at max_chats
  conversation_ended,   // message to a conversation that has ended
  store_failed,         // the durable write failed; the message was not stored
  unsupported,          // a frame this server version does not implement yet
  internal,             // a server bug; logged
};

std::string_view to_string(error_code code) noexcept;

} // namespace dynchat::protocol
