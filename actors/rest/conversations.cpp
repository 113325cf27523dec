// /v1/conversations: the conversation list (newest first, filtered, paged under a scan
// budget so the REST actor never walks the whole table for one page) and each
// conversation with its messages, as JSON or as a plain-text transcript.
#include <limits>

#include <caf/all.hpp>

#include "actors/marketo_messages.hpp"
#include "actors/messages.hpp"
#include "actors/rest/handlers.hpp"
#include "dynchat/rest/transcript_text.hpp"
#include "dynchat/store/leads.hpp"

namespace dynchat::rest_api {
namespace {

using protocol::error_code;

json conversation_json(const store::conversation_record& c) {
  return json{{"id", c.id},
              {"visitor_id", c.visitor_id},
              {"status", store::to_string(c.phase)},
              {"score", c.score},
              {"agent_id", c.agent_id},
              {"created", c.created_ms},
              {"updated", c.updated_ms},
              {"ended", c.ended_ms},
              {"end_reason", c.end_reason},
              {"page_url", c.page_url},
              {"referrer", c.referrer},
              {"email", c.email}};
}

json message_json(std::uint64_t seq, const store::message_record& m) {
  json j{{"seq", seq}, {"from", m.from}, {"text", m.text}, {"ts", m.ts_ms}};
  if (!m.agent_name.empty()) j["agent"] = m.agent_name;
  if (!m.client_msg_id.empty()) j["client_msg_id"] = m.client_msg_id;
  if (!m.prompt.empty()) j["prompt"] = protocol::prompt_json(m.prompt);
  return j;
}

// An agent sees the conversations it holds or held (another agent may have taken one
// over since); every other role the route admitted sees them all.
bool visible_to(const rest::principal& caller, const store::conversation_record& conv) {
  return caller.role != rest::role::agent || store::was_held_by(conv, caller.agent_id);
}

void conversation_item(call& c, bool as_text) {
  const auto& id = c.param("id");
  auto txn = c.ctx().db->read();
  auto conv = store::load_conversation(txn, id);
  const auto after = static_cast<std::uint64_t>(c.query.integer("after_seq", 0, 0, std::numeric_limits<std::int64_t>::max()));
  const auto limit = static_cast<std::size_t>(c.query.integer("limit", 1000, 1, 10000));
  if (!query_ok(c)) return;
  // To an agent the conversations it never held do not exist.
  if (!conv || !visible_to(c.caller, *conv))
    return c.reply(error_response(404, error_code::not_found, "no such conversation"));
  if (const auto newest = store::last_seq(txn, id); after > newest)
    return c.reply(error_response(400, error_code::bad_parameter,
                                  "parameter 'after_seq' is " + std::to_string(after) + ", past the newest message (" +
                                    std::to_string(newest) + ")"));
  auto messages = store::load_messages(txn, id, after, limit);
  if (as_text)
    return c.reply(net::http_response{200, "text/plain; charset=utf-8", rest::transcript_text(*conv, messages), {}});
  json list = json::array();
  for (auto& [seq, m] : messages) list.push_back(message_json(seq, m));
  auto body = conversation_json(*conv);
  body["messages"] = std::move(list);
  json activities = json::array(); // the Marketo outbox rows of this conversation
  for (const auto& a : store::load_activities(txn, id))
    activities.push_back({{"kind", a.kind},           {"name", a.name},           {"ts", a.ts_ms},
                          {"updated", a.updated_ms},  {"status", a.status},       {"score", a.score},
                          {"email", a.email},         {"page_url", a.page_url},   {"dialogue_id", a.dialogue_id},
                          {"dialogue", a.dialogue_name}, {"agent_id", a.agent_id}, {"agent", a.agent_name},
                          {"agent_email", a.agent_email}});
  body["activities"] = std::move(activities);
  c.reply(json_response(200, body));
}

} // namespace

void list_conversations(call c) {
  constexpr std::size_t scan_budget = 20000; // records examined per page at most
  constexpr auto forever = std::numeric_limits<std::int64_t>::max();
  auto& q = c.query;
  const auto limit = q.integer("limit", 50, 1, 500);
  const auto status = q.text("status", {"bot", "waiting", "live", "ended"});
  auto agent = id_param(q, "agent_id");
  const auto visitor = id_param(q, "visitor_id"), cursor = id_param(q, "cursor");
  const auto since = q.integer("since", 0, 0, forever);
  const auto until = q.integer("until", forever, 0, forever);
  if (since > until) q.fail("parameter 'since' must not be after 'until'");
  if (c.caller.role == rest::role::agent) {
    if (!agent.empty() && agent != c.caller.agent_id) q.fail("an agent token lists only its own conversations");
    agent = c.caller.agent_id;
  }
  if (!query_ok(c)) return;
  json items = json::array();
  std::string next_cursor, last_examined;
  std::size_t examined = 0;
  auto txn = c.ctx().db->read();
  // Newest first: ids begin with their creation time. The cursor is exclusive: the next
  // page starts right after the last conversation this one examined.
  txn.scan_prefix_reverse(store::table::conversations, "", cursor, [&](std::string_view key, std::string_view value) {
    if (examined >= scan_budget || items.size() >= static_cast<std::size_t>(limit)) {
      next_cursor = last_examined;
      return false;
    }
    ++examined;
    last_examined = std::string{key};
    auto conv = store::decode_conversation(value);
    if (!conv) return true;
    if (conv->created_ms < since) return false; // older than the window: nothing further can match
    if (conv->created_ms > until) return true;
    if (!status.empty() && store::to_string(conv->phase) != status) return true;
    if (!agent.empty() && !store::was_held_by(*conv, agent)) return true;
    if (!visitor.empty() && conv->visitor_id != visitor) return true;
    items.push_back(conversation_json(*conv));
    return true;
  });
  json body{{"conversations", std::move(items)}};
  body["next_cursor"] = next_cursor.empty() ? json(nullptr) : json(next_cursor);
  c.reply(json_response(200, body));
}

void get_conversation(call c) { conversation_item(c, false); }
void get_transcript_text(call c) { conversation_item(c, true); }


// The conversation score (0..3), set by an agent who holds or held the chat, during it or
// after. The conversation's own actor writes it (it owns the record), so it never races
// the conversation's other writes; answered once stored.
void put_conversation_score(call c) {
  if (!query_ok(c)) return;
  auto body = parse_body(c);
  if (!body) return;
  const auto it = body->find("score");
  if (!body->is_object() || body->size() != 1 || it == body->end() || !it->is_number_integer() ||
      it->get<std::int64_t>() < 0 || it->get<std::int64_t>() > 3)
    return c.reply(error_response(400, error_code::bad_value, "the body must be {\"score\": 0 to 3}"));
  const auto score = static_cast<std::uint8_t>(it->get<std::int64_t>());
  auto conv = store::load_conversation(c.ctx().db->read(), c.param("id"));
  if (!conv || !visible_to(c.caller, *conv)) return c.reply(error_response(404, error_code::not_found, "no such conversation"));
  auto fail = [reply = c.reply](caf::error& e) {
    const auto code = from_caf_error(e);
    reply(error_response(503, code, "the score could not be stored; try again"));
  };
  c.self->request(c.ctx().directory, std::chrono::seconds{5}, msg::session_atom::value, conv->id)
    .then(
      [c, score, fail](session_actor session) {
        c.self->request(session, std::chrono::seconds{10}, msg::score_atom::value, score)
          .then([reply = c.reply, score](bool) { reply(json_response(200, {{"score", score}})); }, fail);
      },
      fail);
}

} // namespace dynchat::rest_api

namespace dynchat::rest_api {

// GET /v1/conversations/{id}/lead: the visitor card an agent sees beside a chat: the
// lead's synced fields (name, title, company, email, phone, ...) and its latest Marketo
// activities, when the visitor is known.
void get_conversation_lead(call c) {
  if (!query_ok(c)) return;
  auto txn = c.ctx().db->read();
  auto conv = store::load_conversation(txn, c.param("id"));
  if (!conv || !visible_to(c.caller, *conv))
    return c.reply(error_response(404, protocol::error_code::not_found, "no such conversation"));
  json card = {{"conversation_id", conv->id}, {"email", conv->email}, {"known", !conv->email.empty()},
               {"lead", nullptr}, {"activities", json::array()}};
  auto lead = store::find_lead_by_email(txn, conv->email);
  if (!lead) return c.reply(json_response(200, card));
  auto schema = store::load_lead_schema(txn, lead->schema);
  card["lead"] = {{"id", lead->id}, {"fields", store::lead_attributes(*lead, schema ? *schema : store::lead_schema{})}};
  if (!c.ctx().marketo) return c.reply(json_response(200, card));
  c.self->request(c.ctx().marketo, std::chrono::seconds{20}, msg::mleadact_atom::value, lead->id)
    .then(
      [reply = c.reply, card](const msg::json_reply& r) mutable {
        auto j = json::parse(r.body, nullptr, false);
        if (r.status == 200 && j.is_object()) card["activities"] = j.value("activities", json::array());
        else card["activities_error"] = j.is_object() && j.contains("error") ? j["error"].value("message", "") : r.body;
        reply(json_response(200, card));
      },
      [reply = c.reply, card](caf::error&) mutable {
        card["activities_error"] = "Marketo's activities did not come in time";
        reply(json_response(200, card));
      });
}

} // namespace dynchat::rest_api
