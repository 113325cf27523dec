// The Marketo client's machinery. Everything below runs on the HTTP runner's io thread
// (a single thread), except call()/authenticate()/shutdown(), which post there; so its
// state needs no lock beyond the stats, which others read.
#include "dynchat/marketo/client.hpp"

#include <deque>
#include <mutex>
#include <random>
#include <set>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "dynchat/marketo/call_limiter.hpp"

namespace dynchat::marketo {

std::string_view to_string(failure_kind k) noexcept {
  switch (k) {
  case failure_kind::none: return "none";
  case failure_kind::marketo: return "marketo";
  case failure_kind::quota: return "quota";
  case failure_kind::auth: return "auth";
  case failure_kind::ambiguous: return "ambiguous";
  case failure_kind::transport: return "transport";
  case failure_kind::cancelled: return "cancelled";
  }
  return "none";
}

std::string rest_base(const std::string& rest_url) {
  std::string base = rest_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.size() >= 5 && base.compare(base.size() - 5, 5, "/rest") == 0) base.resize(base.size() - 5);
  return base;
}

std::string token_url(const connection_settings& conn) {
  std::string id = conn.identity_url;
  while (!id.empty() && id.back() == '/') id.pop_back();
  if (id.empty()) id = rest_base(conn.rest_url) + "/identity";
  return id + "/oauth/token";
}

namespace {

using steady = std::chrono::steady_clock;

struct operation {
  call_spec spec;
  client::callback done;
  unsigned attempts = 0;      // sent so far
  unsigned reauths = 0;
  bool waited = false;        // counted once in limiter_waits
};
using op_ptr = std::shared_ptr<operation>;

} // namespace

struct client::impl : std::enable_shared_from_this<client::impl> {
  impl(http::runner& h, connection_settings c, client_options o)
      : http(h), conn(std::move(c)), options(o), limiter(o.max_calls, o.window, o.max_concurrent),
        random(std::random_device{}()) {}

  http::runner& http;
  connection_settings conn;
  client_options options;
  call_limiter limiter;
  std::mt19937 random;

  std::string token;
  steady::time_point token_good_until{};
  bool fetching_token = false;
  unsigned token_attempts = 0;
  std::deque<op_ptr> waiting_token;
  std::vector<std::function<void(call_failure)>> auth_waiters;
  std::set<std::shared_ptr<boost::asio::steady_timer>> timers;
  bool stopped = false;

  mutable std::mutex stats_mutex;
  client_stats counters;

  void count(auto fn) {
    std::lock_guard lock{stats_mutex};
    fn(counters);
  }

  void later(std::chrono::milliseconds delay, std::function<void()> fn) {
    auto timer = std::make_shared<boost::asio::steady_timer>(http.context(), delay);
    timers.insert(timer);
    timer->async_wait([self = shared_from_this(), timer, fn = std::move(fn)](const boost::system::error_code& ec) {
      self->timers.erase(timer);
      if (ec || self->stopped) return;
      fn();
    });
  }

  std::chrono::milliseconds next_backoff(unsigned attempt) {
    std::uniform_real_distribution<double> jitter{0.0, 1.0};
    return backoff(attempt, options.backoff_base, options.backoff_cap, jitter(random));
  }

  static void finish(const op_ptr& op, call_result r) {
    r.attempts = op->attempts;
    auto done = std::move(op->done);
    if (done) done(std::move(r));
  }

  static call_result failed(failure_kind kind, std::string code, std::string message) {
    call_result r;
    r.failure = {kind, std::move(code), std::move(message), {}};
    return r;
  }

  // ---- the token ----
  bool token_fresh() const { return !token.empty() && steady::now() < token_good_until; }

  void start(const op_ptr& op) {
    if (stopped) return finish(op, failed(failure_kind::cancelled, "cancelled", "the Marketo client stopped"));
    if (!token_fresh()) {
      waiting_token.push_back(op);
      fetch_token();
      return;
    }
    acquire(op);
  }

  void fetch_token() {
    if (fetching_token || stopped) return;
    fetching_token = true;
    count([](client_stats& s) { s.token_requests++; });
    http::request_spec req;
    req.url = token_url(conn) + "?grant_type=client_credentials&client_id=" + url_encode(conn.client_id) +
              "&client_secret=" + url_encode(conn.client_secret);
    req.headers.push_back({"Accept", "application/json"});
    http.client().request(std::move(req), [self = shared_from_this()](http::outcome out) { self->token_answered(std::move(out)); });
  }

  void token_answered(http::outcome out) {
    fetching_token = false;
    if (stopped) return;
    call_failure failure;
    if (!out) {
      failure = {failure_kind::transport, std::string{http::to_string(out.failure().kind)},
                 "the identity service did not answer: " + out.failure().message, {}};
    } else if (out->status >= 500) {
      failure = {failure_kind::transport, "http " + std::to_string(out->status),
                 "the identity service answered HTTP " + std::to_string(out->status), {}};
    } else {
      auto parsed = parse_token(out->status, out->body);
      if (auto* t = std::get_if<access_token>(&parsed)) {
        token = t->value;
        const auto life = std::chrono::duration_cast<std::chrono::seconds>(t->expires_in);
        const auto margin = std::min(options.token_margin, life / 2);
        token_good_until = steady::now() + (life - margin);
        token_attempts = 0;
        auto waiters = std::move(waiting_token);
        waiting_token.clear();
        for (auto& op : waiters) acquire(op);
        auto auth = std::move(auth_waiters);
        auth_waiters.clear();
        for (auto& fn : auth) fn({});
        return;
      }
      failure = {failure_kind::auth, "identity", "Marketo refused the credentials: " + std::get<std::string>(parsed), {}};
    }
    // A transport failure is worth retrying; refused credentials are not.
    if (failure.kind == failure_kind::transport && token_attempts < options.max_retries) {
      ++token_attempts;
      later(next_backoff(token_attempts), [self = shared_from_this()] { self->fetch_token(); });
      return;
    }
    token_attempts = 0;
    auto waiters = std::move(waiting_token);
    waiting_token.clear();
    for (auto& op : waiters) {
      call_result r;
      r.failure = failure;
      finish(op, std::move(r));
    }
    auto auth = std::move(auth_waiters);
    auth_waiters.clear();
    for (auto& fn : auth) fn(failure);
  }

  // ---- the limiter and the call ----
  void acquire(const op_ptr& op) {
    if (stopped) return finish(op, failed(failure_kind::cancelled, "cancelled", "the Marketo client stopped"));
    if (auto wait = limiter.try_start(steady::now())) {
      if (!op->waited) {
        op->waited = true;
        count([](client_stats& s) { s.limiter_waits++; });
      }
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*wait) + std::chrono::milliseconds{1};
      later(ms, [self = shared_from_this(), op] { self->acquire(op); });
      return;
    }
    send(op);
  }

  void send(const op_ptr& op) {
    ++op->attempts;
    count([&](client_stats& s) {
      s.calls++;
      s.peak_in_flight = std::max(s.peak_in_flight, limiter.in_flight());
    });
    http::request_spec req;
    req.method = op->spec.method;
    req.url = rest_base(conn.rest_url) + op->spec.path;
    char sep = '?';
    for (const auto& [k, v] : op->spec.query) {
      req.url += sep + url_encode(k) + "=" + url_encode(v);
      sep = '&';
    }
    req.headers = op->spec.headers;
    req.headers.push_back({"Authorization", "Bearer " + token});
    if (!op->spec.raw) req.headers.push_back({"Accept", "application/json"});
    if (!op->spec.json_body.empty()) {
      req.headers.push_back({"Content-Type", "application/json"});
      req.body = op->spec.json_body;
    }
    http.client().request(std::move(req), [self = shared_from_this(), op, used = token](http::outcome out) {
      self->limiter.release();
      if (self->stopped) return finish(op, failed(failure_kind::cancelled, "cancelled", "the Marketo client stopped"));
      self->answered(op, used, std::move(out));
    });
  }

  void retry(const op_ptr& op, call_result last) {
    if (op->attempts > options.max_retries) {
      if (last.failure.kind == failure_kind::none) last.failure.kind = failure_kind::marketo;
      last.failure.message += " (after " + std::to_string(op->attempts) + " attempts)";
      return finish(op, std::move(last));
    }
    count([](client_stats& s) { s.retries++; });
    later(next_backoff(op->attempts), [self = shared_from_this(), op] { self->start(op); });
  }

  void reauthenticate(const op_ptr& op, const std::string& used, call_result last) {
    if (op->reauths >= 2) return finish(op, std::move(last));
    ++op->reauths;
    count([](client_stats& s) { s.reauthentications++; });
    if (token == used) token.clear(); // another call may have renewed it already
    start(op);
  }

  void answered(const op_ptr& op, const std::string& used, http::outcome out) {
    if (!out) {
      const auto& e = out.failure();
      // Refused before a byte of the request went out: Marketo surely did nothing.
      const bool never_sent = e.where == http::phase::queued || e.where == http::phase::resolve ||
                              e.where == http::phase::connect || e.where == http::phase::tls_handshake;
      auto r = failed(op->spec.idempotent || never_sent ? failure_kind::transport : failure_kind::ambiguous,
                      std::string{http::to_string(e.kind)}, "Marketo did not answer: " + e.message);
      if (e.kind == http::error_kind::cancelled) return finish(op, failed(failure_kind::cancelled, "cancelled", e.message));
      if (r.failure.kind == failure_kind::ambiguous) return finish(op, std::move(r));
      return retry(op, std::move(r));
    }
    call_result r;
    r.status = out->status;
    const std::string status_code = "http " + std::to_string(out->status);
    // A file answer is the file, unless it is Marketo's JSON envelope saying no (a 606,
    // a 601): that is handled like any other call's.
    const bool json_answer = out->header_value("Content-Type").find("json") != std::string_view::npos;
    if (op->spec.raw && (out->status == 200 || out->status == 206) && !(json_answer && out->body.size() < 64 * 1024 &&
                                                                       out->body.find("\"success\"") != std::string::npos)) {
      r.body = std::move(out->body);
      r.content_range = std::string{out->header_value("Content-Range")};
      return finish(op, std::move(r));
    }
    if (out->status != 200) {
      std::string said = out->body.substr(0, 300);
      r.failure = {failure_kind::marketo, status_code, "Marketo answered HTTP " + std::to_string(out->status) +
                                                           (said.empty() ? "" : ": " + said), {}};
      switch (remedy_for_status(out->status)) {
      case remedy::retry:
        if (!op->spec.idempotent) {
          r.failure.kind = failure_kind::ambiguous;
          return finish(op, std::move(r));
        }
        return retry(op, std::move(r));
      case remedy::authenticate: return reauthenticate(op, used, std::move(r));
      default: return finish(op, std::move(r));
      }
    }
    std::string why;
    auto env = parse_envelope(out->body, &why);
    if (!env) {
      r.failure = {failure_kind::marketo, "bad answer", "Marketo's answer could not be read: " + why, {}};
      return finish(op, std::move(r));
    }
    r.answer = std::move(*env);
    if (r.answer.success) return finish(op, std::move(r));
    const auto err = main_error(r.answer);
    r.failure = {failure_kind::marketo, err.code, err.code + " " + err.message, {}};
    switch (remedy_for(err.code)) {
    case remedy::authenticate: return reauthenticate(op, used, std::move(r));
    case remedy::retry:
      // Marketo's window is full (calls of another process, or of ours before a restart,
      // count in it too): nothing is sent until it has passed.
      if (err.code == "606") limiter.hold_until(steady::now() + options.window);
      // 606 and 615 are refusals before any work; the others may follow work done.
      if (!op->spec.idempotent && err.code != "606" && err.code != "615") {
        r.failure.kind = failure_kind::ambiguous;
        return finish(op, std::move(r));
      }
      return retry(op, std::move(r));
    case remedy::wait_quota: {
      r.failure.kind = failure_kind::quota;
      const auto now = std::chrono::system_clock::now();
      r.failure.retry_at = is_quota_spent(err) ? next_quota_reset(now) : now + std::chrono::minutes{5};
      return finish(op, std::move(r));
    }
    case remedy::fail: return finish(op, std::move(r));
    }
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    for (auto& t : timers) t->cancel();
    timers.clear();
    auto waiters = std::move(waiting_token);
    waiting_token.clear();
    for (auto& op : waiters) finish(op, failed(failure_kind::cancelled, "cancelled", "the Marketo client stopped"));
    auto auth = std::move(auth_waiters);
    auth_waiters.clear();
    for (auto& fn : auth) fn({failure_kind::cancelled, "cancelled", "the Marketo client stopped", {}});
  }
};

client::client(http::runner& http, connection_settings conn, client_options options)
    : conn_(conn), impl_(std::make_shared<impl>(http, std::move(conn), options)) {}

std::shared_ptr<client> client::make(http::runner& http, connection_settings conn, client_options options) {
  return std::shared_ptr<client>(new client(http, std::move(conn), options));
}

client::~client() { shutdown(); }

void client::call(call_spec spec, callback done) {
  auto op = std::make_shared<operation>();
  op->spec = std::move(spec);
  op->done = std::move(done);
  boost::asio::post(impl_->http.context(), [i = impl_, op] { i->start(op); });
}

void client::authenticate(std::function<void(call_failure)> done) {
  boost::asio::post(impl_->http.context(), [i = impl_, done = std::move(done)]() mutable {
    if (i->stopped) return done({failure_kind::cancelled, "cancelled", "the Marketo client stopped", {}});
    i->token.clear(); // a test of the connection asks the identity service itself
    i->auth_waiters.push_back(std::move(done));
    i->fetch_token();
  });
}

void client::shutdown() {
  boost::asio::post(impl_->http.context(), [i = impl_] { i->stop(); });
}

client_stats client::stats() const {
  std::lock_guard lock{impl_->stats_mutex};
  return impl_->counters;
}

} // namespace dynchat::marketo
