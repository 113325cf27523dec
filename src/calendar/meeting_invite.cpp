#include "dynchat/calendar/meeting_invite.hpp"

#include <map>

#include "dynchat/dialogue/tokens.hpp"

namespace dynchat::calendar {

invite meeting_invite(const store::meeting_record& m, const store::agent_record& agent, const settings& s,
                      const std::string& host) {
  // The booker's fields, as a dialogue's tokens name them ({{lead.firstName:"there"}}).
  const std::map<std::string, std::string> fields{{"email", m.booker_email}, {"firstName", m.booker_name}};
  invite inv;
  inv.uid = m.id + "@" + host;
  inv.sequence = m.sequence;
  inv.cancelled = m.status == "cancelled";
  inv.start_ms = m.start_ms;
  inv.end_ms = m.end_ms;
  inv.stamp_ms = m.updated_ms;
  inv.summary = "Meeting with " + agent.name;
  inv.description = dialogue::render_tokens(s.invite_template, fields);
  inv.location = dialogue::render_tokens(s.conference_template, fields);
  inv.organizer = {agent.name, agent.email};
  inv.attendee = {m.booker_name, m.booker_email};
  return inv;
}

} // namespace dynchat::calendar
