// The client's face and its core: admission (a bounded FIFO queue in front of an
// overall and a per-origin slot count) and the pool of idle keep-alive connections.
#include "dynchat/http/client.hpp"

#include <algorithm>
#include <cctype>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "detail.hpp"

namespace dynchat::http {

std::string_view to_string(error_kind kind) noexcept {
  switch (kind) {
  case error_kind::bad_url: return "bad_url";
  case error_kind::bad_request: return "bad_request";
  case error_kind::dns: return "dns";
  case error_kind::connect: return "connect";
  case error_kind::tls: return "tls";
  case error_kind::timeout: return "timeout";
  case error_kind::connection_closed: return "connection_closed";
  case error_kind::protocol: return "protocol";
  case error_kind::too_large: return "too_large";
  case error_kind::too_many_redirects: return "too_many_redirects";
  case error_kind::redirect_refused: return "redirect_refused";
  case error_kind::queue_full: return "queue_full";
  case error_kind::cancelled: return "cancelled";
  }
  return "?";
}

std::string_view to_string(phase where) noexcept {
  switch (where) {
  case phase::queued: return "queued";
  case phase::resolve: return "resolve";
  case phase::connect: return "connect";
  case phase::tls_handshake: return "tls_handshake";
  case phase::write: return "write";
  case phase::headers: return "headers";
  case phase::body: return "body";
  case phase::done: return "done";
  }
  return "?";
}

std::string_view response::header_value(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.name.size() == name.size() &&
        std::equal(h.name.begin(), h.name.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return h.value;
  }
  return {};
}

void request_handle::cancel() const {
  if (auto op = op_.lock()) boost::asio::post(op->strand(), [op] { op->cancel(); });
}

client::client(boost::asio::io_context& ioc, client_options options)
  : core_(std::make_shared<detail::core>(ioc, std::move(options))) {}

client::~client() { shutdown(); }

request_handle client::request(request_spec spec, callback done) {
  auto op = std::make_shared<detail::exchange>(core_, std::move(spec), std::move(done));
  // Posted even on the strand: the callback must never run inside request().
  boost::asio::post(core_->strand, [op] { op->start(); });
  return request_handle{op};
}

void client::shutdown() {
  boost::asio::dispatch(core_->strand, [c = core_] { c->stop(); });
}

namespace detail {
namespace {

// A limit of zero would admit nothing, ever.
client_options sane(client_options o) {
  o.max_in_flight = std::max<std::size_t>(o.max_in_flight, 1);
  o.max_in_flight_per_origin = std::max<std::size_t>(o.max_in_flight_per_origin, 1);
  o.idle_timeout = std::clamp(o.idle_timeout, std::chrono::milliseconds{0}, std::chrono::milliseconds{std::chrono::hours{24}});
  return o;
}

} // namespace

core::core(asio::io_context& io, client_options o)
  : ioc(io), strand(asio::make_strand(io)), opts(sane(std::move(o))), tls(make_tls_context(opts.tls)) {}

void core::submit(const std::shared_ptr<exchange>& op) {
  if (stopping) return op->fail(error_kind::cancelled, "the client is shut down");
  op->arm_queue_deadline();
  queue.push_back(op);
  op->queued = true;
  pump();
  // Only what pump() could not admit counts against the queue's length.
  if (op->queued && queue.size() > opts.max_queued)
    op->fail(error_kind::queue_full, std::to_string(opts.max_queued) + " requests are already waiting");
}

void core::requeue_front(const std::shared_ptr<exchange>& op) {
  if (stopping) return op->fail(error_kind::cancelled, "the client is shut down");
  op->arm_queue_deadline();
  queue.push_front(op);
  op->queued = true;
  pump();
}

void core::release(exchange& op) {
  if (op.queued) {
    op.queued = false;
    std::erase_if(queue, [&](const std::weak_ptr<exchange>& w) {
      auto s = w.lock();
      return !s || s.get() == &op;
    });
  }
  if (op.has_slot) {
    op.has_slot = false;
    running.erase(op.id());
    if (auto it = running_per_origin.find(op.origin()); it != running_per_origin.end() && --it->second == 0)
      running_per_origin.erase(it);
  }
}

void core::pump() {
  if (stopping) return;
  std::vector<std::shared_ptr<exchange>> admitted;
  for (auto it = queue.begin(); it != queue.end() && running.size() < opts.max_in_flight;) {
    auto op = it->lock();
    if (!op) {
      it = queue.erase(it); // its io_context was torn down under it
      continue;
    }
    auto& on_origin = running_per_origin[op->origin()];
    if (on_origin >= opts.max_in_flight_per_origin) {
      ++it;
      continue;
    }
    ++on_origin;
    it = queue.erase(it);
    op->queued = false;
    op->has_slot = true;
    running.emplace(op->id(), op);
    admitted.push_back(std::move(op));
  }
  std::erase_if(running_per_origin, [](const auto& entry) { return entry.second == 0; });
  // Started once the queue is consistent again: starting may finish, and finishing pumps.
  for (auto& op : admitted) op->on_admitted();
}

std::unique_ptr<connection> core::checkout(const std::string& origin) {
  for (auto it = idle.end(); it != idle.begin();) {
    --it;
    if ((*it)->origin() != origin) continue;
    auto c = std::move(*it);
    it = idle.erase(it);
    c->idle_timer.cancel();
    if (c->still_usable()) return c;
    spdlog::debug("http: a pooled connection to {} was closed by the server", origin);
    c->close();
  }
  return nullptr;
}

void core::checkin(std::unique_ptr<connection> c) {
  if (stopping || opts.max_idle_total == 0 || opts.max_idle_per_origin == 0) return c->close();
  const auto same_origin = [&](const std::unique_ptr<connection>& other) { return other->origin() == c->origin(); };
  // The oldest make way: they are the likeliest to have been closed by the server.
  if (static_cast<std::size_t>(std::count_if(idle.begin(), idle.end(), same_origin)) >= opts.max_idle_per_origin) {
    auto oldest = std::find_if(idle.begin(), idle.end(), same_origin);
    (*oldest)->close();
    idle.erase(oldest);
  }
  if (idle.size() >= opts.max_idle_total) {
    idle.front()->close();
    idle.pop_front();
  }
  const auto generation = next_idle_generation++;
  c->idle_generation = generation;
  c->idle_timer.expires_after(opts.idle_timeout);
  // Weak: an idle connection must not keep a destroyed client's core alive.
  c->idle_timer.async_wait([weak = weak_from_this(), raw = c.get(), generation](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->expire_idle(raw, generation);
  });
  idle.push_back(std::move(c));
}

// `c` is only compared, never followed, until found in the pool: it may be long gone.
void core::expire_idle(const connection* c, std::uint64_t generation) {
  auto it = std::find_if(idle.begin(), idle.end(), [&](const std::unique_ptr<connection>& p) {
    return p.get() == c && p->idle_generation == generation;
  });
  if (it == idle.end()) return;
  (*it)->close();
  idle.erase(it);
}

void core::stop() {
  if (stopping) return;
  stopping = true;
  std::vector<std::shared_ptr<exchange>> ops;
  for (auto& w : queue)
    if (auto op = w.lock()) ops.push_back(std::move(op));
  for (auto& [id, w] : running)
    if (auto op = w.lock()) ops.push_back(std::move(op));
  for (auto& op : ops) op->fail(error_kind::cancelled, "the client is shutting down");
  for (auto& c : idle) c->close();
  idle.clear();
}

void core::deliver(client::callback& done, outcome o) {
  if (!done) return;
  asio::post(ioc, [done = std::move(done), o = std::move(o)]() mutable { done(std::move(o)); });
}

} // namespace detail
} // namespace dynchat::http
