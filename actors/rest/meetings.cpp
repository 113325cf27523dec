// /v1/meetings: the meetings list, booking over REST, the invite, and the changes an
// admin, the agent or the visitor (through the meeting's secret link) may make
// (docs/meetings.md). Bookings and changes go through the scheduler, which keeps them
// atomic; reads come from the store.
#include <caf/all.hpp>

#include "actors/meeting_messages.hpp"
#include "actors/messages.hpp"
#include "actors/rest/handlers.hpp"
#include "actors/rest/meeting_json.hpp"
#include "actors/scheduler.hpp"
#include "dynchat/calendar/meeting_invite.hpp"
#include "dynchat/core/email.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/store/meetings.hpp"

namespace dynchat::rest_api {
namespace {

using protocol::error_code;

const std::vector<std::string> statuses{"scheduled", "rescheduled", "cancelled", "completed", "no_show"};

std::string agent_name(const store::read_txn& txn, const std::string& agent_id) {
  auto a = store::load_agent(txn, agent_id);
  return a ? a->name : std::string{};
}

// The meeting in the path, if this caller may see it; nullopt with the 404 sent. Another
// agent's meeting, or another meeting than the booker's link names, is not found.
std::optional<store::meeting_record> meeting_in_path(const call& c) {
  const auto& id = c.param("id");
  std::optional<store::meeting_record> m;
  if (is_id(id)) {
    auto txn = c.ctx().db->read();
    m = store::load_meeting(txn, id);
  }
  const bool visible = m && (c.caller.role == rest::role::booker ? c.caller.agent_id == m->id
                                                                   : c.caller.may_see_agent(m->agent_id));
  if (!visible) {
    c.reply(error_response(404, error_code::not_found, "no such meeting"));
    return std::nullopt;
  }
  return m;
}

// The agent's next free slots, for an answer that a slot was not free.
void with_fresh_slots(const call& c, const std::string& agent_id, std::function<void(json)> then) {
  msg::slot_request req;
  req.routing = "agent";
  req.agent_id = agent_id;
  req.max_slots = 10;
  c.self->request(c.ctx().scheduler, std::chrono::seconds{5}, msg::slots_atom::value, req)
    .then([then](const msg::slot_offer& offer) { then(slot_offer_json(offer, {})); },
          [then](caf::error&) { then(nullptr); });
}

// What the scheduler answered a booking or a change: the meeting, or why not (409, with
// the agent's fresh slots when the slot was the problem).
void answer_change(const call& c, unsigned ok_status, const msg::booking_reply& r) {
  if (r.booked) {
    auto txn = c.ctx().db->read();
    auto j = json{{"meeting", meeting_json(r.meeting, agent_name(txn, r.meeting.agent_id))}};
    if (!r.manage_token.empty()) j["manage_token"] = r.manage_token; // shown once: only its hash is stored
    return c.reply(json_response(ok_status, j));
  }
  const auto agent_id = r.meeting.agent_id;
  auto reply = c.reply;
  auto problem = r.problem;
  auto send = [reply, problem](json fresh) {
    auto body = json{{"error", {{"code", "conflict"}, {"message", problem}}}};
    if (!fresh.is_null()) body["fresh_slots"] = std::move(fresh);
    reply(json_response(409, body));
  };
  if (agent_id.empty()) return send(nullptr);
  with_fresh_slots(c, agent_id, send);
}

void on_scheduler_error(const call& c, const caf::error& e) {
  if (e == to_caf_error(error_code::not_found)) return c.reply(error_response(404, error_code::not_found, "no such meeting"));
  if (e == to_caf_error(error_code::store_failed))
    return c.reply(error_response(503, error_code::store_failed, "the change could not be stored"));
  c.reply(error_response(503, error_code::unavailable, "the scheduler did not answer"));
}

} // namespace

void list_meetings(call c) {
  auto status = c.query.text("status", statuses);
  auto agent = id_param(c.query, "agent");
  const auto when = c.query.text("when", {"upcoming", "past"});
  const auto from = c.query.integer("from", 0, 0, std::numeric_limits<std::int64_t>::max());
  const auto to = c.query.integer("to", 0, 0, std::numeric_limits<std::int64_t>::max());
  const auto limit = static_cast<std::size_t>(c.query.integer("limit", 100, 1, 1000));
  const auto after = id_param(c.query, "after");
  if (!query_ok(c)) return;
  if (c.caller.role == rest::role::agent) {
    if (!agent.empty() && agent != c.caller.agent_id)
      return c.reply(error_response(403, error_code::forbidden, "an agent token sees only its own meetings"));
    agent = c.caller.agent_id;
  }
  const auto now = now_ms();
  json out = json::array();
  std::string next;
  auto txn = c.ctx().db->read();
  std::map<std::string, std::string> names;
  store::scan_meetings(txn, after, [&](const store::meeting_record& m) {
    if (!status.empty() && m.status != status) return true;
    if (!agent.empty() && m.agent_id != agent) return true;
    if (when == "upcoming" && m.end_ms <= now) return true;
    if (when == "past" && m.end_ms > now) return true;
    if (from && m.start_ms < from) return true;
    if (to && m.start_ms >= to) return true;
    if (out.size() == limit) {
      next = out.back()["id"].get<std::string>();
      return false;
    }
    auto [name, fresh] = names.try_emplace(m.agent_id);
    if (fresh) name->second = agent_name(txn, m.agent_id);
    out.push_back(meeting_json(m, name->second));
    return true;
  });
  c.reply(json_response(200, json{{"meetings", std::move(out)}, {"next", next.empty() ? json(nullptr) : json(next)}}));
}

void get_meeting(call c) {
  if (!query_ok(c)) return;
  auto m = meeting_in_path(c);
  if (!m) return;
  auto txn = c.ctx().db->read();
  auto j = meeting_json(*m, agent_name(txn, m->agent_id));
  // Where its invites are: pending, sent, or failed and why.
  j["invites"] = json::array();
  for (const auto& d : store::load_invite_deliveries(txn, m->id))
    j["invites"].push_back({{"recipient", d.recipient},
                            {"sequence", d.sequence},
                            {"status", d.status},
                            {"attempts", d.attempts},
                            {"last_error", d.last_error},
                            {"sent_ms", d.sent_ms}});
  c.reply(json_response(200, j));
}

// The invite as it stands (METHOD:REQUEST, or CANCEL once cancelled), for a calendar app.
void get_meeting_invite(call c) {
  if (!query_ok(c)) return;
  auto m = meeting_in_path(c);
  if (!m) return;
  auto txn = c.ctx().db->read();
  auto agent = store::load_agent(txn, m->agent_id).value_or(store::agent_record{});
  const auto cal = store::load_calendar(txn, m->agent_id);
  const auto s = (cal ? calendar::settings_from_stored(cal->settings_json) : std::nullopt).value_or(calendar::settings{});
  const auto ics = calendar::invite_ics(calendar::meeting_invite(*m, agent, s, "dynchat"));
  c.reply(net::http_response{200, "text/calendar; charset=utf-8", ics, {}});
}

// POST /v1/meetings {slot, email, name, time_zone}: a booking made for a visitor.
void create_meeting(call c) {
  if (!query_ok(c)) return;
  auto body = parse_body(c);
  if (!body) return;
  std::vector<dialogue::problem> problems;
  auto text = [&](const char* name, bool required) {
    auto it = body->find(name);
    if (it == body->end() || it->is_null()) {
      if (required) problems.push_back({name, "required"});
      return std::string{};
    }
    if (!it->is_string() || it->get_ref<const std::string&>().size() > 320) {
      problems.push_back({name, "must be a string of at most 320 bytes"});
      return std::string{};
    }
    return it->get<std::string>();
  };
  for (const auto& [k, v] : body->items())
    if (k != "slot" && k != "email" && k != "name" && k != "time_zone") problems.push_back({k, "unknown field"});
  msg::booking_request req;
  req.routing = "agent"; // a slot chosen over REST names its agent; the round-robin turn stays
  req.slot_id = text("slot", true);
  req.booker_email = text("email", true);
  req.booker_name = text("name", false);
  req.time_zone = text("time_zone", false);
  std::string agent_id;
  std::int64_t start = 0;
  if (!req.slot_id.empty() && !parse_slot_id(req.slot_id, agent_id, start))
    problems.push_back({"slot", "not a slot id (\"<agent id>:<start ms>\" from the slots)"});
  if (!req.booker_email.empty() && !valid_email(req.booker_email)) problems.push_back({"email", "not an email address"});
  if (!req.time_zone.empty() && !calendar::known_time_zone(req.time_zone))
    problems.push_back({"time_zone", "not a known time zone"});
  if (!problems.empty()) return c.reply(problems_response("booking", problems));
  if (!c.caller.may_see_agent(agent_id))
    return c.reply(error_response(403, error_code::forbidden, "an agent token books only its own meetings"));
  c.self->request(c.ctx().scheduler, std::chrono::seconds{10}, msg::book_atom::value, req)
    .then(
      [c, agent_id](const msg::booking_reply& r) {
        auto answered = r;
        if (!answered.booked) answered.meeting.agent_id = agent_id; // whose fresh slots to offer
        answer_change(c, 201, answered);
      },
      [c](caf::error& e) { on_scheduler_error(c, e); });
}

void cancel_meeting(call c) {
  if (!query_ok(c)) return;
  auto m = meeting_in_path(c);
  if (!m) return;
  c.self->request(c.ctx().scheduler, std::chrono::seconds{10}, msg::cancel_atom::value, m->id)
    .then([c](const msg::booking_reply& r) { answer_change(c, 200, r); }, [c](caf::error& e) { on_scheduler_error(c, e); });
}

// {slot}: another of the same agent's free slots.
void reschedule_meeting(call c) {
  if (!query_ok(c)) return;
  auto m = meeting_in_path(c);
  auto body = m ? parse_body(c) : std::nullopt;
  if (!body) return;
  auto slot = body->find("slot");
  if (!body->is_object() || body->size() != 1 || slot == body->end() || !slot->is_string())
    return c.reply(problems_response("reschedule", {{"slot", "required: the one field, a slot id from the agent's slots"}}));
  c.self->request(c.ctx().scheduler, std::chrono::seconds{10}, msg::reschedule_atom::value, m->id, slot->get<std::string>())
    .then([c](const msg::booking_reply& r) { answer_change(c, 200, r); }, [c](caf::error& e) { on_scheduler_error(c, e); });
}

// The free slots of the meeting's agent: where it may move to.
void get_meeting_slots(call c) {
  msg::slot_request req;
  std::string tz;
  if (!read_slot_query(c, req, tz)) return;
  auto m = meeting_in_path(c);
  if (!m) return;
  req.routing = "agent";
  req.agent_id = m->agent_id;
  answer_slots(c, req, tz.empty() ? m->time_zone : tz);
}

// {status: completed | no_show}: what became of a meeting.
void put_meeting_status(call c) {
  if (!query_ok(c)) return;
  auto m = meeting_in_path(c);
  auto body = m ? parse_body(c) : std::nullopt;
  if (!body) return;
  auto status = body->find("status");
  if (!body->is_object() || body->size() != 1 || status == body->end() || !status->is_string() ||
      (*status != "completed" && *status != "no_show"))
    return c.reply(problems_response("meeting status", {{"status", "required: completed or no_show"}}));
  c.self->request(c.ctx().scheduler, std::chrono::seconds{10}, msg::meetings_atom::value, m->id, status->get<std::string>())
    .then([c](const msg::booking_reply& r) { answer_change(c, 200, r); }, [c](caf::error& e) { on_scheduler_error(c, e); });
}

} // namespace dynchat::rest_api
