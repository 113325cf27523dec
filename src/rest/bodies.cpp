#include "dynchat/rest/bodies.hpp"

#include <algorithm>

#include "dynchat/core/ids.hpp"
#include "dynchat/protocol/text_rules.hpp"
#include "dynchat/rest/roles.hpp"

namespace dynchat::rest {
namespace {

using json = nlohmann::json;

failure<int> refuse(std::string why) { return {400, std::move(why)}; }

// The first key not in `allowed`, named in the refusal (cut, so a huge key stays short).
std::optional<std::string> unknown_field(const json& body, std::initializer_list<std::string_view> allowed) {
  for (auto it = body.begin(); it != body.end(); ++it)
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end())
      return "unknown field '" + it.key().substr(0, 40) + "'";
  return std::nullopt;
}

} // namespace

bool has_control_characters(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool is_display_name(const std::string& s) {
  return !s.empty() && s.size() <= 100 && !protocol::is_blank(s) && !has_control_characters(s);
}

result<agent_fields, int> decode_agent_body(const json& body, bool creating) {
  if (!body.is_object()) return refuse("the body must be a JSON object");
  if (auto bad = unknown_field(body, {"name", "email", "max_chats"})) return refuse(*bad);
  agent_fields out;
  if (auto it = body.find("name"); it != body.end()) {
    // Visitors read it in "Ann joined the chat": it must show something.
    if (!it->is_string() || !is_display_name(it->get_ref<const std::string&>()))
      return refuse("name must be a string of 1 to 100 bytes, not blank, without control characters");
    out.name = it->get<std::string>();
  } else if (creating) {
    return refuse("name is required");
  }
  if (auto it = body.find("email"); it != body.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().size() > 254 ||
        has_control_characters(it->get_ref<const std::string&>()))
      return refuse("email must be a string of at most 254 bytes");
    out.email = it->get<std::string>();
  }
  if (auto it = body.find("max_chats"); it != body.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 10)
      return refuse("max_chats must be an integer from 1 to 10");
    out.max_chats = static_cast<std::uint32_t>(it->get<std::int64_t>());
  }
  return out;
}

result<token_fields, int> decode_token_body(const json& body) {
  if (!body.is_object()) return refuse("the body must be a JSON object");
  if (auto bad = unknown_field(body, {"name", "role", "agent_id"})) return refuse(*bad);
  token_fields out;
  auto name = body.find("name");
  if (name == body.end() || !name->is_string() || !is_display_name(name->get_ref<const std::string&>()))
    return refuse("name must be a string of 1 to 100 bytes, not blank, without control characters");
  out.name = name->get<std::string>();
  auto role = body.find("role");
  if (role == body.end() || !role->is_string() || !role_from_string(role->get_ref<const std::string&>()))
    return refuse("role must be one of admin, marketer, sales_admin, agent");
  out.role = role->get<std::string>();
  auto agent = body.find("agent_id");
  const bool has_agent = agent != body.end() && !agent->is_null();
  if (out.role != "agent") {
    if (has_agent) return refuse("agent_id is only for the agent role");
    return out;
  }
  if (!has_agent || !agent->is_string() || !is_id(agent->get_ref<const std::string&>()))
    return refuse("the agent role needs agent_id, the 32-character id of an agent");
  out.agent_id = agent->get<std::string>();
  return out;
}

} // namespace dynchat::rest
