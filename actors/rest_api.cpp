#include "actors/rest_api.hpp"

#include <map>

#include <caf/all.hpp>
#include <fmt/format.h>

#include "actors/messages.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat {
namespace {

using json = nlohmann::json;
using reply_fn = std::function<void(net::http_response)>;

struct rest_state {
  actor_context ctx;
  std::string admin_hash;
  static inline const char* name = "rest_api";
};
using rest_actor = caf::stateful_actor<rest_state>;

net::http_response json_response(unsigned status, const json& body) {
  return {status, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

net::http_response error_response(unsigned status, std::string_view code, std::string_view message) {
  return json_response(status, json{{"error", {{"code", code}, {"message", message}}}});
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') out += ' ';
    else if (s[i] == '%' && i + 2 < s.size()) {
      auto hex = std::string{s.substr(i + 1, 2)};
      char* end = nullptr;
      long v = std::strtol(hex.c_str(), &end, 16);
      if (end == hex.c_str() + 2) {
        out += static_cast<char>(v);
        i += 2;
      } else {
        out += s[i];
      }
    } else out += s[i];
  }
  return out;
}

struct target {
  std::vector<std::string> segments; // path split on '/', without the leading "v1"
  std::map<std::string, std::string> query;
};

target parse_target(std::string_view t) {
  target out;
  auto q = t.find('?');
  std::string_view path = t.substr(0, q);
  std::size_t pos = 0;
  while (pos < path.size()) {
    auto next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    if (next > pos) out.segments.push_back(percent_decode(path.substr(pos, next - pos)));
    pos = next + 1;
  }
  if (q != std::string_view::npos) {
    std::string_view query = t.substr(q + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      auto pair = query.substr(0, amp);
      auto eq = pair.find('=');
      out.query[percent_decode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
      if (amp == std::string_view::npos) break;
      query = query.substr(amp + 1);
    }
  }
  return out;
}

std::optional<std::int64_t> query_int(const target& t, const char* key) {
  auto it = t.query.find(key);
  if (it == t.query.end() || it->second.empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    auto v = std::stoll(it->second, &used);
    if (used != it->second.size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

json agent_json(const store::agent_record& a) {
  return json{{"id", a.id}, {"name", a.name}, {"email", a.email}, {"max_chats", a.max_chats}, {"created", a.created_ms}};
}

json conversation_json(const store::conversation_record& c) {
  return json{{"id", c.id},
              {"visitor_id", c.visitor_id},
              {"status", store::to_string(c.phase)},
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
  return j;
}

std::string iso_time(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

// Validates and applies the writable agent fields of a JSON body; returns an error text.
std::string apply_agent_fields(const json& body, store::agent_record& a, bool creating) {
  if (!body.is_object()) return "the body must be a JSON object";
  if (auto it = body.find("name"); it != body.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().empty() || it->get_ref<const std::string&>().size() > 100)
      return "name must be a string of 1 to 100 bytes";
    a.name = it->get<std::string>();
  } else if (creating) {
    return "name is required";
  }
  if (auto it = body.find("email"); it != body.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().size() > 254) return "email must be a string";
    a.email = it->get<std::string>();
  }
  if (auto it = body.find("max_chats"); it != body.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 10)
      return "max_chats must be an integer from 1 to 10";
    a.max_chats = static_cast<std::uint32_t>(it->get<std::int64_t>());
  }
  return {};
}

void write_then(rest_actor* self, store::write_batch batch, std::function<void()> done, reply_fn reply) {
  self->request(self->state.ctx.writer, caf::infinite, msg::write_atom::value, std::move(batch))
    .then([done = std::move(done)](std::uint64_t) { done(); },
          [reply](caf::error&) { reply(error_response(503, "store_failed", "the change could not be stored")); });
}

void list_agents(rest_actor* self, reply_fn reply) {
  std::vector<store::agent_record> agents;
  {
    auto txn = self->state.ctx.db->read();
    agents = store::load_agents(txn);
  }
  self->request(self->state.ctx.router, std::chrono::seconds{5}, msg::snapshot_atom::value)
    .then(
      [=](const std::string& snapshot) {
        auto routing = json::parse(snapshot, nullptr, false);
        std::map<std::string, json> live;
        if (routing.is_object())
          for (auto& a : routing["order"]) live[a["agent_id"].get<std::string>()] = a;
        json out = json::array();
        for (auto& a : agents) {
          auto j = agent_json(a);
          auto it = live.find(a.id);
          j["available"] = it != live.end() && it->second["available"].get<bool>();
          j["active_chats"] = it != live.end() ? it->second["active"] : json(0);
          out.push_back(std::move(j));
        }
        reply(json_response(200, json{{"agents", std::move(out)}}));
      },
      [=](caf::error&) { reply(error_response(503, "unavailable", "the router did not answer")); });
}

void create_agent(rest_actor* self, const std::string& body, reply_fn reply) {
  auto parsed = json::parse(body, nullptr, false);
  store::agent_record a;
  a.max_chats = self->state.ctx.cfg->chat.default_max_chats;
  if (parsed.is_discarded()) return reply(error_response(400, "bad_json", "the body is not valid JSON"));
  if (auto err = apply_agent_fields(parsed, a, true); !err.empty()) return reply(error_response(400, "bad_value", err));
  a.id = new_id();
  a.created_ms = now_ms();
  const std::string token = new_secret(32);
  a.token_hash = sha256_hex(token);
  store::write_batch batch{{store::table::agents, a.id, store::encode(a), false},
                           {store::table::agent_tokens, a.token_hash, a.id, false}};
  write_then(self, std::move(batch), [=] {
    self->send(self->state.ctx.directory, msg::aadded_atom::value, a);
    auto j = agent_json(a);
    j["token"] = token; // shown once; only its hash is stored
    reply(json_response(201, j));
  }, reply);
}

void agent_item(rest_actor* self, const std::string& method, const std::string& id, const std::string& body,
                reply_fn reply) {
  std::optional<store::agent_record> found;
  {
    auto txn = self->state.ctx.db->read();
    found = store::load_agent(txn, id);
  }
  if (!found) return reply(error_response(404, "not_found", "no such agent"));
  auto a = *found;
  if (method == "GET") return reply(json_response(200, agent_json(a)));
  if (method == "PUT" || method == "PATCH") {
    auto parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded()) return reply(error_response(400, "bad_json", "the body is not valid JSON"));
    if (auto err = apply_agent_fields(parsed, a, false); !err.empty()) return reply(error_response(400, "bad_value", err));
    write_then(self, {{store::table::agents, a.id, store::encode(a), false}}, [=] {
      self->send(self->state.ctx.directory, msg::aadded_atom::value, a);
      reply(json_response(200, agent_json(a)));
    }, reply);
    return;
  }
  if (method == "DELETE") {
    write_then(self, {{store::table::agents, a.id, {}, true}, {store::table::agent_tokens, a.token_hash, {}, true}}, [=] {
      self->send(self->state.ctx.directory, msg::aremoved_atom::value, a.id);
      reply(net::http_response{204, "application/json", {}});
    }, reply);
    return;
  }
  reply(error_response(405, "method_not_allowed", "use GET, PUT or DELETE"));
}

void list_conversations(rest_actor* self, const target& t, reply_fn reply) {
  constexpr std::size_t scan_budget = 20000; // records examined per page at most
  auto limit = std::clamp<std::int64_t>(query_int(t, "limit").value_or(50), 1, 500);
  auto get = [&](const char* k) { auto it = t.query.find(k); return it == t.query.end() ? std::string{} : it->second; };
  const std::string status = get("status"), agent = get("agent_id"), visitor = get("visitor_id"), cursor = get("cursor");
  if (!status.empty() && !store::phase_from_string(status))
    return reply(error_response(400, "bad_value", "status must be bot, waiting, live or ended"));
  if (!cursor.empty() && !is_id(cursor)) return reply(error_response(400, "bad_value", "cursor is not a conversation id"));
  const auto since = query_int(t, "since").value_or(0);
  const auto until = query_int(t, "until").value_or(std::numeric_limits<std::int64_t>::max());
  json items = json::array();
  std::string next_cursor, last_examined;
  std::size_t examined = 0;
  auto txn = self->state.ctx.db->read();
  // Newest first: ids begin with their creation time. The cursor is exclusive: the next
  // page starts right after the last conversation this one examined.
  txn.scan_prefix_reverse(store::table::conversations, "", cursor, [&](std::string_view key, std::string_view value) {
    if (examined >= scan_budget || items.size() >= static_cast<std::size_t>(limit)) {
      next_cursor = last_examined;
      return false;
    }
    ++examined;
    last_examined = std::string{key};
    auto c = store::decode_conversation(value);
    if (!c) return true;
    if (c->created_ms < since) return false; // older than the window: nothing further can match
    if (c->created_ms > until) return true;
    if (!status.empty() && store::to_string(c->phase) != status) return true;
    if (!agent.empty() && c->agent_id != agent) return true;
    if (!visitor.empty() && c->visitor_id != visitor) return true;
    items.push_back(conversation_json(*c));
    return true;
  });
  json body{{"conversations", std::move(items)}};
  body["next_cursor"] = next_cursor.empty() ? json(nullptr) : json(next_cursor);
  reply(json_response(200, body));
}

void conversation_item(rest_actor* self, const target& t, const std::string& id, bool as_text, reply_fn reply) {
  auto txn = self->state.ctx.db->read();
  auto c = store::load_conversation(txn, id);
  if (!c) return reply(error_response(404, "not_found", "no such conversation"));
  const auto after = static_cast<std::uint64_t>(std::max<std::int64_t>(0, query_int(t, "after_seq").value_or(0)));
  const auto limit = static_cast<std::size_t>(std::clamp<std::int64_t>(query_int(t, "limit").value_or(1000), 1, 10000));
  auto messages = store::load_messages(txn, id, after, limit);
  if (as_text) {
    std::string text = fmt::format("Conversation {}\nVisitor {}\nPage {}\nStatus {}\n\n", c->id, c->visitor_id,
                                   c->page_url, store::to_string(c->phase));
    for (auto& [seq, m] : messages) {
      std::string who = m.from == "agent" ? (m.agent_name.empty() ? "Agent" : m.agent_name)
                        : m.from == "visitor" ? "Visitor" : m.from == "bot" ? "Bot" : "System";
      text += fmt::format("[{}] #{} {}: {}\n", iso_time(m.ts_ms), seq, who, m.text);
    }
    return reply(net::http_response{200, "text/plain; charset=utf-8", std::move(text)});
  }
  json list = json::array();
  for (auto& [seq, m] : messages) list.push_back(message_json(seq, m));
  auto body = conversation_json(*c);
  body["messages"] = std::move(list);
  reply(json_response(200, body));
}

void route(rest_actor* self, net::http_request& req, reply_fn reply) {
  auto t = parse_target(req.target);
  auto& seg = t.segments;
  if (seg.empty() || seg[0] != "v1") return reply(error_response(404, "not_found", "no such route"));
  const std::string prefix = "Bearer ";
  const bool authorized = req.authorization.size() > prefix.size() && req.authorization.compare(0, prefix.size(), prefix) == 0 &&
                          constant_time_equal(sha256_hex(req.authorization.substr(prefix.size())), self->state.admin_hash);
  if (!authorized) return reply(error_response(401, "unauthorized", "missing or wrong admin bearer token"));
  const auto& m = req.method;
  if (seg.size() == 2 && seg[1] == "agents") {
    if (m == "GET") return list_agents(self, reply);
    if (m == "POST") return create_agent(self, req.body, reply);
    return reply(error_response(405, "method_not_allowed", "use GET or POST"));
  }
  if (seg.size() == 3 && seg[1] == "agents") return agent_item(self, m, seg[2], req.body, reply);
  if (seg.size() == 2 && seg[1] == "conversations" && m == "GET") return list_conversations(self, t, reply);
  if (seg.size() == 3 && seg[1] == "conversations" && m == "GET") return conversation_item(self, t, seg[2], false, reply);
  if (seg.size() == 4 && seg[1] == "conversations" && seg[3] == "transcript.txt" && m == "GET")
    return conversation_item(self, t, seg[2], true, reply);
  if (seg.size() == 2 && seg[1] == "routing" && m == "GET") {
    self->request(self->state.ctx.router, std::chrono::seconds{5}, msg::snapshot_atom::value)
      .then([=](const std::string& s) { reply(net::http_response{200, "application/json", s}); },
            [=](caf::error&) { reply(error_response(503, "unavailable", "the router did not answer")); });
    return;
  }
  reply(error_response(404, "not_found", "no such route"));
}

caf::behavior rest_api(rest_actor* self, actor_context ctx, std::string admin_hash) {
  self->state.ctx = std::move(ctx);
  self->state.admin_hash = std::move(admin_hash);
  return {
    [=](msg::rest_atom, net::http_request& req, reply_fn& reply) {
      try {
        route(self, req, reply);
      } catch (const std::exception& e) {
        reply(error_response(500, "internal", e.what()));
      }
    },
    [=](msg::shutdown_atom) { self->quit(); },
  };
}

class rest_handler final : public net::http_handler {
public:
  explicit rest_handler(caf::actor actor) : actor_(std::move(actor)) {}
  ~rest_handler() override { caf::anon_send(actor_, msg::shutdown_atom::value); }
  void handle(net::http_request request, reply_fn reply) override {
    caf::anon_send(actor_, msg::rest_atom::value, std::move(request), std::move(reply));
  }

private:
  caf::actor actor_;
};

} // namespace

std::unique_ptr<net::http_handler> make_rest_api(caf::actor_system& sys, const actor_context& ctx,
                                                 std::string admin_token_hash) {
  return std::make_unique<rest_handler>(sys.spawn(rest_api, ctx, std::move(admin_token_hash)));
}

} // namespace dynchat
