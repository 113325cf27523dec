// libFuzzer: any bytes as a MessagePack binary frame. Decoding never crashes, accepts
// only valid UTF-8 strings, and what it accepts survives a round trip.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dynchat/protocol/codec.hpp"
#include "dynchat/protocol/frames.hpp"

using namespace dynchat::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes{reinterpret_cast<const char*>(data), size};
  auto parsed = parse_msgpack(bytes);
  if (!parsed) return 0;
  const decode_limits limits;
  (void)decode_visitor(*parsed, limits);
  (void)decode_agent(*parsed, limits);
  // Every string it let through is UTF-8, so JSON can carry it.
  auto as_json = parse_json(parsed->dump());
  if (!as_json || *as_json != *parsed) std::abort();
  auto again = parse_msgpack(to_msgpack(*parsed));
  if (!again || *again != *parsed) std::abort();
  return 0;
}
