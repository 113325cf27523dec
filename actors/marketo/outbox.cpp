// What chat tells Marketo, every marketo.activity_interval_ms:
// 1. Attributes captured in chat (lead_updates) go first, as createOrUpdate by email
//    (POST /rest/v1/leads.json): a new email makes a new lead, a known one is updated.
// 2. Then the activity outbox (activity_pending), in batches of at most 300, as custom
//    activities. A batch is written down as in flight before it is sent; an answer that
//    never came (a restart, a timeout) is settled by looking in Marketo for the
//    activities' dynchatId before anything is sent again, so none is delivered twice.
//    What Marketo refuses goes to the dead letters, shown over REST.
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/marketo/state.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/marketo/activities.hpp"
#include "dynchat/store/writes.hpp"

namespace dynchat::marketo_sync {
namespace {

using marketo::call_result;
using marketo::call_spec;
using marketo::failure_kind;

struct inflight_item {
  std::string pending_key, activity_key, delivery_id; // the keys are bytes: stored as hex
  std::int64_t lead_id = 0;
  int type_id = 0;
};
struct inflight {
  std::int64_t sent_ms = 0;
  std::vector<inflight_item> items;
};

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}
std::string unhex(std::string_view text) {
  auto v = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) out.push_back(static_cast<char>(v(text[i]) * 16 + v(text[i + 1])));
  return out;
}

json to_json(const inflight& f) {
  json items = json::array();
  for (const auto& i : f.items)
    items.push_back({{"pending", hex(i.pending_key)}, {"activity", hex(i.activity_key)}, {"id", i.delivery_id},
                     {"lead", i.lead_id}, {"type", i.type_id}});
  return {{"sent_ms", f.sent_ms}, {"items", items}};
}

std::optional<inflight> load_inflight(sync_actor self) {
  auto txn = self->state.ctx.db->read();
  auto v = txn.get(store::table::meta, inflight_key);
  if (!v || v->empty()) return std::nullopt;
  auto j = json::parse(*v, nullptr, false);
  if (!j.is_object() || !j.contains("items")) return std::nullopt;
  inflight f;
  f.sent_ms = j.value("sent_ms", std::int64_t{0});
  for (const auto& i : j["items"])
    f.items.push_back({unhex(i.value("pending", "")), unhex(i.value("activity", "")), i.value("id", ""),
                       i.value("lead", std::int64_t{0}), i.value("type", 0)});
  if (f.items.empty()) return std::nullopt;
  return f;
}

void commit(sync_actor self, store::write_batch batch, std::function<void(bool)> then) {
  self->request(self->state.ctx.writer, caf::infinite, msg::write_atom::value, std::move(batch))
    .then([then](std::uint64_t) { then(true); },
          [then](caf::error& e) {
            spdlog::error("marketo: the outbox could not be stored: {}", to_string(e));
            then(false);
          });
}

void deliver_activities(sync_actor self);

// ---- 1. captured attributes ----
void push_lead_updates(sync_actor self, std::function<void()> then) {
  auto& st = self->state;
  auto updates = store::load_lead_updates(st.ctx.db->read(), marketo::max_activities_per_call * 4);
  if (updates.empty()) return then();
  // One input per email: its newest value of each attribute.
  std::map<std::string, json> by_email;
  std::map<std::string, std::map<std::string, std::int64_t>> newest;
  std::vector<std::string> keys;
  for (const auto& [key, u] : updates) {
    if (by_email.size() >= marketo::max_activities_per_call && !by_email.count(store::lower_email(u.email))) break;
    keys.push_back(key);
    const auto email = store::lower_email(u.email);
    auto& input = by_email[email];
    if (input.is_null()) input = {{"email", u.email}};
    if (u.attribute == "email") continue;
    auto& when = newest[email][u.attribute];
    if (u.ts_ms >= when) {
      when = u.ts_ms;
      input[u.attribute] = u.value;
    }
  }
  json input = json::array();
  for (auto& [email, obj] : by_email) input.push_back(obj);
  call_spec spec;
  spec.method = "POST";
  spec.path = "/rest/v1/leads.json";
  spec.json_body = json{{"action", "createOrUpdate"}, {"lookupField", "email"}, {"input", input}}.dump(-1, ' ', false, json::error_handler_t::replace);
  spec.idempotent = true; // by email: sent twice, the second updates what the first made
  st.pushing = true;
  st.api->call(std::move(spec), on_actor(self, [self, input, keys, then](call_result r) {
    auto& st = self->state;
    st.pushing = false;
    if (!r) {
      st.outbox_error = "writing captured attributes to Marketo: " + r.failure.message;
      if (r.failure.kind != failure_kind::marketo) return then(); // passing: they wait for the next round
    }
    // Each result, in input order: the lead's id, or why it was skipped.
    json leads = json::array();
    auto txn = st.ctx.db->read();
    for (std::size_t i = 0; r && i < r.answer.result.size() && i < input.size(); ++i) {
      const auto& res = r.answer.result[i];
      const auto status = res.value("status", "");
      if (status != "created" && status != "updated") {
        std::string why = status;
        if (res.contains("reasons") && res["reasons"].is_array() && !res["reasons"].empty())
          why += ": " + res["reasons"][0].value("message", "");
        spdlog::warn("marketo: the lead {} was not written: {}", input[i].value("email", ""), why);
        st.outbox_error = "Marketo did not take the lead " + input[i].value("email", "") + ": " + why;
        continue;
      }
      // The local copy: what it had, with what chat captured on top.
      json lead = input[i];
      lead["id"] = res.contains("id") ? res["id"] : json{};
      if (auto known = store::find_lead_by_email(txn, input[i].value("email", ""))) {
        auto schema = store::load_lead_schema(txn, known->schema);
        for (auto& [k, v] : store::lead_attributes(*known, schema ? *schema : store::lead_schema{}))
          if (!lead.contains(k)) lead[k] = v;
      }
      leads.push_back(std::move(lead));
    }
    auto batch = lead_rows(self, leads);
    for (const auto& k : keys) store::writes::erase_lead_update(batch, k);
    commit(self, std::move(batch), [then](bool) { then(); });
  }));
}

// ---- 2. activities ----
void with_types(sync_actor self, std::function<void(std::string)> then) {
  auto& st = self->state;
  if (!st.activity_types.empty()) return then("");
  call_spec spec;
  spec.path = "/rest/v1/activities/external/types.json";
  st.api->call(std::move(spec), on_actor(self, [self, then](call_result r) {
    if (!r) return then("reading Marketo's custom activity types: " + r.failure.message);
    for (const auto& t : r.answer.result)
      if (t.is_object() && t.contains("apiName") && t.contains("id") && t["id"].is_number_integer())
        self->state.activity_types[t.value("apiName", "")] = t["id"].get<int>();
    then("");
  }));
}

void settle(sync_actor self, const inflight& f, const json& results) {
  // Each result, in input order: added, or skipped with reasons.
  store::write_batch batch;
  auto txn = self->state.ctx.db->read();
  for (std::size_t i = 0; i < f.items.size(); ++i) {
    const auto& item = f.items[i];
    store::writes::erase_pending_activity(batch, item.pending_key);
    const json res = i < results.size() ? results[i] : json::object();
    const auto status = res.value("status", "");
    if (status == "added") {
      ++self->state.delivered;
      continue;
    }
    std::string why = status.empty() ? "Marketo gave no result for it" : status;
    if (res.contains("reasons") && res["reasons"].is_array() && !res["reasons"].empty())
      why += ": " + res["reasons"][0].value("code", "") + " " + res["reasons"][0].value("message", "");
    if (auto a = store::load_activity(txn, item.activity_key)) {
      store::writes::put_dead_activity(batch, item.activity_key, {*a, why, now_ms(), {}});
      ++self->state.dead;
    }
  }
  store::writes::put_meta(batch, inflight_key, "");
  commit(self, std::move(batch), [self](bool) { self->state.delivering = false; });
}

// An answer that never came: look in Marketo for what the batch carried.
void reconcile(sync_actor self, inflight f) {
  auto& st = self->state;
  st.delivering = true;
  call_spec token;
  token.path = "/rest/v1/activities/pagingtoken.json";
  token.query = {{"sinceDatetime", marketo::iso8601(std::chrono::system_clock::time_point{
                                     std::chrono::milliseconds{f.sent_ms}} - std::chrono::hours{1})}};
  st.api->call(std::move(token), on_actor(self, [self, f](call_result r) {
    auto& st = self->state;
    if (!r || !st.api) {
      st.delivering = false;
      st.outbox_error = "checking an unanswered delivery: " + r.failure.message;
      return;
    }
    std::set<int> types;
    std::set<std::int64_t> leads;
    for (const auto& i : f.items) {
      types.insert(i.type_id);
      leads.insert(i.lead_id);
    }
    auto join = [](const auto& set) {
      std::string out;
      for (const auto& v : set) out += (out.empty() ? "" : ",") + std::to_string(v);
      return out;
    };
    auto found = std::make_shared<std::set<std::string>>();
    auto page = std::make_shared<std::function<void(std::string, int)>>();
    *page = [self, f, found, page, types = join(types), leads = join(leads)](std::string next, int n) {
      call_spec spec;
      spec.path = "/rest/v1/activities.json";
      spec.query = {{"nextPageToken", next}, {"activityTypeIds", types}, {"leadIds", leads}};
      if (!self->state.api) return;
      self->state.api->call(std::move(spec), on_actor(self, [self, f, found, page, n](call_result r) {
        auto& st = self->state;
        if (!r) {
          st.delivering = false;
          st.outbox_error = "checking an unanswered delivery: " + r.failure.message;
          *page = nullptr;
          return;
        }
        for (const auto& a : r.answer.result)
          // Marketo names an activity's attributes by display name; apiName when it gives one.
          for (const auto& attr : a.value("attributes", json::array())) {
            const auto name = attr.value("name", "");
            if (name == "Dynchat ID" || name == "dynchatId" || attr.value("apiName", "") == "dynchatId")
              found->insert(attr.value("value", ""));
          }
        if (r.answer.more_result && !r.answer.next_page_token.empty() && n < 50) return (*page)(r.answer.next_page_token, n + 1);
        *page = nullptr;
        // Found: delivered. Not found: back to pending (the next round sends it).
        json results = json::array();
        inflight delivered;
        delivered.sent_ms = f.sent_ms;
        for (const auto& item : f.items)
          if (found->count(item.delivery_id)) {
            delivered.items.push_back(item);
            results.push_back({{"status", "added"}});
          }
        spdlog::info("marketo: an unanswered delivery of {} activities: {} were in Marketo, {} go again", f.items.size(),
                     delivered.items.size(), f.items.size() - delivered.items.size());
        settle(self, delivered, results);
      }));
    };
    (*page)(r.answer.next_page_token, 1);
  }));
}

void deliver_activities(sync_actor self) {
  auto& st = self->state;
  if (auto f = load_inflight(self)) return reconcile(self, std::move(*f));
  const auto settle_ms = std::chrono::duration_cast<std::chrono::milliseconds>(st.ctx.cfg->marketo.activity_settle).count();
  auto pending = store::load_pending_activities(st.ctx.db->read(), now_ms() - settle_ms, marketo::max_activities_per_call);
  if (pending.empty()) return;
  st.delivering = true;
  with_types(self, [self, pending](std::string error) {
    auto& st = self->state;
    if (!error.empty()) {
      st.outbox_error = error;
      st.delivering = false;
      return;
    }
    inflight f;
    f.sent_ms = now_ms();
    json input = json::array();
    store::write_batch batch;
    auto txn = st.ctx.db->read();
    const auto max_wait_ms = std::int64_t{24} * 3600 * 1000;
    for (const auto& [pending_key, activity_key] : pending) {
      auto a = store::load_activity(txn, activity_key);
      const auto version = pending_key.size() >= 8 ? static_cast<std::int64_t>(store::from_be64(pending_key.substr(0, 8))) : 0;
      // Gone, or changed since (its newer version has its own pending row): nothing to send.
      if (!a || (a->updated_ms ? a->updated_ms : a->ts_ms) != version) {
        store::writes::erase_pending_activity(batch, pending_key);
        continue;
      }
      auto dead = [&](const std::string& why) {
        store::writes::erase_pending_activity(batch, pending_key);
        store::writes::put_dead_activity(batch, activity_key, {*a, why, now_ms(), {}});
        ++st.dead;
      };
      auto type = st.activity_types.find(marketo::activity_api_name(a->kind));
      if (type == st.activity_types.end()) {
        dead("Marketo has no custom activity type " + marketo::activity_api_name(a->kind) + " (docs/marketo.md)");
        continue;
      }
      if (a->email.empty()) {
        // An anonymous visitor is no lead of Marketo's: nothing to attach it to.
        store::writes::erase_pending_activity(batch, pending_key);
        continue;
      }
      auto lead = store::find_lead_by_email(txn, a->email);
      std::int64_t lead_id = 0;
      if (lead) lead_id = std::atoll(lead->id.c_str());
      if (lead_id <= 0) {
        // Its lead is on its way (the captured email is written first); in a day, it is not.
        if (now_ms() - version > max_wait_ms) dead("no Marketo lead has the email " + a->email);
        continue;
      }
      f.items.push_back({pending_key, activity_key, marketo::delivery_id(*a), lead_id, type->second});
      input.push_back(marketo::external_activity(*a, lead_id, type->second));
    }
    if (f.items.empty()) {
      commit(self, std::move(batch), [self](bool) { self->state.delivering = false; });
      return;
    }
    // Written down before it is sent: see reconcile().
    store::writes::put_meta(batch, inflight_key, to_json(f).dump(-1, ' ', false, json::error_handler_t::replace));
    commit(self, std::move(batch), [self, f, input](bool ok) {
      auto& st = self->state;
      if (!ok || !st.api) {
        st.delivering = false;
        return;
      }
      call_spec spec;
      spec.method = "POST";
      spec.path = "/rest/v1/activities/external.json";
      spec.json_body = json{{"input", input}}.dump(-1, ' ', false, json::error_handler_t::replace);
      spec.idempotent = false;
      st.api->call(std::move(spec), on_actor(self, [self, f](call_result r) {
        auto& st = self->state;
        if (r) {
          st.outbox_error.clear();
          return settle(self, f, r.answer.result);
        }
        st.outbox_error = "delivering activities: " + r.failure.message;
        if (r.failure.kind == failure_kind::marketo) {
          // Refused whole (not a passing failure): each goes to the dead letters.
          json results = json::array();
          for (std::size_t i = 0; i < f.items.size(); ++i)
            results.push_back({{"status", "refused"}, {"reasons", json::array({{{"code", r.failure.code}, {"message", r.failure.message}}})}});
          return settle(self, f, results);
        }
        // Unknown: it stays in flight, and the next round looks in Marketo first.
        st.delivering = false;
      }));
    });
  });
}

} // namespace

void outbox_tick(sync_actor self) {
  auto& st = self->state;
  if (!st.api || st.delivering || st.pushing) return;
  push_lead_updates(self, [self] {
    auto& st = self->state;
    if (st.api && !st.delivering) deliver_activities(self);
  });
}

json outbox_status(sync_actor self) {
  auto& st = self->state;
  auto txn = st.ctx.db->read();
  json dead = json::array();
  for (const auto& d : store::load_dead_activities(txn, "", 100))
    dead.push_back({{"kind", d.activity.kind}, {"name", d.activity.name}, {"conversation_id", d.activity.conversation_id},
                    {"email", d.activity.email}, {"reason", d.reason},
                    {"failed_at", marketo::iso8601(std::chrono::system_clock::time_point{std::chrono::milliseconds{d.failed_ms}})}});
  return {{"pending", store::count_pending_activities(txn)},
          {"dead_letters", txn.entries(store::table::activity_dead)},
          {"delivered_since_start", st.delivered},
          {"last_error", st.outbox_error},
          {"in_flight", load_inflight(self).has_value()},
          {"dead", dead}};
}

void retry_dead_letters(sync_actor self, caf::typed_response_promise<msg::json_reply> promise) {
  auto& st = self->state;
  store::write_batch batch;
  std::size_t n = 0;
  for (const auto& d : store::load_dead_activities(st.ctx.db->read(), "", 10'000)) {
    store::writes::erase_dead_activity(batch, d.key);
    auto a = d.activity;
    store::writes::put_activity(batch, a); // pending again, at its version
    ++n;
  }
  st.activity_types.clear(); // a type added in Marketo since is found now
  commit(self, std::move(batch), [self, promise, n](bool ok) mutable {
    if (!ok) return promise.deliver(problem(503, "store_failed", "the dead letters could not be moved")), void();
    auto j = outbox_status(self);
    j["retried"] = n;
    promise.deliver(reply(200, j));
  });
}

} // namespace dynchat::marketo_sync
