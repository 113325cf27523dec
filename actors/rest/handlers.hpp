#pragma once
// The REST handlers, one file per resource. Each runs on the REST actor after the
// route table matched and the caller's role was admitted.
#include "actors/meeting_messages.hpp"
#include "actors/rest/call.hpp"

namespace dynchat::rest_api {

// agents.cpp
void list_agents(call c);
void create_agent(call c);
void get_agent(call c);
void update_agent(call c);
void delete_agent(call c);
// calendars.cpp
void get_calendar(call c);
void put_calendar(call c);
void put_calendar_ics(call c);
void put_calendar_feed(call c);
void delete_calendar_connection(call c);
void get_slots(call c);
/// The slot query (tz, limit, from, to) into `req`; false (and the 400 sent) when it is bad.
bool read_slot_query(call& c, msg::slot_request& req, std::string& tz);
/// Asks the scheduler and answers with the slots, local times in `tz`; `named_agent`: the
/// agent the path named, said (with why) when it has none.
void answer_slots(const call& c, const msg::slot_request& req, const std::string& tz, const std::string& named_agent = {});
// conversations.cpp
void list_conversations(call c);
void get_conversation(call c);
void get_transcript_text(call c);
void put_conversation_score(call c);
void get_conversation_lead(call c);
// dialogues.cpp
void list_dialogues(call c);
void create_dialogue(call c);
void get_dialogue(call c);
void update_dialogue(call c);
void delete_dialogue(call c);
void publish_dialogue(call c);
void unpublish_dialogue(call c);
void preview_dialogue(call c);
// marketo.cpp
void get_marketo(call c);
void put_marketo(call c);
void delete_marketo(call c);
void test_marketo(call c);
void get_marketo_fields(call c);
void put_marketo_fields(call c);
void get_marketo_sync(call c);
void start_marketo_sync(call c);
void cancel_marketo_sync(call c);
void get_marketo_activities(call c);
void retry_marketo_activities(call c);
void get_adobe_org(call c);
void put_adobe_org(call c);
void find_lead(call c);
void get_lead(call c);
// meetings.cpp
void list_meetings(call c);
void get_meeting(call c);
void get_meeting_invite(call c);
void create_meeting(call c);
void cancel_meeting(call c);
void reschedule_meeting(call c);
void put_meeting_status(call c);
void get_meeting_slots(call c);
// reports.cpp
void get_dialogue_report(call c);
void get_dialogue_report_csv(call c);
void get_reports(call c);
void get_reports_csv(call c);
// routing.cpp
void get_routing(call c);
// routing_rules.cpp
void list_rules(call c);
void create_rule(call c);
void get_rule(call c);
void update_rule(call c);
void delete_rule(call c);
void list_teams(call c);
void create_team(call c);
void get_team(call c);
void update_team(call c);
void delete_team(call c);
void list_accounts(call c);
void create_account(call c);
void delete_account(call c);
void import_accounts(call c);
// site_config.cpp
void get_site_config(call c);
void put_site_config(call c);
// tokens.cpp
void list_tokens(call c);
void create_token(call c);
void delete_token(call c);

} // namespace dynchat::rest_api
