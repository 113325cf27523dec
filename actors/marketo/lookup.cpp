// Visitors as Marketo knows them: the local copy first (by email, by Munchkin cookie),
// else a point look-up (GET /rest/v1/leads.json?filterType=email|cookies), stored for
// the next time; and a lead's recent activities for an agent's visitor card.
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/marketo/state.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/marketo/identity.hpp"
#include "dynchat/store/writes.hpp"

namespace dynchat::marketo_sync {
namespace {

using marketo::call_result;
using marketo::call_spec;

std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return {};
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

msg::lead_found found_of(sync_actor self, const store::lead_record& lead) {
  msg::lead_found out;
  out.found = true;
  out.lead_id = lead.id;
  auto txn = self->state.ctx.db->read();
  auto schema = store::load_lead_schema(txn, lead.schema);
  out.attributes = store::lead_attributes(lead, schema ? *schema : store::lead_schema{});
  return out;
}

std::string lookup_fields(sync_actor self) {
  std::string fields = "id,email,updatedAt";
  for (const auto& f : self->state.fields)
    if (f != "id" && f != "email" && f != "updatedAt") fields += "," + f;
  return fields;
}

} // namespace

std::uint32_t ensure_schema(sync_actor self, const std::vector<std::string>& fields, store::write_batch& batch) {
  auto& st = self->state;
  if (!st.schema) st.schema = store::latest_lead_schema(st.ctx.db->read());
  st.schema = store::writes::schema_for(st.schema, fields, batch);
  return st.schema->id;
}

store::write_batch lead_rows(sync_actor self, const json& leads, std::vector<store::lead_record>* stored) {
  auto& st = self->state;
  store::write_batch batch;
  std::vector<std::string> fields{"updatedAt"};
  for (const auto& f : st.fields)
    if (f != "id" && f != "email" && f != "updatedAt") fields.push_back(f);
  const auto schema = ensure_schema(self, fields, batch);
  auto txn = st.ctx.db->read();
  for (const auto& m : leads) {
    if (!m.is_object() || !m.contains("id")) continue;
    store::lead_record lead;
    lead.id = text_of(m["id"]);
    lead.email = m.contains("email") ? text_of(m["email"]) : std::string{};
    lead.schema = schema;
    for (const auto& f : fields) lead.values.push_back(m.contains(f) ? text_of(m[f]) : std::string{});
    if (m.contains("updatedAt"))
      if (auto t = marketo::parse_iso8601(text_of(m["updatedAt"])))
        lead.updated_ms = std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
    lead.synced_ms = now_ms();
    auto before = store::load_lead(txn, lead.id);
    if (before) {
      lead.cookies = before->cookies;
      if (lead.email.empty()) lead.email = before->email;
    }
    store::writes::merge_lead(batch, lead); // over whatever is stored when it commits
    if (stored) stored->push_back(std::move(lead));
  }
  return batch;
}

void resolve_lead(sync_actor self, const std::string& email, const std::string& cookie,
                  caf::typed_response_promise<msg::lead_found> promise) {
  auto& st = self->state;
  const auto tracking = marketo::parse_tracking_cookie(cookie);
  {
    auto txn = st.ctx.db->read();
    std::optional<store::lead_record> lead;
    if (!email.empty()) lead = store::find_lead_by_email(txn, email);
    if (!lead && tracking) lead = store::find_lead_by_cookie(txn, tracking->token);
    if (lead) return promise.deliver(found_of(self, *lead)), void();
  }
  if (!st.api || (email.empty() && !tracking)) return promise.deliver(msg::lead_found{}), void();
  call_spec spec;
  spec.path = "/rest/v1/leads.json";
  if (!email.empty()) spec.query = {{"filterType", "email"}, {"filterValues", email}};
  else spec.query = {{"filterType", "cookies"}, {"filterValues", tracking->value()}};
  spec.query.emplace_back("fields", lookup_fields(self));
  const auto token = tracking ? tracking->token : std::string{};
  st.api->call(std::move(spec), on_actor(self, [self, promise, token](call_result r) mutable {
    if (!r || r.answer.result.empty()) {
      if (!r) spdlog::debug("marketo: a lead look-up failed: {}", r.failure.message);
      return promise.deliver(msg::lead_found{}), void();
    }
    json first = json::array({r.answer.result[0]});
    std::vector<store::lead_record> stored;
    auto batch = lead_rows(self, first, &stored);
    if (stored.empty()) return promise.deliver(msg::lead_found{}), void();
    auto lead = stored.front();
    if (!token.empty() && std::find(lead.cookies.begin(), lead.cookies.end(), token) == lead.cookies.end()) {
      lead.cookies.push_back(token);
      store::writes::merge_lead(batch, lead);
    }
    self->request(self->state.ctx.writer, caf::infinite, msg::write_atom::value, std::move(batch))
      .then([self, promise, lead](std::uint64_t) mutable { promise.deliver(found_of(self, lead)); },
            [self, promise, lead](caf::error&) mutable { promise.deliver(found_of(self, lead)); });
  }));
}

void lead_activities(sync_actor self, const std::string& lead_id, caf::typed_response_promise<msg::json_reply> promise) {
  auto& st = self->state;
  if (!st.api) return promise.deliver(reply(200, {{"activities", json::array()}, {"connected", false}})), void();
  // A month back: pages come oldest first, so the newest are the last ones read.
  call_spec token_spec;
  token_spec.path = "/rest/v1/activities/pagingtoken.json";
  token_spec.query = {{"sinceDatetime", marketo::iso8601(std::chrono::system_clock::now() - std::chrono::hours{24 * 30})}};
  st.api->call(std::move(token_spec), on_actor(self, [self, lead_id, promise](call_result r) mutable {
    if (!r) return promise.deliver(problem(502, "marketo_failed", r.failure.message)), void();
    auto activities = std::make_shared<json>(json::array());
    auto page = std::make_shared<std::function<void(std::string, int)>>();
    *page = [self, lead_id, promise, activities, page](std::string next, int pages) mutable {
      call_spec spec;
      spec.path = "/rest/v1/activities.json";
      // Web visits, forms, clicks, emails, data changes, interesting moments, and ours.
      std::string types = "1,2,3,6,10,11,12,13,46";
      for (const auto& [name, id] : self->state.activity_types) {
        if (std::count(types.begin(), types.end(), ',') >= 9) break;
        types += "," + std::to_string(id);
      }
      spec.query = {{"nextPageToken", next}, {"leadIds", lead_id}, {"activityTypeIds", types}};
      if (!self->state.api) {
        *page = nullptr; // breaks the closure's cycle
        return promise.deliver(reply(200, {{"activities", *activities}})), void();
      }
      self->state.api->call(std::move(spec), on_actor(self, [self, promise, activities, page, pages](call_result r) mutable {
        if (!r) {
          *page = nullptr;
          return promise.deliver(problem(502, "marketo_failed", r.failure.message)), void();
        }
        for (const auto& a : r.answer.result) activities->push_back(a);
        const auto keep = self->state.ctx.cfg->marketo.recent_activities;
        if (activities->size() > keep) activities->erase(activities->begin(), activities->end() - static_cast<std::ptrdiff_t>(keep));
        if (r.answer.more_result && !r.answer.next_page_token.empty() && pages < 20)
          return (*page)(r.answer.next_page_token, pages + 1);
        json newest_first = json::array();
        for (auto it = activities->rbegin(); it != activities->rend(); ++it) newest_first.push_back(*it);
        *page = nullptr; // breaks the cycle
        promise.deliver(reply(200, {{"activities", newest_first}, {"connected", true}}));
      }));
    };
    (*page)(r.answer.next_page_token, 1);
  }));
}

} // namespace dynchat::marketo_sync
