#pragma once
// Whose turn a meeting is (docs/meetings.md, "Routing"): strict round robin. If agent
// three took the last meeting, agent four is asked first, then five, then back to one.
#include <string>
#include <vector>

namespace dynchat::routing {

/// `agents` in their fixed order (creation); `last`: who took the last meeting (empty:
/// nobody yet, or someone since removed). The order in which to try them: the one after
/// `last` first, every agent once.
std::vector<std::string> meeting_turns(const std::vector<std::string>& agents, const std::string& last);

} // namespace dynchat::routing
