// /v1/integrations/marketo (+ /test, /fields, /sync, /activities), /v1/integrations/adobe-org
// and /v1/leads (docs/marketo.md). The Marketo sync actor owns the connection, the
// fields and the jobs: these handlers pass the body on and answer with what it says.
#include <caf/all.hpp>

#include "actors/marketo_messages.hpp"
#include "actors/rest/handlers.hpp"
#include "dynchat/marketo/identity.hpp"
#include "dynchat/store/leads.hpp"
#include "dynchat/store/writes.hpp"

namespace dynchat::rest_api {
namespace {

constexpr std::string_view adobe_org_key = "adobe.org_id";

// Asks the sync actor and answers with its reply; 503 when it does not answer in time.
template <class Atom, class... Args>
void ask_sync(call& c, std::chrono::seconds limit, Atom atom, Args... args) {
  if (!c.ctx().marketo)
    return c.reply(error_response(503, protocol::error_code::unavailable, "the Marketo sync is not running"));
  c.self->request(c.ctx().marketo, limit, atom, std::move(args)...)
    .then([reply = c.reply](const msg::json_reply& r) { reply({r.status, "application/json", r.body, {}}); },
          [reply = c.reply](caf::error&) {
            reply(error_response(503, protocol::error_code::unavailable, "the Marketo sync did not answer in time"));
          });
}

json lead_json(const store::read_txn& txn, const store::lead_record& lead) {
  auto schema = store::load_lead_schema(txn, lead.schema);
  return {{"id", lead.id},
          {"email", lead.email},
          {"fields", store::lead_attributes(lead, schema ? *schema : store::lead_schema{})},
          {"cookies", lead.cookies.size()},
          {"updated_at", lead.updated_ms},
          {"synced_at", lead.synced_ms}};
}

} // namespace

void get_marketo(call c) {
  if (!query_ok(c)) return;
  ask_sync(c, std::chrono::seconds{5}, msg::mconn_atom::value, std::string{});
}

void put_marketo(call c) {
  if (!query_ok(c)) return;
  if (!parse_body(c)) return; // the guard frames have; the actor reads the fields
  // Storing is quick; the test after it waits for Marketo's identity service.
  ask_sync(c, std::chrono::seconds{90}, msg::mconn_atom::value, c.body.empty() ? std::string{"{}"} : c.body);
}

void delete_marketo(call c) {
  if (!query_ok(c)) return;
  ask_sync(c, std::chrono::seconds{10}, msg::mconn_atom::value, std::string{"delete"});
}

void test_marketo(call c) {
  if (!query_ok(c)) return;
  ask_sync(c, std::chrono::seconds{90}, msg::mtest_atom::value);
}

void get_marketo_fields(call c) {
  if (!query_ok(c)) return;
  ask_sync(c, std::chrono::seconds{90}, msg::mfields_atom::value, std::string{});
}

void put_marketo_fields(call c) {
  if (!query_ok(c)) return;
  if (!parse_body(c)) return;
  ask_sync(c, std::chrono::seconds{90}, msg::mfields_atom::value, c.body);
}

void get_marketo_sync(call c) {
  if (!query_ok(c)) return;
  ask_sync(c, std::chrono::seconds{5}, msg::msync_atom::value, std::string{"status"});
}

void start_marketo_sync(call c) {
  if (!query_ok(c)) return;
  ask_sync(c, std::chrono::seconds{10}, msg::msync_atom::value, std::string{"start"});
}

void cancel_marketo_sync(call c) {
  if (!query_ok(c)) return;
  ask_sync(c, std::chrono::seconds{10}, msg::msync_atom::value, std::string{"cancel"});
}

void get_marketo_activities(call c) {
  if (!query_ok(c)) return;
  ask_sync(c, std::chrono::seconds{5}, msg::moutbox_atom::value, std::string{"status"});
}

void retry_marketo_activities(call c) {
  if (!query_ok(c)) return;
  ask_sync(c, std::chrono::seconds{10}, msg::moutbox_atom::value, std::string{"retry"});
}

void get_adobe_org(call c) {
  if (!query_ok(c)) return;
  auto txn = c.ctx().db->read();
  auto v = txn.get(store::table::meta, adobe_org_key);
  const std::string id = v ? std::string{*v} : std::string{};
  c.reply(json_response(200, {{"org_id", id.empty() ? json(nullptr) : json(id)},
                              {"display", id.empty() ? json(nullptr) : json(id + "@AdobeOrg")}}));
}

void put_adobe_org(call c) {
  if (!query_ok(c)) return;
  auto body = parse_body(c);
  if (!body) return;
  if (!body->is_object() || body->size() != 1 || !body->contains("org_id") || !(*body)["org_id"].is_string())
    return c.reply(error_response(400, protocol::error_code::bad_value,
                                  "the body is {\"org_id\": \"1234567890ABCDEF12345678@AdobeOrg\"}"));
  auto checked = marketo::normalize_adobe_org((*body)["org_id"].get<std::string>());
  if (checked.index() == 1)
    return c.reply(error_response(400, protocol::error_code::bad_value, std::get<1>(checked)));
  const auto id = std::get<0>(checked);
  store::write_batch batch;
  store::writes::put_meta(batch, adobe_org_key, id);
  write_then(c, std::move(batch), [c, id] {
    c.reply(json_response(200, {{"org_id", id}, {"display", id + "@AdobeOrg"}}));
  });
}

// GET /v1/leads?email=… | ?cookie=… : the local copy of one lead.
void find_lead(call c) {
  const auto email = c.query.text("email");
  const auto cookie = c.query.text("cookie");
  if (!query_ok(c)) return;
  if (email.empty() == cookie.empty())
    return c.reply(error_response(400, protocol::error_code::bad_parameter, "give email or cookie (one of them)"));
  auto txn = c.ctx().db->read();
  std::optional<store::lead_record> lead;
  if (!email.empty()) lead = store::find_lead_by_email(txn, email);
  else if (auto t = marketo::parse_tracking_cookie(cookie)) lead = store::find_lead_by_cookie(txn, t->token);
  else return c.reply(error_response(400, protocol::error_code::bad_parameter, "cookie is a _mkto_trk value: id:123-ABC-456&token:_mch-…"));
  if (!lead) return c.reply(error_response(404, protocol::error_code::not_found, "no synced lead matches"));
  c.reply(json_response(200, lead_json(txn, *lead)));
}

void get_lead(call c) {
  if (!query_ok(c)) return;
  auto txn = c.ctx().db->read();
  auto lead = store::load_lead(txn, c.param("id"));
  if (!lead) return c.reply(error_response(404, protocol::error_code::not_found, "no such lead"));
  c.reply(json_response(200, lead_json(txn, *lead)));
}

} // namespace dynchat::rest_api
