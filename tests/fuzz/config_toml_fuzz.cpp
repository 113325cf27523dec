// libFuzzer: any text as the config file (or a --set value). Loading and validation
// either succeed or throw std::runtime_error with a message; nothing else escapes, and
// settings that pass validation keep their documented invariants.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "dynchat/core/settings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  try {
    auto s = dynchat::load_settings_text(text);
    dynchat::validate(s);
    if (s.chat.default_max_chats < 1 || s.chat.default_max_chats > 10) std::abort();
    if (s.chat.max_in_flight * 2 > s.websocket.max_outbound_frames) std::abort();
    if (s.websocket.max_connections > s.server.max_connections) std::abort();
    if (s.chat.visitor_grace.count() < 1 || s.chat.offer_timeout.count() > 86400) std::abort();
  } catch (const std::runtime_error& e) {
    if (std::string_view{e.what()}.empty()) std::abort();
  }
  return 0;
}
