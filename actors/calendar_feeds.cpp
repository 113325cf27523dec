// The feeds actor: it owns the HTTP client (actors never wait on the network) and the
// schedule; reading a feed's text into busy times is src/calendar/feed.cpp.
#include "actors/calendar_feeds.hpp"

#include <map>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/meeting_messages.hpp"
#include "dynchat/calendar/feed.hpp"
#include "dynchat/calendar/settings.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/http/runner.hpp"
#include "dynchat/store/meetings.hpp"

namespace dynchat {
namespace {

struct feeds_state {
  actor_context ctx;
  std::shared_ptr<http::runner> http;
  // Connections waiting for their first read, by agent: answered with the stored calendar.
  std::multimap<std::string, caf::typed_response_promise<store::calendar_record>> waiting;
  std::map<std::string, std::string> reading; // agent -> URL being read now: one read per agent at a time
  static inline const char* name = "calendar_feeds";
};
using feeds_ptr = calendar_feeds_actor::stateful_pointer<feeds_state>;

http::client_options client_options(const settings& cfg) {
  http::client_options o;
  const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.meetings.feed_timeout);
  o.timeouts.resolve = o.timeouts.connect = o.timeouts.tls_handshake = o.timeouts.write = o.timeouts.headers = limit;
  o.timeouts.body = limit;
  o.max_body_bytes = cfg.meetings.feed_max_bytes;
  o.max_in_flight = 8;
  o.max_in_flight_per_origin = 2; // many agents on one calendar provider: a few reads at a time
  o.user_agent = "dynchat-calendar/1";
  o.tls.ca_file = cfg.meetings.feed_ca_file;
  return o;
}

void read_feed(feeds_ptr self, const std::string& agent_id, const std::string& url) {
  auto& st = self->state;
  if (!st.reading.emplace(agent_id, url).second) return; // a read is under way; its answer serves this one too
  http::request_spec spec;
  spec.url = url;
  spec.headers.push_back({"Accept", "text/calendar"});
  calendar_feeds_actor me = self;
  st.http->client().request(std::move(spec), [me, agent_id, url](http::outcome out) {
    msg::feed_fetched f{agent_id, url, static_cast<bool>(out), 0, {}, {}};
    if (out) {
      f.status = out->status;
      f.body = std::move(out->body);
    } else {
      f.error = out.failure().message;
    }
    caf::anon_send(me, msg::fetched_atom::value, std::move(f));
  });
}

// The agent's zone and the calendar as the store has it: all-day events are read in it.
std::string agent_zone(const store::calendar_record& c) {
  auto s = calendar::settings_from_stored(c.settings_json);
  return s ? s->time_zone : "UTC";
}

void answer_waiting(feeds_ptr self, const std::string& agent_id, const caf::error* failed) {
  auto& st = self->state;
  auto [first, last] = st.waiting.equal_range(agent_id);
  std::optional<store::calendar_record> stored;
  if (!failed) stored = store::load_calendar(st.ctx.db->read(), agent_id);
  for (auto it = first; it != last; ++it) {
    if (failed) it->second.deliver(*failed);
    else it->second.deliver(stored.value_or(store::calendar_record{}));
  }
  st.waiting.erase(first, last);
}

void fetched(feeds_ptr self, msg::feed_fetched f) {
  auto& st = self->state;
  st.reading.erase(f.agent_id);
  auto before = store::load_calendar(st.ctx.db->read(), f.agent_id);
  // Disconnected, or moved to another address, while it was read: this read is stale.
  if (!before || before->source != "feed" || before->feed_url != f.url) {
    if (before && before->source == "feed") read_feed(self, f.agent_id, before->feed_url);
    else answer_waiting(self, f.agent_id, nullptr);
    return;
  }
  calendar::busy_limits limits;
  limits.max_bytes = st.ctx.cfg->meetings.feed_max_bytes;
  auto record = calendar::after_feed_read(f.agent_id, f.url, {f.answered, f.status, std::move(f.body), f.error},
                                          agent_zone(*before), now_ms(), limits);
  if (record.status != "ok") spdlog::warn("calendar feed of agent {}: {}", f.agent_id, record.error);
  const auto agent_id = f.agent_id;
  self->request(st.ctx.scheduler, std::chrono::seconds{30}, msg::calendar_atom::value, std::move(record))
    .then([self, agent_id](bool) { answer_waiting(self, agent_id, nullptr); },
          [self, agent_id](caf::error& e) { answer_waiting(self, agent_id, &e); });
}

void refresh_all(feeds_ptr self) {
  auto& st = self->state;
  for (const auto& c : store::load_calendars(st.ctx.db->read()))
    if (c.source == "feed" && !c.feed_url.empty()) read_feed(self, c.agent_id, c.feed_url);
  self->delayed_send(self, st.ctx.cfg->meetings.feed_refresh, msg::refresh_atom::value);
}

} // namespace

calendar_feeds_actor spawn_calendar_feeds(caf::actor_system& sys, const actor_context& ctx) {
  return sys.spawn([ctx](feeds_ptr self) -> calendar_feeds_actor::behavior_type {
    self->state.ctx = ctx;
    self->state.http = std::make_shared<http::runner>(client_options(*ctx.cfg));
    self->send(self, msg::refresh_atom::value); // every feed once at start, then on schedule
    return {
      // Connect (or move) an agent's feed: stored as connected at once, answered after
      // its first read with the calendar as it stands (ok, or failing and why).
      [=](msg::feed_atom, const std::string& agent_id, const std::string& url) -> caf::result<store::calendar_record> {
        auto& st = self->state;
        store::calendar_record connecting;
        connecting.agent_id = agent_id;
        connecting.source = "feed";
        connecting.feed_url = url;
        connecting.status = "failing";
        connecting.error = "not read yet";
        auto promise = self->make_response_promise<store::calendar_record>();
        st.waiting.emplace(agent_id, promise);
        self->request(st.ctx.scheduler, std::chrono::seconds{30}, msg::calendar_atom::value, connecting)
          .then([self, agent_id, url](bool) { read_feed(self, agent_id, url); },
                [self, agent_id](caf::error& e) { answer_waiting(self, agent_id, &e); });
        return promise;
      },
      [=](msg::fetched_atom, msg::feed_fetched& f) { fetched(self, std::move(f)); },
      [=](msg::refresh_atom) {
        guard_store([&] { refresh_all(self); },
                    [&](const store::store_error& e) {
                      spdlog::error("calendar feeds: the calendars could not be read: {}", e.what());
                      self->delayed_send(self, self->state.ctx.cfg->meetings.feed_refresh, msg::refresh_atom::value);
                    });
      },
      [=](msg::shutdown_atom) {
        self->state.http.reset(); // cancels the reads in flight and joins its thread
        self->quit();
      },
    };
  });
}

} // namespace dynchat
