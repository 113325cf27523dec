// /v1/agents/{id}/calendar and the slots: an agent's meeting settings, the calendar that
// says when they are busy, and the free slots visitors may book (docs/meetings.md). The
// scheduler owns them; these handlers decode, ask it and answer.
#include <caf/all.hpp>

#include "actors/meeting_messages.hpp"
#include "actors/messages.hpp"
#include "actors/rest/handlers.hpp"
#include "actors/rest/meeting_json.hpp"
#include "dynchat/calendar/feed.hpp"
#include "dynchat/calendar/ics.hpp"
#include "dynchat/calendar/settings.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/store/meetings.hpp"

namespace dynchat::rest_api {
namespace {

using protocol::error_code;

constexpr std::int64_t day_ms = 86'400'000;

json connection_json(const store::calendar_record& r) {
  return json{{"source", r.source.empty() ? "none" : r.source},
              {"feed_url", r.feed_url},
              {"status", r.source.empty() ? "not_connected" : r.status},
              {"error", r.error},
              {"refreshed_ms", r.refreshed_ms},
              {"checked_ms", r.checked_ms},
              {"events", r.events},
              {"busy_intervals", r.busy.size()}};
}

json calendar_json(const std::string& agent_id, const std::optional<store::calendar_record>& r) {
  json settings = nullptr;
  if (r && !r->settings_json.empty()) settings = json::parse(r->settings_json, nullptr, false);
  return json{{"agent_id", agent_id},
              {"settings", settings},
              {"connection", connection_json(r.value_or(store::calendar_record{}))}};
}

void answer_stored(const call& c, const std::string& agent_id) {
  auto txn = c.ctx().db->read();
  c.reply(json_response(200, calendar_json(agent_id, store::load_calendar(txn, agent_id))));
}

template <class... Ts>
void ask_scheduler_to_store(call c, const std::string& agent_id, Ts&&... xs) {
  c.self->request(c.ctx().scheduler, std::chrono::seconds{10}, msg::calendar_atom::value, std::forward<Ts>(xs)...)
    .then([c, agent_id](bool) {
            // Its live-chat hours may have changed: the agent's actor, if running, reads them again.
            if (c.ctx().directory) c.self->send(c.ctx().directory, msg::chat_hours_atom::value, agent_id);
            answer_stored(c, agent_id);
          },
          [reply = c.reply](caf::error& e) {
            if (e == to_caf_error(error_code::not_found))
              return reply(error_response(404, error_code::not_found, "no such agent"));
            reply(error_response(503, error_code::store_failed, "the calendar could not be stored"));
          });
}

} // namespace

void get_calendar(call c) {
  if (!query_ok(c)) return;
  auto agent = agent_in_path(c);
  if (!agent) return;
  answer_stored(c, agent->id);
}

void put_calendar(call c) {
  if (!query_ok(c)) return;
  auto agent = agent_in_path(c);
  auto body = agent ? parse_body(c) : std::nullopt;
  if (!body) return;
  auto decoded = calendar::decode_settings(*body);
  if (!decoded.value) return c.reply(problems_response("calendar settings", decoded.problems));
  ask_scheduler_to_store(std::move(c), agent->id, agent->id, calendar::to_json(*decoded.value).dump());
}

// The busy times of an uploaded .ics, read now for the whole horizon an agent may have.
void put_calendar_ics(call c) {
  if (!query_ok(c)) return;
  auto agent = agent_in_path(c);
  if (!agent) return;
  std::optional<store::calendar_record> before;
  {
    auto txn = c.ctx().db->read();
    before = store::load_calendar(txn, agent->id);
  }
  const auto s = before ? calendar::settings_from_stored(before->settings_json) : std::nullopt;
  const auto zone = s ? s->time_zone : std::string{"UTC"};
  const auto now = now_ms();
  // One day back (a meeting in progress) to the longest horizon settings allow, plus a day.
  auto read = calendar::busy_from_ics(c.body, zone, now - day_ms, now + 91 * day_ms);
  if (!read) {
    const auto status = static_cast<unsigned>(read.error().code);
    return c.reply(error_response(status, status == 413 ? error_code::too_large : error_code::bad_value,
                                  "the calendar file was refused: " + read.error().message));
  }
  store::calendar_record r;
  r.agent_id = agent->id;
  r.source = "upload";
  r.status = "ok";
  r.refreshed_ms = r.checked_ms = now;
  r.events = static_cast<std::uint32_t>(read->events);
  if (read->truncated) r.error = "more busy times than the limit: the latest were left out";
  for (const auto& b : read->busy) r.busy.emplace_back(b.start_ms, b.end_ms);
  ask_scheduler_to_store(std::move(c), agent->id, std::move(r));
}

// {"url": an iCal address}: connected, and answered after its first read.
void put_calendar_feed(call c) {
  if (!query_ok(c)) return;
  auto agent = agent_in_path(c);
  auto body = agent ? parse_body(c) : std::nullopt;
  if (!body) return;
  auto url = body->find("url");
  if (!body->is_object() || body->size() != 1 || url == body->end() || !url->is_string() ||
      url->get_ref<const std::string&>().size() > 2000)
    return c.reply(problems_response("calendar feed", {{"url", "required: the one field, the calendar's iCal address"}}));
  std::string why;
  auto fetch = calendar::feed_fetch_url(url->get<std::string>(), why);
  if (!fetch) return c.reply(problems_response("calendar feed", {{"url", why}}));
  if (!c.ctx().feeds) return c.reply(error_response(503, error_code::unavailable, "calendar feeds are not read here"));
  c.self->request(c.ctx().feeds, std::chrono::seconds{120}, msg::feed_atom::value, agent->id, *fetch)
    .then([c, id = agent->id](const store::calendar_record&) { answer_stored(c, id); },
          [reply = c.reply](caf::error& e) {
            if (e == to_caf_error(error_code::not_found))
              return reply(error_response(404, error_code::not_found, "no such agent"));
            reply(error_response(503, error_code::store_failed, "the calendar could not be stored"));
          });
}

// Disconnects the calendar: the agent takes no meetings until one is connected again.
void delete_calendar_connection(call c) {
  if (!query_ok(c)) return;
  auto agent = agent_in_path(c);
  if (!agent) return;
  store::calendar_record r;
  r.agent_id = agent->id;
  ask_scheduler_to_store(std::move(c), agent->id, std::move(r));
}

bool read_slot_query(call& c, msg::slot_request& req, std::string& tz) {
  tz = c.query.text("tz");
  req.max_slots = static_cast<std::uint32_t>(c.query.integer("limit", 50, 1, 500));
  req.from_ms = c.query.integer("from", 0, 0, std::numeric_limits<std::int64_t>::max());
  req.to_ms = c.query.integer("to", 0, 0, std::numeric_limits<std::int64_t>::max());
  if (!tz.empty() && !calendar::known_time_zone(tz)) c.query.fail("parameter 'tz' is not a known time zone: " + tz);
  return query_ok(c);
}

void answer_slots(const call& c, const msg::slot_request& req, const std::string& tz, const std::string& named_agent) {
  c.self->request(c.ctx().scheduler, std::chrono::seconds{5}, msg::slots_atom::value, req)
    .then([reply = c.reply, tz, named_agent](const msg::slot_offer& offer) {
            auto out = slot_offer_json(offer, tz);
            if (offer.agent_id.empty() && !named_agent.empty()) { // say whose, and why there is nothing
              out["agent_id"] = named_agent;
              out["eligible"] = false;
              out["reason"] = "no free time: the agent needs calendar settings with availability, takes_meetings, "
                              "and a connected calendar (GET /v1/agents/{id}/calendar shows them)";
            }
            reply(json_response(200, out));
          },
          [reply = c.reply](caf::error&) {
            reply(error_response(503, error_code::unavailable, "the scheduler did not answer"));
          });
}

// GET /v1/agents/{id}/slots (that agent's) and GET /v1/slots (whoever's turn it is:
// strict round robin, or with routing=rule the lead's account owner or rule first, the
// lead given as lead.<attribute>=value).
void get_slots(call c) {
  msg::slot_request req;
  std::string tz;
  if (!c.params.count("id")) {
    req.routing = c.query.text("routing", {"round_robin", "rule"});
    if (req.routing.empty()) req.routing = "round_robin";
    req.lead = c.query.with_prefix("lead.");
  }
  if (!read_slot_query(c, req, tz)) return;
  if (c.params.count("id")) {
    auto agent = agent_in_path(c);
    if (!agent) return;
    req.routing = "agent";
    req.agent_id = agent->id;
  }
  answer_slots(c, req, tz, c.params.count("id") ? c.param("id") : std::string{});
}

} // namespace dynchat::rest_api
