#pragma once
// When an agent is available for live chat by schedule (docs/meetings.md, "Live-chat
// hours"): weekly blocks in the agent's time zone. The agent's own toggle overrides the
// schedule until the next block starts, or until midnight in the agent's zone, whichever
// comes first; then the schedule rules again. Pure: the caller says what "now" is.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dynchat/calendar/settings.hpp"

namespace dynchat::calendar {

/// What the agent chose, and when.
struct manual_status {
  std::string status; // available | away | offline
  std::int64_t set_ms = 0;
};

struct chat_status {
  std::string status;           // available | away, or the manual choice while it holds
  std::int64_t next_change_ms;  // when to look again: a block's start or end, or the override's end
  bool overridden = false;      // the manual choice holds now
};

/// The override a choice made at `set_ms` holds until: the next block start after it, or
/// the next local midnight, the earlier.
std::int64_t override_ends(const std::vector<weekly_block>& blocks, const std::string& zone, std::int64_t set_ms);

/// The status now. `blocks` must not be empty (no schedule: the toggle alone says).
chat_status scheduled_status(const std::vector<weekly_block>& blocks, const std::string& zone, std::int64_t now_ms,
                             const std::optional<manual_status>& manual);

} // namespace dynchat::calendar
