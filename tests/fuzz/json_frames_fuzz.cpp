// libFuzzer: any bytes as a JSON text frame. Decoding never crashes, refuses what nests
// too deep, and what it accepts survives a round trip through both encodings.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dynchat/protocol/codec.hpp"
#include "dynchat/protocol/frames.hpp"

using namespace dynchat::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes{reinterpret_cast<const char*>(data), size};
  auto parsed = parse_json(bytes);
  if (!parsed) return 0;
  const decode_limits limits;
  (void)decode_visitor(*parsed, limits);
  (void)decode_agent(*parsed, limits);
  // What was accepted as JSON reads back the same from MessagePack and from its own dump.
  auto again = parse_msgpack(to_msgpack(*parsed));
  if (!again || *again != *parsed) std::abort();
  auto dumped = parse_json(parsed->dump());
  if (!dumped || *dumped != *parsed) std::abort();
  return 0;
}
