#pragma once
// Frame bytes <-> a JSON value. Text frames hold JSON, binary frames MessagePack;
// both decode to the same nlohmann::json so one schema check serves both.
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dynchat/core/result.hpp"
#include "dynchat/protocol/error_code.hpp"

namespace dynchat::protocol {

enum class encoding : std::uint8_t { json, msgpack };

using json = nlohmann::json;
using decode_result = result<json, error_code>;

/// Deepest nesting of arrays/objects a frame may have; deeper input is refused
/// before it is materialised.
inline constexpr std::size_t max_nesting = 16;

decode_result parse_json(std::string_view text);
decode_result parse_msgpack(std::string_view bytes);
decode_result parse(std::string_view bytes, encoding enc);

std::string to_msgpack(const json& value);
std::string serialize(const json& value, encoding enc);

bool is_valid_utf8(std::string_view s) noexcept;

} // namespace dynchat::protocol
