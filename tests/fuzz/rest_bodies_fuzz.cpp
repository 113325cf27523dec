// libFuzzer: a REST request body as the API reads it: parsed under the frames' nesting
// and size guard, then decoded as an agent and as a token. Nothing crashes, and what a
// decoder accepts keeps its rules.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dynchat/protocol/codec.hpp"
#include "dynchat/rest/bodies.hpp"
#include "dynchat/rest/roles.hpp"

using namespace dynchat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parsed = protocol::parse_json(std::string_view{reinterpret_cast<const char*>(data), size});
  if (!parsed) return 0;
  for (bool creating : {true, false}) {
    auto agent = rest::decode_agent_body(*parsed, creating);
    if (!agent) continue;
    if (creating && !agent->name) std::abort();
    if (agent->name && !rest::is_display_name(*agent->name)) std::abort();
    if (agent->max_chats && (*agent->max_chats < 1 || *agent->max_chats > 10)) std::abort();
    if (agent->email && (agent->email->size() > 254 || rest::has_control_characters(*agent->email))) std::abort();
  }
  if (auto token = rest::decode_token_body(*parsed)) {
    if (!rest::role_from_string(token->role)) std::abort();
    if ((token->role == "agent") != !token->agent_id.empty()) std::abort();
    if (!rest::is_display_name(token->name)) std::abort();
  }
  return 0;
}
