// The Marketo sync actor: its behaviour, the connection and the field selection. The
// sync jobs are export.cpp's, the outbox outbox.cpp's, visitors lookup.cpp's.
#include "actors/marketo_sync.hpp"

#include <set>

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/marketo/state.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/dialogue/field_usage.hpp"
#include "dynchat/dialogue/validate.hpp"
#include "dynchat/routing/stored_rules.hpp"
#include "dynchat/store/tables.hpp"
#include "dynchat/store/writes.hpp"

namespace dynchat::marketo_sync {

json to_json(const connection_record& c, bool with_secret) {
  json j = {{"rest_url", c.settings.rest_url},       {"identity_url", c.settings.identity_url},
            {"client_id", c.settings.client_id},     {"munchkin_id", c.settings.munchkin_id},
            {"status", c.status},                    {"error", c.error},
            {"checked_ms", c.checked_ms}};
  if (with_secret) j["client_secret"] = c.settings.client_secret;
  else j["client_secret_set"] = !c.settings.client_secret.empty();
  return j;
}

std::optional<connection_record> connection_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  connection_record c;
  c.settings.rest_url = j.value("rest_url", "");
  c.settings.identity_url = j.value("identity_url", "");
  c.settings.client_id = j.value("client_id", "");
  c.settings.client_secret = j.value("client_secret", "");
  c.settings.munchkin_id = j.value("munchkin_id", "");
  c.status = j.value("status", "not_connected");
  c.error = j.value("error", "");
  c.checked_ms = j.value("checked_ms", std::int64_t{0});
  return c;
}

msg::json_reply reply(unsigned status, const json& body) { return {status, body.dump(-1, ' ', false, json::error_handler_t::replace)}; }

msg::json_reply problem(unsigned status, std::string code, std::string message, json details) {
  json body = {{"error", {{"code", std::move(code)}, {"message", std::move(message)}}}};
  if (!details.is_null()) body["error"]["details"] = std::move(details);
  return reply(status, body);
}

void persist_meta(sync_actor self, std::string key, std::string value) {
  store::write_batch batch;
  store::writes::put_meta(batch, key, value);
  self->request(self->state.ctx.writer, caf::infinite, msg::write_atom::value, std::move(batch))
    .then([](std::uint64_t) {}, [key](caf::error& e) { spdlog::error("marketo: {} could not be stored: {}", key, to_string(e)); });
}

namespace {

marketo::client_options client_options(const settings& cfg) {
  const auto& m = cfg.marketo;
  marketo::client_options o;
  o.max_calls = m.max_calls;
  o.window = std::chrono::milliseconds{m.call_window_ms};
  o.max_concurrent = m.max_concurrent;
  o.max_retries = m.max_retries;
  o.backoff_base = std::chrono::milliseconds{m.retry_base_ms};
  o.backoff_cap = std::chrono::milliseconds{m.retry_cap_ms};
  return o;
}

http::client_options http_options(const settings& cfg) {
  http::client_options o;
  const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.marketo.request_timeout);
  o.timeouts.resolve = o.timeouts.connect = o.timeouts.tls_handshake = o.timeouts.write = limit;
  o.timeouts.headers = o.timeouts.body = limit;
  o.timeouts.queue = limit * 2;
  // One ranged read of an export file at most, with room for its headers.
  o.max_body_bytes = std::max<std::size_t>(cfg.marketo.download_chunk_bytes + 64 * 1024, 16 * 1024 * 1024);
  o.max_in_flight = cfg.marketo.max_concurrent + 2; // the limiter's, plus the identity service
  o.max_in_flight_per_origin = cfg.marketo.max_concurrent + 2;
  o.user_agent = "dynchat-marketo/1";
  o.tls.ca_file = cfg.marketo.ca_file;
  return o;
}

// Names the calling thread and lowers its CPU priority (Linux: per thread): "idle" runs
// it only on CPU nothing else wants (SCHED_IDLE: a chat thread waking takes the core at
// once), "low" is SCHED_BATCH at nice 19, "normal" leaves it.
void lower_priority(const char* name, const std::string& priority) {
  pthread_setname_np(pthread_self(), name);
  const auto tid = static_cast<pid_t>(::syscall(SYS_gettid));
  int failed = 0;
  if (priority == "idle") {
    sched_param p{};
    failed = ::sched_setscheduler(tid, SCHED_IDLE, &p);
  } else if (priority == "low") {
    // SCHED_BATCH at nice 19: disfavoured at every wake-up and a 1/70 share against a
    // chat thread, yet never starved outright, so a lock it holds is soon let go.
    sched_param p{};
    failed = ::sched_setscheduler(tid, SCHED_BATCH, &p);
    if (failed == 0) failed = ::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 19);
  }
  if (failed != 0) spdlog::warn("marketo: the {} thread's priority could not be lowered: {}", name, std::strerror(errno));
}

std::string_view meta(const store::read_txn& txn, std::string_view key) {
  auto v = txn.get(store::table::meta, key);
  return v ? *v : std::string_view{};
}

void connect_client(sync_actor self) {
  auto& st = self->state;
  if (st.api) st.api->shutdown();
  st.api.reset();
  st.activity_types.clear();
  if (st.connection.settings.rest_url.empty()) return;
  st.api = marketo::client::make(*st.http, st.connection.settings, client_options(*st.ctx.cfg));
}

void load(sync_actor self) {
  auto& st = self->state;
  auto txn = st.ctx.db->read();
  if (auto text = meta(txn, connection_key); !text.empty())
    if (auto c = connection_from_json(json::parse(text, nullptr, false))) st.connection = std::move(*c);
  if (auto text = meta(txn, fields_key); !text.empty()) {
    auto j = json::parse(text, nullptr, false);
    if (j.is_array())
      for (const auto& f : j)
        if (f.is_string()) st.fields.push_back(f.get<std::string>());
  }
  if (st.fields.empty()) st.fields = {"email", "firstName", "lastName", "company", "title", "phone"};
  if (auto text = meta(txn, marketo::sync_meta_key); !text.empty())
    if (auto j = marketo::sync_job_from_json(text)) st.job = std::move(*j);
}

// The outcome of a test: stored with the connection, and answered.
void test_connection(sync_actor self, caf::typed_response_promise<msg::json_reply> promise) {
  auto& st = self->state;
  if (!st.api) {
    promise.deliver(problem(409, "not_connected", "no Marketo connection is set: PUT /v1/integrations/marketo"));
    return;
  }
  st.api->authenticate(on_actor(self, [self, promise](marketo::call_failure f) mutable {
    auto& st = self->state;
    st.connection.checked_ms = now_ms();
    if (f.kind == marketo::failure_kind::none) {
      st.connection.status = "connected";
      st.connection.error.clear();
    } else {
      st.connection.status = "failing";
      st.connection.error = f.message;
    }
    persist_meta(self, std::string{connection_key}, to_json(st.connection, true).dump(-1, ' ', false, json::error_handler_t::replace));
    promise.deliver(reply(200, to_json(st.connection, false)));
  }));
}

std::optional<std::string> check_connection(const json& body, connection_record& into) {
  if (!body.is_object()) return "the body is a JSON object: {rest_url, identity_url, client_id, client_secret, munchkin_id}";
  for (const auto& [k, v] : body.items()) {
    static const std::set<std::string> known = {"rest_url", "identity_url", "client_id", "client_secret", "munchkin_id"};
    if (!known.count(k)) return "unknown field \"" + k + "\"";
    if (!v.is_string()) return "\"" + k + "\" is a string";
    if (v.get<std::string>().size() > 2000) return "\"" + k + "\" is longer than 2000 characters";
  }
  auto url_ok = [](const std::string& u) { return u.rfind("https://", 0) == 0 || u.rfind("http://", 0) == 0; };
  into.settings.rest_url = body.value("rest_url", "");
  into.settings.identity_url = body.value("identity_url", "");
  into.settings.client_id = body.value("client_id", "");
  if (body.contains("client_secret")) into.settings.client_secret = body.value("client_secret", "");
  into.settings.munchkin_id = body.value("munchkin_id", "");
  if (!url_ok(into.settings.rest_url)) return "rest_url is the REST API endpoint: https://123-ABC-456.mktorest.com/rest";
  if (!into.settings.identity_url.empty() && !url_ok(into.settings.identity_url))
    return "identity_url is the Identity endpoint: https://123-ABC-456.mktorest.com/identity";
  if (into.settings.client_id.empty()) return "client_id is missing (Admin > LaunchPoint > View Details)";
  if (into.settings.client_secret.empty()) return "client_secret is missing (Admin > LaunchPoint > View Details)";
  const auto& m = into.settings.munchkin_id;
  if (!m.empty() && (m.size() != 11 || m[3] != '-' || m[7] != '-'))
    return "munchkin_id looks like 123-ABC-456 (Admin > Munchkin)";
  return std::nullopt;
}

void put_connection(sync_actor self, const std::string& body, caf::typed_response_promise<msg::json_reply> promise) {
  auto& st = self->state;
  auto parsed = json::parse(body, nullptr, false, true);
  connection_record next = st.connection; // an omitted secret keeps the stored one
  if (parsed.is_discarded()) return promise.deliver(problem(400, "bad_json", "the body is not JSON")), void();
  if (auto why = check_connection(parsed, next)) return promise.deliver(problem(400, "bad_value", *why)), void();
  next.status = "not_connected";
  next.error.clear();
  next.checked_ms = 0;
  store::write_batch batch;
  store::writes::put_meta(batch, connection_key, to_json(next, true).dump(-1, ' ', false, json::error_handler_t::replace));
  self->request(st.ctx.writer, caf::infinite, msg::write_atom::value, std::move(batch))
    .then(
      [self, next, promise](std::uint64_t) mutable {
        self->state.connection = next;
        connect_client(self);
        test_connection(self, promise);
      },
      [promise](caf::error&) mutable { promise.deliver(problem(503, "store_failed", "the connection could not be stored")); });
}

void delete_connection(sync_actor self, caf::typed_response_promise<msg::json_reply> promise) {
  auto& st = self->state;
  if (st.job.active()) cancel_sync(self, "the Marketo connection was removed");
  store::write_batch batch;
  store::writes::put_meta(batch, connection_key, to_json(connection_record{}, true).dump(-1, ' ', false, json::error_handler_t::replace));
  self->request(st.ctx.writer, caf::infinite, msg::write_atom::value, std::move(batch))
    .then(
      [self, promise](std::uint64_t) mutable {
        self->state.connection = {};
        connect_client(self);
        promise.deliver(reply(200, to_json(self->state.connection, false)));
      },
      [promise](caf::error&) mutable { promise.deliver(problem(503, "store_failed", "the connection could not be stored")); });
}

// field -> the names of the dialogues (drafts or published versions) that use it.
std::map<std::string, std::vector<std::string>> fields_in_use(sync_actor self) {
  std::map<std::string, std::set<std::string>> uses;
  auto txn = self->state.ctx.db->read();
  for (const auto& d : store::load_dialogues(txn)) {
    std::vector<std::string> texts{d.draft};
    if (d.published_version > 0)
      if (auto v = store::load_dialogue_version(txn, d.id, d.published_version)) texts.push_back(*v);
    for (const auto& text : texts) {
      auto j = json::parse(text, nullptr, false);
      if (j.is_discarded()) continue;
      auto checked = dialogue::decode(j); // the limits REST saves it under
      if (!checked.value) continue;
      for (const auto& ref : dialogue::lead_fields_used(*checked.value)) uses[ref.attribute].insert(d.name);
    }
  }
  // Routing reads lead fields too: a rule's conditions, and account routing's own.
  routing::rule_book book;
  routing::reload_part(book, txn, "rules");
  for (const auto& r : book.rules)
    for (const auto& cond : r.conditions) uses[cond.attribute].insert("routing rule " + r.name);
  if (txn.entries(store::table::routing_accounts) > 0)
    for (const char* f : {"website", "company"}) uses[f].insert("account routing");
  std::map<std::string, std::vector<std::string>> out;
  for (auto& [f, names] : uses) out[f] = {names.begin(), names.end()};
  return out;
}

json fields_json(sync_actor self) {
  auto& st = self->state;
  json described = json::array();
  for (const auto& f : st.described) {
    auto j = marketo::to_json(f);
    j["selected"] = std::find(st.fields.begin(), st.fields.end(), f.name) != st.fields.end();
    described.push_back(std::move(j));
  }
  return {{"selected", st.fields}, {"max", marketo::max_selected_fields}, {"fields", described},
          {"described", !st.described.empty()}};
}

// Marketo's field list, fresh when connected; then `then` runs (with an error message or "").
void describe(sync_actor self, std::function<void(std::string)> then) {
  auto& st = self->state;
  if (!st.api) return then("");
  marketo::call_spec spec;
  spec.path = "/rest/v1/leads/describe.json";
  st.api->call(std::move(spec), on_actor(self, [self, then](marketo::call_result r) {
    if (!r) return then(r.failure.message);
    self->state.described = marketo::parse_describe(r.answer);
    then("");
  }));
}

void put_fields(sync_actor self, const std::string& body, caf::typed_response_promise<msg::json_reply> promise) {
  auto parsed = json::parse(body, nullptr, false, true);
  if (parsed.is_discarded()) return promise.deliver(problem(400, "bad_json", "the body is not JSON")), void();
  if (!parsed.is_object() || !parsed.contains("fields") || !parsed["fields"].is_array())
    return promise.deliver(problem(400, "bad_value", "the body is {\"fields\": [\"firstName\", ...]}")), void();
  std::vector<std::string> requested;
  for (const auto& f : parsed["fields"]) {
    if (!f.is_string() || f.get<std::string>().size() > 200)
      return promise.deliver(problem(400, "bad_value", "every field is a name (a string of at most 200 characters)")), void();
    requested.push_back(f.get<std::string>());
  }
  if (requested.size() > 1000)
    return promise.deliver(problem(400, "bad_value", "at most 50 fields can be synced")), void();
  describe(self, [self, requested, promise](std::string describe_error) mutable {
    auto& st = self->state;
    if (!describe_error.empty())
      return promise.deliver(problem(502, "marketo_failed", "Marketo's field list could not be read: " + describe_error)), void();
    auto outcome = marketo::check_selection(requested, st.described, st.fields, fields_in_use(self));
    if (!outcome.errors.empty()) {
      json details = json::array();
      for (auto& e : outcome.errors) details.push_back(e);
      return promise.deliver(problem(400, "bad_value", outcome.errors.front(), details)), void();
    }
    json list = outcome.fields;
    store::write_batch batch;
    store::writes::put_meta(batch, fields_key, list.dump(-1, ' ', false, json::error_handler_t::replace));
    self->request(st.ctx.writer, caf::infinite, msg::write_atom::value, std::move(batch))
      .then(
        [self, outcome, promise](std::uint64_t) mutable {
          auto& st = self->state;
          st.fields = outcome.fields;
          // New fields are brought in by a full sync (Marketo's export has every row).
          bool syncing = false;
          if (!outcome.added.empty() && st.api && !st.job.active() && st.job.state != "idle") {
            start_sync(self, "full");
            syncing = true;
          }
          auto j = fields_json(self);
          j["added"] = outcome.added;
          j["removed"] = outcome.removed;
          j["sync_started"] = syncing;
          promise.deliver(reply(200, j));
        },
        [promise](caf::error&) mutable { promise.deliver(problem(503, "store_failed", "the fields could not be stored")); });
  });
}

// Whatever goes wrong with one answer from Marketo stays with it: chat never stops for
// Marketo (an LMDB read that fails, a value no JSON can hold).
// A continuation that threw never comes back: the outbox's "under way" marks it left
// go with it, or the outbox would wait for it for ever (a sync job in flight is
// restarted by its next start or restart; the error is in the log).
template <class Fn>
void contained(sync_actor self, const char* what, Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    spdlog::error("marketo: handling {} failed: {}", what, e.what());
    self->state.delivering = false;
    self->state.pushing = false;
  }
}

} // namespace
} // namespace dynchat::marketo_sync

namespace dynchat {

marketo_sync_actor spawn_marketo_sync(caf::actor_system& sys, const actor_context& ctx) {
  using namespace marketo_sync;
  // Detached: parsing an export file runs on a thread of its own at marketo.cpu_priority,
  // as does the client's HTTP thread, so the CPU goes to chat first.
  return sys.spawn<caf::detached>([ctx](sync_actor self) -> marketo_sync_actor::behavior_type {
    auto& st = self->state;
    st.ctx = ctx;
    lower_priority("dynchat.mkto", ctx.cfg->marketo.cpu_priority);
    st.http = std::make_unique<http::runner>(http_options(*ctx.cfg));
    boost::asio::post(st.http->context(), [p = ctx.cfg->marketo.cpu_priority] { lower_priority("dynchat.mkto.io", p); });
    guard_store([&] { load(self); }, [](const store::store_error& e) {
      spdlog::error("marketo: the stored connection could not be read: {}", e.what());
    });
    connect_client(self);
    if (st.api && st.job.active()) {
      spdlog::info("marketo: resuming the {} sync at window {} of {}", st.job.kind, st.job.window + 1, st.job.windows.size());
      resume_sync(self);
    } else if (st.api && st.job.state != "idle") {
      schedule_incremental(self);
    }
    self->send(self, msg::wake_atom::value);
    return {
      [=](msg::mconn_atom, const std::string& body) -> caf::result<msg::json_reply> {
        auto promise = self->make_response_promise<msg::json_reply>();
        if (body.empty()) promise.deliver(reply(200, to_json(self->state.connection, false)));
        else if (body == "delete") delete_connection(self, promise);
        else put_connection(self, body, promise);
        return promise;
      },
      [=](msg::mtest_atom) -> caf::result<msg::json_reply> {
        auto promise = self->make_response_promise<msg::json_reply>();
        test_connection(self, promise);
        return promise;
      },
      [=](msg::mfields_atom, const std::string& body) -> caf::result<msg::json_reply> {
        auto promise = self->make_response_promise<msg::json_reply>();
        if (!body.empty()) {
          put_fields(self, body, promise);
        } else {
          describe(self, [self, promise](std::string error) mutable {
            auto j = fields_json(self);
            if (!error.empty()) j["describe_error"] = error;
            promise.deliver(reply(200, j));
          });
        }
        return promise;
      },
      [=](msg::msync_atom, const std::string& what) -> msg::json_reply {
        auto& st = self->state;
        if (what == "start") {
          if (!st.api) return problem(409, "not_connected", "no Marketo connection is set: PUT /v1/integrations/marketo");
          if (st.job.active()) return problem(409, "sync_running", "a sync is under way", sync_status(self));
          start_sync(self, "full");
          return reply(202, sync_status(self));
        }
        if (what == "cancel") {
          if (!st.job.active()) return problem(409, "no_sync", "no sync is under way");
          cancel_sync(self, "cancelled over REST");
          return reply(200, sync_status(self));
        }
        return reply(200, sync_status(self));
      },
      [=](msg::mlead_atom, const std::string& email, const std::string& cookie) -> caf::result<msg::lead_found> {
        auto promise = self->make_response_promise<msg::lead_found>();
        resolve_lead(self, email, cookie, promise);
        return promise;
      },
      [=](msg::mleadact_atom, const std::string& lead_id) -> caf::result<msg::json_reply> {
        auto promise = self->make_response_promise<msg::json_reply>();
        lead_activities(self, lead_id, promise);
        return promise;
      },
      [=](msg::moutbox_atom, const std::string& what) -> caf::result<msg::json_reply> {
        auto promise = self->make_response_promise<msg::json_reply>();
        if (what == "retry") retry_dead_letters(self, promise);
        else promise.deliver(reply(200, outbox_status(self)));
        return promise;
      },
      [=](msg::mstep_atom, msg::marketo_step& step) { contained(self, "a Marketo answer", [&] { step.fn(); }); },
      [=](msg::wake_atom) {
        contained(self, "the outbox", [&] { outbox_tick(self); });
        self->delayed_send(self, std::chrono::milliseconds{self->state.ctx.cfg->marketo.activity_interval_ms},
                           msg::wake_atom::value);
      },
      [=](msg::shutdown_atom) {
        auto& st = self->state;
        if (st.api) st.api->shutdown();
        st.api.reset();
        st.http.reset(); // cancels the calls in flight and joins its thread
        self->quit();
      },
    };
  });
}

} // namespace dynchat
