#pragma once
// The dialogue a new user meets on the first start: every card a typical one has.
#include <string_view>

namespace dynchat::app {

/// Its JSON (docs/dialogues.md); it passes a save's checks.
std::string_view demo_dialogue_json();

} // namespace dynchat::app
