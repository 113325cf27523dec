#pragma once
// A booked meeting's invite, as served at /v1/meetings/{id}/invite.ics and sent by SMTP:
// the agent organizes, agent and booker attend; the agent's templates render with the
// booker's fields.
#include <string>

#include "dynchat/calendar/ics.hpp"
#include "dynchat/calendar/settings.hpp"
#include "dynchat/store/meetings.hpp"
#include "dynchat/store/records.hpp"

namespace dynchat::calendar {

/// `host` names the server in the UID ("<meeting id>@<host>").
invite meeting_invite(const store::meeting_record& m, const store::agent_record& agent, const settings& s,
                      const std::string& host);

} // namespace dynchat::calendar
