#include "actors/rest/call.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/protocol/codec.hpp"
#include <spdlog/spdlog.h>

namespace dynchat::rest_api {

using protocol::error_code;

net::http_response json_response(unsigned status, const json& body) {
  return {status, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace), {}};
}

net::http_response error_response(unsigned status, error_code code, std::string_view message) {
  return {status, "application/json", protocol::error_envelope(code, message), {}};
}

net::http_response no_content() { return {204, "application/json", {}, {}}; }

bool query_ok(call& c) {
  if (auto err = c.query.error()) {
    c.reply(error_response(400, error_code::bad_parameter, *err));
    return false;
  }
  return true;
}

std::optional<json> parse_body(const call& c) {
  auto parsed = protocol::parse_json(c.body);
  if (!parsed) {
    c.reply(error_response(400, error_code::bad_json, "the body is not valid JSON: " + parsed.error().message));
    return std::nullopt;
  }
  return std::move(*parsed);
}

net::http_response problems_response(const std::string& what, const std::vector<dialogue::problem>& problems) {
  json list = json::array();
  for (const auto& p : problems) list.push_back({{"path", p.path}, {"reason", p.reason}});
  json envelope{{"error",
                 {{"code", protocol::to_string(error_code::bad_value)},
                  {"message", what + " has " + std::to_string(problems.size()) + " problem(s); nothing was stored"},
                  {"problems", std::move(list)}}}};
  return json_response(400, envelope);
}

void write_then(const call& c, store::write_batch batch, std::function<void()> done, std::function<void()> settled) {
  c.self->request(c.ctx().writer, caf::infinite, msg::write_atom::value, std::move(batch))
    .then(
      [done = std::move(done), settled](std::uint64_t) {
        if (settled) settled();
        done();
      },
      [reply = c.reply, settled](caf::error&) {
        if (settled) settled();
        reply(error_response(503, error_code::store_failed, "the change could not be stored"));
      });
}

std::optional<store::agent_record> agent_in_path(const call& c) {
  const auto& id = c.param("id");
  if (!c.caller.may_see_agent(id)) {
    c.reply(error_response(403, error_code::forbidden, "an agent token sees only its own agent"));
    return std::nullopt;
  }
  const auto& st = c.self->state;
  if (st.agents_being_deleted.count(id)) {
    c.reply(error_response(404, error_code::not_found, "no such agent"));
    return std::nullopt;
  }
  auto txn = c.ctx().db->read();
  auto found = store::load_agent(txn, id);
  if (!found) c.reply(error_response(404, error_code::not_found, "no such agent"));
  return found;
}

std::string id_param(rest::query& q, const std::string& name) {
  auto v = q.text(name);
  if (!v.empty() && !is_id(v)) q.fail("parameter '" + name + "' must be a 32-character id");
  return v;
}

namespace {

void serial_next(rest_actor self, const std::string& key) {
  auto& queues = self->state.serial;
  auto it = queues.find(key);
  if (it == queues.end()) return;
  if (it->second.empty()) {
    queues.erase(it);
    return;
  }
  auto fn = std::move(it->second.front());
  it->second.pop_front();
  fn([self, key] { serial_next(self, key); });
}

} // namespace

void serially(call c, const std::string& key, serial_fn fn) {
  auto self = c.self;
  auto guarded = [c = std::move(c), fn = std::move(fn), key](std::function<void()> done) mutable {
    auto reply = c.reply;
    const auto what = c.method + " (" + key + ")";
    try {
      fn(std::move(c), done);
    } catch (const store::store_error& e) {
      spdlog::error("REST {}: store: {}", what, e.what());
      reply(error_response(503, error_code::store_failed, "the store could not be read"));
      done();
    } catch (const std::exception& e) {
      spdlog::error("REST {}: {}", what, e.what());
      reply(error_response(500, error_code::internal, "internal error; it is logged"));
      done();
    }
  };
  auto [it, fresh] = self->state.serial.try_emplace(key);
  if (!fresh) {
    it->second.push_back(std::move(guarded));
    return;
  }
  guarded([self, key] { serial_next(self, key); });
}

} // namespace dynchat::rest_api
