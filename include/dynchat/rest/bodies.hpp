#pragma once
// REST request bodies, decoded and validated as plain code (the REST handlers apply what
// comes out; the rest_bodies fuzzer attacks these directly). Each decoder takes the body
// already parsed under the frames' nesting and size guard (protocol::parse_json) and
// says what is wrong in words a client can act on.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "dynchat/core/result.hpp"

namespace dynchat::rest {

/// The writable fields of an agent, as far as the body gives them.
struct agent_fields {
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::uint32_t> max_chats;
};
/// `creating`: the name is required.
result<agent_fields, int> decode_agent_body(const nlohmann::json& body, bool creating);

/// A new API token's fields. agent_id is set exactly for the agent role; whether it names
/// an agent is the handler's to check against the store.
struct token_fields {
  std::string name;
  std::string role;
  std::string agent_id;
};
result<token_fields, int> decode_token_body(const nlohmann::json& body);

/// 1 to 100 bytes, not blank (spaces of any script or zero-width characters alone), no
/// control characters: what a person reads as a name.
bool is_display_name(const std::string& s);
bool has_control_characters(std::string_view s);

} // namespace dynchat::rest
