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
  }
  return "internal";
}

} // namespace dynchat::protocol
