#pragma once
// A conversational flow the page starts (a `trigger` frame): whether it may start now,
// and the cursor it starts from. Pure, so the session only carries the answer out.
#include <cstdint>
#include <optional>
#include <string>

#include "dynchat/engine/cursor.hpp"

namespace dynchat::engine {

struct flow_start {
  enum class outcome {
    start,   // `cursor` is the flow's, at its beginning: feed it `started`
    running, // this flow is running and not finished: its card is asked again, nothing restarts
    refused, // `reason` says why (a live agent has the conversation)
  };
  outcome what = outcome::refused;
  cursor started;
  std::string reason;
};

/// The flow `flow_id`, published as `version`, started on a conversation at `at`. The new
/// cursor keeps the fields the conversation learned (its answers become the flow's own).
flow_start start_flow(const cursor& at, const std::string& flow_id, std::uint32_t version);

} // namespace dynchat::engine
