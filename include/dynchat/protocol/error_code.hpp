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
  // HTTP and REST (appended: the enum's order is not the contract, its names are)
  not_found,            // no such resource, route or record
  method_not_allowed,   // the resource exists, not with this method
  bad_parameter,        // a query parameter is missing, malformed or out of range
  bad_json,             // a REST body is not valid JSON
  forbidden,            // the token's role may not call this route
  unavailable,          // an actor the request needs did not answer
  too_large,            // an HTTP body over its limit
  bad_request,          // a malformed HTTP request
  request_timeout,      // the HTTP request did not arrive in time
  uri_too_long,         // the request target is over its limit
  headers_too_large,    // the request headers are over their limit
  upgrade_required,     // a websocket path asked for without the upgrade
  shutting_down,        // the server is stopping
  conflict,             // the change contradicts what is stored
};

std::string_view to_string(error_code code) noexcept;

/// The one REST and HTTP error body: {"error": {"code": ..., "message": ...}}.
std::string error_envelope(error_code code, std::string_view message);

} // namespace dynchat::protocol
