#include "actors/rest_api.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "dynchat/core/ids.hpp"
#include "actors/rest/handlers.hpp"
#include "dynchat/rest/route_table.hpp"
#include "dynchat/rest/transcript_text.hpp"
#include "dynchat/store/meetings.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat {
namespace {

using namespace rest_api;
using protocol::error_code;
using rest::role;

using handler_fn = void (*)(call);

// Every route, the roles it admits (the admin always, except where only the operator's
// own admin token may), and its handler.
const std::vector<handler_fn> handlers = {
  list_agents, create_agent, get_agent, update_agent, delete_agent,
  list_conversations, get_conversation, get_transcript_text,
  get_routing,
  list_tokens, create_token, delete_token,
  list_dialogues, create_dialogue, get_dialogue, update_dialogue, delete_dialogue, publish_dialogue,
  unpublish_dialogue, preview_dialogue,
  get_dialogue_report, get_dialogue_report_csv, get_reports, get_reports_csv,
  get_site_config, put_site_config, put_conversation_score,
  get_calendar, put_calendar, put_calendar_ics, delete_calendar_connection, get_slots, put_calendar_feed,
  list_meetings, get_meeting, get_meeting_invite, create_meeting, cancel_meeting, reschedule_meeting,
  put_meeting_status, get_meeting_slots,
  list_rules, create_rule, get_rule, update_rule, delete_rule,
  list_teams, create_team, get_team, update_team, delete_team,
  list_accounts, create_account, delete_account, import_accounts,
  get_marketo, put_marketo, delete_marketo, test_marketo, get_marketo_fields, put_marketo_fields,
  get_marketo_sync, start_marketo_sync, cancel_marketo_sync, get_marketo_activities, retry_marketo_activities,
  get_adobe_org, put_adobe_org, find_lead, get_lead, get_conversation_lead,
};
enum handler_index { agents_list, agents_create, agent_get, agent_update, agent_delete, conversations_list,
                     conversation_get, conversation_text, routing_get, tokens_list, tokens_create, token_delete,
                     dialogues_list, dialogues_create, dialogue_get, dialogue_update, dialogue_delete,
                     dialogue_publish, dialogue_unpublish, dialogue_preview,
                     dialogue_report, dialogue_report_csv, reports_all, reports_all_csv,
                     site_config_get, site_config_put, conversation_score,
                     calendar_get, calendar_put, calendar_ics_put, calendar_disconnect, slots_get, calendar_feed_put,
                     meetings_list, meeting_get, meeting_invite, meetings_create, meeting_cancel, meeting_reschedule,
                     meeting_status, meeting_slots,
                     rules_list, rules_create, rule_get, rule_update, rule_delete,
                     teams_list, teams_create, team_get, team_update, team_delete,
                     accounts_list, accounts_create, account_delete, accounts_import,
                     marketo_get, marketo_put, marketo_delete, marketo_test, marketo_fields_get, marketo_fields_put,
                     marketo_sync_get, marketo_sync_start, marketo_sync_cancel, marketo_activities, marketo_activities_retry,
                     adobe_org_get, adobe_org_put, leads_find, lead_get, conversation_lead };

} // namespace

const rest::route_table& rest_routes() {
  static const rest::route_table table{{
    {"GET", "/v1/agents", agents_list, {role::sales_admin}},
    {"POST", "/v1/agents", agents_create, {role::sales_admin}},
    {"GET", "/v1/agents/{id}", agent_get, {role::sales_admin, role::agent}},
    {"PUT", "/v1/agents/{id}", agent_update, {role::sales_admin}},
    {"PATCH", "/v1/agents/{id}", agent_update, {role::sales_admin}},
    {"DELETE", "/v1/agents/{id}", agent_delete, {role::sales_admin}},
    {"GET", "/v1/conversations", conversations_list, {role::marketer, role::sales_admin, role::agent}},
    {"GET", "/v1/conversations/{id}", conversation_get, {role::marketer, role::sales_admin, role::agent}},
    {"GET", "/v1/conversations/{id}/transcript.txt", conversation_text, {role::marketer, role::sales_admin, role::agent}},
    {"PUT", "/v1/conversations/{id}/score", conversation_score, {role::sales_admin, role::agent}},
    {"GET", "/v1/routing", routing_get, {role::sales_admin}},
    {"GET", "/v1/routing/rules", rules_list, {role::sales_admin}},
    {"POST", "/v1/routing/rules", rules_create, {role::sales_admin}},
    {"GET", "/v1/routing/rules/{id}", rule_get, {role::sales_admin}},
    {"PUT", "/v1/routing/rules/{id}", rule_update, {role::sales_admin}},
    {"DELETE", "/v1/routing/rules/{id}", rule_delete, {role::sales_admin}},
    {"GET", "/v1/routing/teams", teams_list, {role::sales_admin}},
    {"POST", "/v1/routing/teams", teams_create, {role::sales_admin}},
    {"GET", "/v1/routing/teams/{id}", team_get, {role::sales_admin}},
    {"PUT", "/v1/routing/teams/{id}", team_update, {role::sales_admin}},
    {"DELETE", "/v1/routing/teams/{id}", team_delete, {role::sales_admin}},
    {"GET", "/v1/routing/accounts", accounts_list, {role::sales_admin}},
    {"POST", "/v1/routing/accounts", accounts_create, {role::sales_admin}},
    {"POST", "/v1/routing/accounts/import", accounts_import, {role::sales_admin}},
    {"DELETE", "/v1/routing/accounts/{key}", account_delete, {role::sales_admin}},
    {"GET", "/v1/tokens", tokens_list, {}},
    {"POST", "/v1/tokens", tokens_create, rest::role_set::root_only()},
    {"DELETE", "/v1/tokens/{id}", token_delete, rest::role_set::root_only()},
    {"GET", "/v1/dialogues", dialogues_list, {role::marketer}},
    {"POST", "/v1/dialogues", dialogues_create, {role::marketer}},
    {"GET", "/v1/dialogues/{id}", dialogue_get, {role::marketer}},
    {"PUT", "/v1/dialogues/{id}", dialogue_update, {role::marketer}},
    {"DELETE", "/v1/dialogues/{id}", dialogue_delete, {role::marketer}},
    {"POST", "/v1/dialogues/{id}/publish", dialogue_publish, {role::marketer}},
    {"POST", "/v1/dialogues/{id}/unpublish", dialogue_unpublish, {role::marketer}},
    {"POST", "/v1/dialogues/{id}/preview", dialogue_preview, {role::marketer}},
    {"GET", "/v1/dialogues/{id}/report", dialogue_report, {role::marketer}},
    {"GET", "/v1/dialogues/{id}/report.csv", dialogue_report_csv, {role::marketer}},
    {"GET", "/v1/reports", reports_all, {role::marketer}},
    {"GET", "/v1/reports.csv", reports_all_csv, {role::marketer}},
    {"GET", "/v1/config", site_config_get, {role::marketer}},
    {"PUT", "/v1/config", site_config_put, {role::marketer}},
    {"GET", "/v1/agents/{id}/calendar", calendar_get, {role::sales_admin, role::agent}},
    {"PUT", "/v1/agents/{id}/calendar", calendar_put, {role::sales_admin, role::agent}},
    {"PUT", "/v1/agents/{id}/calendar/ics", calendar_ics_put, {role::sales_admin, role::agent}},
    {"PUT", "/v1/agents/{id}/calendar/feed", calendar_feed_put, {role::sales_admin, role::agent}},
    {"DELETE", "/v1/agents/{id}/calendar/connection", calendar_disconnect, {role::sales_admin, role::agent}},
    {"GET", "/v1/agents/{id}/slots", slots_get, {role::sales_admin, role::agent}},
    {"GET", "/v1/slots", slots_get, {role::sales_admin}}, // whoever's turn: an agent sees its own times only
    {"GET", "/v1/meetings", meetings_list, {role::sales_admin, role::marketer, role::agent}},
    {"POST", "/v1/meetings", meetings_create, {role::sales_admin, role::agent}},
    {"GET", "/v1/meetings/{id}", meeting_get, {role::sales_admin, role::marketer, role::agent, role::booker}},
    {"GET", "/v1/meetings/{id}/invite.ics", meeting_invite, {role::sales_admin, role::agent, role::booker}},
    {"POST", "/v1/meetings/{id}/cancel", meeting_cancel, {role::sales_admin, role::agent, role::booker}},
    {"POST", "/v1/meetings/{id}/reschedule", meeting_reschedule, {role::sales_admin, role::agent, role::booker}},
    {"GET", "/v1/meetings/{id}/slots", meeting_slots, {role::sales_admin, role::agent, role::booker}},
    {"PUT", "/v1/meetings/{id}/status", meeting_status, {role::sales_admin, role::agent}},
    {"GET", "/v1/integrations/marketo", marketo_get, {}},
    {"PUT", "/v1/integrations/marketo", marketo_put, {}},
    {"DELETE", "/v1/integrations/marketo", marketo_delete, {}},
    {"POST", "/v1/integrations/marketo/test", marketo_test, {}},
    {"GET", "/v1/integrations/marketo/fields", marketo_fields_get, {role::marketer}},
    {"PUT", "/v1/integrations/marketo/fields", marketo_fields_put, {}},
    {"GET", "/v1/integrations/marketo/sync", marketo_sync_get, {}},
    {"POST", "/v1/integrations/marketo/sync", marketo_sync_start, {}},
    {"POST", "/v1/integrations/marketo/sync/cancel", marketo_sync_cancel, {}},
    {"GET", "/v1/integrations/marketo/activities", marketo_activities, {}},
    {"POST", "/v1/integrations/marketo/activities/retry", marketo_activities_retry, {}},
    {"GET", "/v1/integrations/adobe-org", adobe_org_get, {}},
    {"PUT", "/v1/integrations/adobe-org", adobe_org_put, {}},
    {"GET", "/v1/leads", leads_find, {role::marketer, role::sales_admin}},
    {"GET", "/v1/leads/{id}", lead_get, {role::marketer, role::sales_admin}},
    {"GET", "/v1/conversations/{id}/lead", conversation_lead, {role::marketer, role::sales_admin, role::agent}},
  }};
  return table;
}

namespace {

// The bearer token's owner: the admin token, an API token (with its role), or an
// agent's login token (the agent role, as that agent). Only hashes are compared.
std::optional<rest::principal> authenticate(rest_actor self, const std::string& authorization) {
  const std::string prefix = "Bearer ";
  if (authorization.size() <= prefix.size() || authorization.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  const auto hash = sha256_hex(std::string_view{authorization}.substr(prefix.size()));
  if (constant_time_equal(hash, self->state.admin_hash)) return rest::principal{role::admin, {}, {}, true};
  auto txn = self->state.ctx.db->read();
  if (auto t = store::find_api_token_by_hash(txn, hash)) {
    auto r = rest::role_from_string(t->role);
    if (!r) return std::nullopt;
    // An agent token outlives nothing: deleting the agent ends it.
    if (*r == role::agent && !store::load_agent(txn, t->agent_id)) return std::nullopt;
    return rest::principal{*r, t->agent_id, t->id};
  }
  if (auto agent_id = store::find_agent_by_token_hash(txn, hash)) return rest::principal{role::agent, *agent_id, {}};
  return std::nullopt;
}

// The visitor who booked a meeting, by the secret link the booking gave them:
// /v1/meetings/{id}/...?token=. It reaches that meeting only (the route table admits the
// booker role on a few of its routes).
std::optional<rest::principal> booker(rest_actor self, const std::string& path, const std::string& token) {
  const std::string prefix = "/v1/meetings/";
  if (path.rfind(prefix, 0) != 0 || token.empty()) return std::nullopt;
  const auto id = path.substr(prefix.size(), path.find('/', prefix.size()) - prefix.size());
  if (!is_id(id)) return std::nullopt;
  auto m = store::load_meeting(self->state.ctx.db->read(), id);
  if (!m || m->manage_token_hash.empty() || !constant_time_equal(sha256_hex(token), m->manage_token_hash))
    return std::nullopt;
  return rest::principal{role::booker, id, {}};
}

void route(rest_actor self, net::http_request& req, reply_fn reply) {
  const auto q = req.target.find('?');
  const std::string path = req.target.substr(0, q);
  if (path.rfind("/v1/", 0) != 0) return reply(error_response(404, error_code::not_found, "no such route"));
  rest::query query{q == std::string::npos ? std::string_view{} : std::string_view{req.target}.substr(q + 1)};
  auto caller = req.authorization.empty() && query.has("token") ? booker(self, path, query.text("token"))
                                                                 : authenticate(self, req.authorization);
  if (!caller) return reply(error_response(401, error_code::unauthorized, "missing, wrong or revoked bearer token"));
  auto m = rest_routes().match(req.method, path);
  if (m.what == rest::route_match::kind::no_such_path) return reply(error_response(404, error_code::not_found, "no such route"));
  if (m.what == rest::route_match::kind::wrong_method) {
    auto r = error_response(405, error_code::method_not_allowed, "this resource takes " + m.allow);
    r.allow = m.allow;
    return reply(r);
  }
  if (!m.roles.admits(*caller))
    return reply(error_response(403, error_code::forbidden, m.roles.refusal(*caller)));
  handlers.at(static_cast<std::size_t>(m.handler))(
    call{self, req.method, std::move(req.body), std::move(m.params), std::move(query), std::move(*caller), std::move(reply)});
}

rest_actor_handle::behavior_type rest_api_actor(rest_actor self, actor_context ctx, std::string admin_hash) {
  self->state.ctx = std::move(ctx);
  self->state.admin_hash = std::move(admin_hash);
  return {
    [=](msg::rest_atom, net::http_request& req, reply_fn& reply) {
      // A store failure (or a bug) answers this request and leaves the actor serving.
      try {
        route(self, req, reply);
      } catch (const store::store_error& e) {
        spdlog::error("REST {} {}: store: {}", req.method, rest::one_line(req.target), e.what());
        reply(error_response(503, error_code::store_failed, "the store could not be read"));
      } catch (const std::exception& e) {
        spdlog::error("REST {} {}: {}", req.method, rest::one_line(req.target), e.what());
        reply(error_response(500, error_code::internal, "internal error; it is logged"));
      }
    },
    [=](msg::shutdown_atom) { self->quit(); },
  };
}

class rest_handler final : public net::http_handler {
public:
  explicit rest_handler(rest_actor_handle actor) : actor_(std::move(actor)) {}
  ~rest_handler() override { caf::anon_send(actor_, msg::shutdown_atom::value); }
  void handle(net::http_request request, reply_fn reply) override {
    caf::anon_send(actor_, msg::rest_atom::value, std::move(request), std::move(reply));
  }

private:
  rest_actor_handle actor_;
};

} // namespace

std::unique_ptr<net::http_handler> make_rest_api(caf::actor_system& sys, const actor_context& ctx,
                                                 std::string admin_token_hash) {
  return std::make_unique<rest_handler>(sys.spawn(rest_api_actor, ctx, std::move(admin_token_hash)));
}

} // namespace dynchat
