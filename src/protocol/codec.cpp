#include "dynchat/protocol/codec.hpp"

namespace dynchat::protocol {
namespace {

using fail = failure<error_code>;

// Checks bracket nesting outside strings before nlohmann materialises anything.
bool nesting_within(std::string_view text, std::size_t max_depth) noexcept {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') { if (++depth > max_depth) return false; }
    else if ((c == ']' || c == '}') && depth > 0) --depth;
  }
  return true;
}

} // namespace

decode_result parse_json(std::string_view text) {
  if (!nesting_within(text, max_nesting)) return fail{error_code::too_deep, "nesting too deep"};
  json value = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return fail{error_code::bad_frame, "malformed JSON"};
  return value;
}

decode_result parse(std::string_view bytes, encoding enc) {
  return enc == encoding::json ? parse_json(bytes) : parse_msgpack(bytes);
}

std::string serialize(const json& value, encoding enc) {
  if (enc == encoding::msgpack) return to_msgpack(value);
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string_view to_string(error_code code) noexcept {
  switch (code) {
    case error_code::bad_frame: return "bad_frame";
    case error_code::not_an_object: return "not_an_object";
    case error_code::too_deep: return "too_deep";
    case error_code::missing_type: return "missing_type";
    case error_code::unknown_type: return "unknown_type";
    case error_code::missing_field: return "missing_field";
    case error_code::wrong_type: return "wrong_type";
    case error_code::too_long: return "too_long";
    case error_code::bad_utf8: return "bad_utf8";
    case error_code::bad_value: return "bad_value";
    case error_code::hello_required: return "hello_required";
    case error_code::already_hello: return "already_hello";
    case error_code::hello_timeout: return "hello_timeout";
    case error_code::unauthorized: return "unauthorized";
    case error_code::invalid_resume_token: return "invalid_resume_token";
    case error_code::rate_limited: return "rate_limited";
    case error_code::busy: return "busy";
    case error_code::unknown_conversation: return "unknown_conversation";
    case error_code::not_assigned: return "not_assigned";
    case error_code::offer_expired: return "offer_expired";
    case error_code::at_capacity: return "at_capacity";
    case error_code::conversation_ended: return "conversation_ended";
    case error_code::store_failed: return "store_failed";
    case error_code::unsupported: return "unsupported";
    case error_code::internal: return "internal";
    case error_code::not_found: return "not_found";
    case error_code::method_not_allowed: return "method_not_allowed";
    case error_code::bad_parameter: return "bad_parameter";
    case error_code::bad_json: return "bad_json";
    case error_code::forbidden: return "forbidden";
    case error_code::unavailable: return "unavailable";
    case error_code::too_large: return "too_large";
    case error_code::bad_request: return "bad_request";
    case error_code::request_timeout: return "request_timeout";
    case error_code::uri_too_long: return "uri_too_long";
    case error_code::headers_too_large: return "headers_too_large";
    case error_code::upgrade_required: return "upgrade_required";
    case error_code::shutting_down: return "shutting_down";
    case error_code::conflict: return "conflict";
  }
  return "internal";
}

std::string error_envelope(error_code code, std::string_view message) {
  return serialize(json{{"error", {{"code", to_string(code)}, {"message", message}}}}, encoding::json);
}

} // namespace dynchat::protocol
