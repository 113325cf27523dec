#pragma once
// What every REST handler gets: the serving actor (for its context and to ask other
// actors), the request's path parameters and query, who is calling, and where the
// response goes. Plus the response helpers every handler shares, so there is one error
// envelope and one way to parse a body.
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/context.hpp"
#include "dynchat/dialogue/validate.hpp"
#include "dynchat/net/frame_sink.hpp"
#include "dynchat/protocol/error_code.hpp"
#include "dynchat/rest/query.hpp"
#include "dynchat/rest/roles.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat::rest_api {

using json = nlohmann::json;
using reply_fn = std::function<void(net::http_response)>;

struct rest_state {
  actor_context ctx;
  std::string admin_hash;
  // API tokens whose write is in flight, by id. Requests are served one at a time but
  // their writes commit later: these count against server.max_api_tokens until they are
  // stored, and an agent deleted meanwhile takes its own along.
  std::map<std::string, store::api_token_record> tokens_in_flight;
  // Agents whose deletion is in flight (once per deletion): a new token may not name them.
  std::multiset<std::string> agents_being_deleted;
  // Requests that read, then write, one thing, run one at a time per key (an agent's
  // updates; every dialogue change, for their priorities and version numbers): each reads
  // the store once the write before it settled, so two do not undo each other and a
  // failed one leaves nothing behind. The ones waiting, by key.
  std::map<std::string, std::deque<std::function<void(std::function<void()>)>>> serial;
  static inline const char* name = "rest_api";
};
using rest_actor = rest_actor_handle::stateful_pointer<rest_state>;

struct call {
  rest_actor self;
  std::string method;
  std::string body;
  std::map<std::string, std::string> params;
  rest::query query;
  rest::principal caller;
  reply_fn reply;

  const actor_context& ctx() const { return self->state.ctx; }
  const std::string& param(const std::string& name) const { return params.at(name); }
};

net::http_response json_response(unsigned status, const json& body);
net::http_response error_response(unsigned status, protocol::error_code code, std::string_view message);
net::http_response no_content();
/// 400 bad_value listing every problem ({path, reason}); `what` names the thing refused.
net::http_response problems_response(const std::string& what, const std::vector<dialogue::problem>& problems);

/// False (and the 400 sent) when the query has a problem or a parameter nobody read.
bool query_ok(call& c);
/// The body as JSON, through the same nesting and size guard as websocket frames;
/// nullopt (and the 400 sent) when it is not valid.
std::optional<json> parse_body(const call& c);
/// Commits the batch through the store writer, then runs `done`; 503 when it fails.
/// `settled`, when given, runs first either way.
void write_then(const call& c, store::write_batch batch, std::function<void()> done,
                std::function<void()> settled = {});
/// Runs `fn` now, or once every request queued before it under `key` is done. `fn` gets
/// `done`, to call exactly once: when its write settled, or at once if it wrote nothing.
/// A store failure or an exception inside `fn` answers the request (503, 500) and counts
/// as done.
using serial_fn = std::function<void(call c, std::function<void()> done)>;
void serially(call c, const std::string& key, serial_fn fn);
/// The agent named in the path ({id}), or nullopt with the 404 (or, for another agent's
/// token, 403) sent. An agent whose deletion is in flight is gone already.
std::optional<store::agent_record> agent_in_path(const call& c);
/// An id-valued parameter: empty when absent; recorded as a query error when not an id.
std::string id_param(rest::query& q, const std::string& name);

} // namespace dynchat::rest_api
