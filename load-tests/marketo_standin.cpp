#include "marketo_standin.hpp"

#include <algorithm>
#include <cctype>
#include <random>
#include <stdexcept>

#include "marketo_standin_impl.hpp"

namespace dynchat::testing {
namespace standin {

std::int64_t to_unix(clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

clock::time_point from_unix(std::int64_t s) { return clock::time_point{std::chrono::seconds{s}}; }

std::string time_text(clock::time_point t) { return format_time(to_unix(t)); }

namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string uuid(std::mt19937_64& rng) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  const auto a = rng(), b = rng();
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) s += '-';
    const auto word = i < 16 ? a : b;
    s += hex[(word >> ((i % 16) * 4)) & 15];
  }
  return s;
}

std::mt19937_64& rng() {
  thread_local std::mt19937_64 r{std::random_device{}()};
  return r;
}

} // namespace

std::string percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<std::string> token_of(std::string_view cookie) {
  if (const auto at = cookie.find("token:"); at != std::string_view::npos) {
    auto t = cookie.substr(at + 6);
    t = t.substr(0, t.find('&'));
    if (t.empty()) return std::nullopt;
    return std::string{t};
  }
  if (cookie.starts_with("_mch-")) return std::string{cookie};
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> parse_form(std::string_view s) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!s.empty()) {
    const auto amp = s.find('&');
    const auto part = s.substr(0, amp);
    s = amp == std::string_view::npos ? std::string_view{} : s.substr(amp + 1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    out.emplace_back(percent_decode(part.substr(0, eq)),
                     eq == std::string_view::npos ? std::string{} : percent_decode(part.substr(eq + 1)));
  }
  return out;
}

bool request::has(std::string_view name) const {
  return std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.first == name; });
}

std::string request::param(std::string_view name) const {
  for (const auto& [n, v] : params)
    if (n == name) return v;
  return {};
}

std::vector<std::string> request::list(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : params) {
    if (n != name) continue;
    std::string_view s = v;
    while (true) {
      const auto comma = s.find(',');
      const auto item = s.substr(0, comma);
      if (!item.empty()) out.emplace_back(item);
      if (comma == std::string_view::npos) break;
      s.remove_prefix(comma + 1);
    }
  }
  return out;
}

std::string documented_message(unsigned code) {
  switch (code) {
  case 601: return "Access token invalid";
  case 602: return "Access token expired";
  case 603: return "Access denied";
  case 604: return "Request time-out";
  case 605: return "HTTP Method not supported";
  case 606: return "Max rate limit '100' exceeded with in '20' secs";
  case 607: return "Daily quota reached";
  case 608: return "API Temporarily Unavailable";
  case 609: return "Invalid JSON";
  case 610: return "Requested resource not found";
  case 611: return "System error";
  case 612: return "Invalid Content Type";
  case 613: return "Invalid Multipart Request";
  case 614: return "Invalid Subscription";
  case 615: return "Concurrent access limit reached";
  case 616: return "Invalid subscription type";
  case 701: return "Field cannot be blank";
  case 702: return "No data found for a given search scenario";
  case 703: return "The feature is not enabled for the subscription";
  case 704: return "Invalid date format";
  case 709: return "Business Rule Violation";
  case 710: return "Parent Folder Not Found";
  case 711: return "Incompatible Folder Type";
  case 712: return "Merge to person Account operation is invalid";
  case 713: return "Transient Error";
  case 714: return "Unable to find the default record type";
  case 718: return "ExternalSalesPersonID not found";
  case 719: return "Lock wait timeout exception";
  case 1001: return "Invalid value";
  case 1002: return "Missing value for the required parameter";
  case 1003: return "Invalid data";
  case 1004: return "Lead not found";
  case 1005: return "Lead already exists";
  case 1006: return "Field not found";
  case 1007: return "Multiple leads match the lookup criteria";
  case 1011: return "Field not supported";
  case 1012: return "Invalid cookie value";
  case 1013: return "Object not found";
  case 1016: return "Too many imports";
  case 1029: return "Too many jobs in queue";
  case 1035: return "Unsupported filter type";
  case 1036: return "Duplicate object found in input";
  default: return "Injected fault";
  }
}

std::string_view status_name(job_status s) {
  switch (s) {
  case job_status::created: return "Created";
  case job_status::queued: return "Queued";
  case job_status::processing: return "Processing";
  case job_status::completed: return "Completed";
  case job_status::cancelled: return "Cancelled";
  case job_status::failed: return "Failed";
  }
  return "Failed";
}

} // namespace standin

using standin::clock;

std::string standin_call::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (standin::iequal(n, name)) return v;
  return {};
}

namespace {

standin::lead_generator make_generator(const standin_options& o, std::int64_t now) {
  standin::lead_generator g;
  g.count = o.leads;
  g.first_created = standin::to_unix(o.first_created);
  g.last_created = std::max(g.first_created, standin::to_unix(o.last_created));
  g.now = std::max(now, g.last_created);
  g.munchkin_id = o.munchkin_id;
  return g;
}

std::string reason(unsigned status) {
  switch (status) {
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 404: return "Not Found";
  case 413: return "Request Entity Too Large";
  case 414: return "Request-URI Too Long";
  case 416: return "Range Not Satisfiable";
  case 500: return "Internal Server Error";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return "Error";
  }
}

} // namespace

marketo_standin::impl::impl(standin_options o)
  : opt(std::move(o)),
    started_s(standin::to_unix(clock::now())),
    catalog(std::make_shared<const standin::field_catalog>(opt.custom_fields)),
    leads(catalog, make_generator(opt, started_s)),
    activities(make_generator(opt, started_s), started_s) {
  server = std::make_unique<test_server>([this](const served_request& r) { return handle(r); });
}

marketo_standin::impl::~impl() { server.reset(); }

std::string marketo_standin::impl::next_request_id() {
  char buf[48];
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now().time_since_epoch()).count();
  std::snprintf(buf, sizeof buf, "%llx#%llx", static_cast<unsigned long long>(++request_seq),
                static_cast<unsigned long long>(ms));
  return buf;
}

namespace {

canned_reply json_reply(const standin::json& j, unsigned status = 200) {
  canned_reply r;
  r.status = status;
  r.headers = {{"Content-Type", "application/json;charset=UTF-8"}};
  r.body = j.dump(-1, ' ', false, standin::json::error_handler_t::replace);
  return r;
}

} // namespace

marketo_standin::impl::outcome marketo_standin::impl::ok(json result) {
  json e = json::object();
  e["requestId"] = next_request_id();
  e["result"] = std::move(result);
  e["success"] = true;
  return {json_reply(e), {}};
}

marketo_standin::impl::outcome marketo_standin::impl::ok_envelope(json body) {
  json e = json::object();
  e["requestId"] = next_request_id();
  for (auto& [k, v] : body.items()) e[k] = v;
  e["success"] = true;
  return {json_reply(e), {}};
}

marketo_standin::impl::outcome marketo_standin::impl::error(unsigned code, std::string message) {
  return error(std::to_string(code), message.empty() ? standin::documented_message(code) : std::move(message));
}

marketo_standin::impl::outcome marketo_standin::impl::error(std::string code, std::string message) {
  json e = json::object();
  e["requestId"] = next_request_id();
  e["success"] = false;
  e["errors"] = json::array({json{{"code", code}, {"message", std::move(message)}}});
  return {json_reply(e), std::move(code)};
}

marketo_standin::impl::outcome marketo_standin::impl::http_status(unsigned status, std::string text) {
  canned_reply r;
  r.status = status;
  r.headers = {{"Content-Type", "text/plain;charset=UTF-8"}};
  r.body = std::move(text);
  return {std::move(r), "http " + std::to_string(status)};
}

canned_reply marketo_standin::impl::handle(const served_request& r) {
  lock_type lock{mutex};
  const auto now = clock::now();

  request q{r, r.method, {}, {}, {}, now};
  const auto mark = r.target.find('?');
  q.path = r.target.substr(0, mark);
  if (mark != std::string::npos) q.query = r.target.substr(mark + 1);
  q.params = standin::parse_form(q.query);
  // Long queries come as POST …?_method=GET with the query as a form body (lead-database.md).
  if (r.method == "POST" && q.param("_method") == "GET") {
    q.method = "GET";
    for (auto& p : standin::parse_form(r.body)) q.params.push_back(std::move(p));
  }

  calls.push_back(standin_call{r.method, q.path, q.query, r.headers, r.body, now, 0, {}});
  const auto call_index = calls.size() - 1;

  outcome o;
  const bool is_identity = q.path.starts_with("/identity/");
  if (fail_count > 0 && (!is_identity || fail_identity)) {
    --fail_count;
    if (fail_code < 600)
      o = http_status(fail_code, std::to_string(fail_code) + " " + reason(fail_code));
    else
      o = error(fail_code, fail_message);
  } else if (is_identity) {
    o = identity(q);
  } else {
    // Limits first: Marketo refuses these before any work (and does not count them).
    while (!in_flight.empty() && *in_flight.begin() <= now) in_flight.erase(in_flight.begin());
    while (!window.empty() && window.front() <= now - std::chrono::seconds{20}) window.pop_front();
    const bool limits = opt.enforce_rate_limits;
    if (limits && in_flight.size() >= 10) {
      ++answered_615;
      o = error(615);
    } else if (limits && window.size() >= 100) {
      ++answered_606;
      o = error(606);
    } else {
      if (opt.call_latency.count() > 0) in_flight.insert(now + opt.call_latency);
      peak = std::max(peak, std::max<int>(1, static_cast<int>(in_flight.size())));
      if (auto refused = authenticate(q))
        o = std::move(*refused);
      else
        o = route(q, lock);
      if (o.error.empty()) window.push_back(now);
      o.reply.delay = opt.call_latency;
    }
  }
  if (call_index < calls.size()) { // unless cleared meanwhile (a download copies unlocked)
    auto& c = calls[call_index];
    c.status = o.reply.status; // also for a truncated download's raw bytes
    c.error = o.error;
  }
  return std::move(o.reply);
}

marketo_standin::impl::outcome marketo_standin::impl::identity(const request& q) {
  if (q.path != "/identity/oauth/token") return http_status(404, "Not Found");
  if (q.method != "GET" && q.method != "POST") return http_status(405, "Method Not Allowed");
  auto params = q.params;
  if (q.raw.method == "POST") // the credentials may come as a form body
    for (auto& p : standin::parse_form(q.raw.body)) params.push_back(std::move(p));
  auto get = [&](std::string_view name) -> std::string {
    for (const auto& [n, v] : params)
      if (n == name) return v;
    return {};
  };
  auto oauth_error = [&](unsigned status, std::string err, std::string description) {
    outcome o{json_reply(json{{"error", std::move(err)}, {"error_description", std::move(description)}}, status),
              "http " + std::to_string(status)};
    return o;
  };
  const auto grant = get("grant_type");
  if (grant.empty()) return oauth_error(400, "invalid_request", "Missing grant type");
  if (grant != "client_credentials") return oauth_error(400, "unsupported_grant_type", "Unsupported grant type: " + grant);
  const auto id = get("client_id");
  if (id != opt.client_id) return oauth_error(401, "unauthorized", "No client with requested id: " + id);
  if (get("client_secret") != opt.client_secret) return oauth_error(401, "unauthorized", "Bad client credentials");

  // Asked again before it expires, Identity answers the same token and what is left of it
  // (authentication.md).
  const auto it = tokens.find(current_token);
  if (it == tokens.end() || it->second.expired || it->second.expires <= q.now) {
    current_token = standin::uuid(standin::rng()) + ":ab";
    tokens[current_token] = token_state{q.now + opt.token_ttl, false};
  }
  const auto left = std::chrono::floor<std::chrono::seconds>(tokens[current_token].expires - q.now).count();
  json j = json::object();
  j["access_token"] = current_token;
  j["token_type"] = "bearer";
  j["expires_in"] = std::max<std::int64_t>(0, left);
  j["scope"] = "standin-api@example.com";
  return {json_reply(j), {}};
}

std::optional<marketo_standin::impl::outcome> marketo_standin::impl::authenticate(const request& q) {
  // Only the Authorization header: the access_token query parameter is being removed
  // (authentication.md), so a client still using it is told so here.
  const auto h = q.raw.header("Authorization");
  if (h.empty()) return error(601, "Access token not specified");
  constexpr std::string_view scheme = "bearer ";
  if (h.size() <= scheme.size() || !standin::iequal(std::string_view{h}.substr(0, scheme.size()), scheme))
    return error(601);
  auto token = std::string_view{h}.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  const auto it = tokens.find(std::string{token});
  if (it == tokens.end()) return error(601);
  if (it->second.expired || it->second.expires <= q.now) return error(602);
  return std::nullopt;
}

marketo_standin::impl::outcome marketo_standin::impl::route(const request& q, lock_type& lock) {
  const std::string_view p = q.path;
  const bool get = q.method == "GET", post = q.method == "POST";
  auto only = [&](bool allowed, auto&& answer) -> outcome { return allowed ? answer() : error(605); };

  if (p == "/rest/v1/leads/describe.json") return only(get, [&] { return describe_leads(q); });
  if (p == "/rest/v1/leads.json") {
    if (get) return get_leads(q);
    if (post) return sync_leads(q);
    return error(605);
  }
  if (p.starts_with("/rest/v1/lead/") && p.ends_with(".json")) {
    const auto id = p.substr(14, p.size() - 14 - 5);
    return only(get, [&] { return get_lead(q, id); });
  }
  if (p == "/rest/v1/activities/pagingtoken.json") return only(get, [&] { return paging_token(q); });
  if (p == "/rest/v1/activities.json") return only(get, [&] { return get_activities(q); });
  if (p == "/rest/v1/activities/types.json") return only(get, [&] { return activity_types(q); });
  if (p == "/rest/v1/activities/external/types.json") return only(get, [&] { return custom_activity_types(q); });
  if (p == "/rest/v1/activities/external.json") return only(post, [&] { return add_custom_activities(q); });
  constexpr std::string_view type_prefix = "/rest/v1/activities/external/type/";
  constexpr std::string_view describe_suffix = "/describe.json";
  if (p.starts_with(type_prefix) && p.ends_with(describe_suffix) && p.size() > type_prefix.size() + describe_suffix.size()) {
    const auto api = p.substr(type_prefix.size(), p.size() - type_prefix.size() - describe_suffix.size());
    return only(get, [&] { return describe_custom_activity_type(q, api); });
  }

  constexpr std::string_view bulk = "/bulk/v1/leads/export";
  if (p == "/bulk/v1/leads/export/create.json") return only(post, [&] { return create_export(q); });
  if (p == "/bulk/v1/leads/export.json") return only(get, [&] { return list_exports(q, lock); });
  if (p.starts_with(bulk) && p.size() > bulk.size() && p[bulk.size()] == '/') {
    const auto rest = p.substr(bulk.size() + 1);
    const auto slash = rest.find('/');
    if (slash != std::string_view::npos && slash > 0) {
      const auto id = rest.substr(0, slash);
      const auto action = rest.substr(slash + 1);
      if (action == "enqueue.json") return only(post, [&] { return enqueue_export(q, id, lock); });
      if (action == "status.json") return only(get, [&] { return export_status(q, id, lock); });
      if (action == "file.json") return only(get, [&] { return export_file(q, id, lock); });
      if (action == "cancel.json") return only(post, [&] { return cancel_export(q, id, lock); });
    }
  }
  if (p.starts_with("/rest/") || p.starts_with("/bulk/")) return error(610);
  return http_status(404, "Not Found");
}

// --- the public face ---

marketo_standin::marketo_standin(standin_options options) : impl_(std::make_unique<impl>(std::move(options))) {}

marketo_standin::~marketo_standin() = default;

std::string marketo_standin::base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }

std::uint16_t marketo_standin::port() const { return impl_->server->port(); }

const standin_options& marketo_standin::options() const { return impl_->opt; }

void marketo_standin::expire_tokens() {
  std::lock_guard lock{impl_->mutex};
  for (auto& [t, s] : impl_->tokens) s.expired = true;
}

void marketo_standin::invalidate_tokens() {
  std::lock_guard lock{impl_->mutex};
  impl_->tokens.clear();
  impl_->current_token.clear();
}

void marketo_standin::fail_next(unsigned count, unsigned code, fault_scope scope) {
  fail_next(count, code, {}, scope);
}

void marketo_standin::fail_next(unsigned count, unsigned code, std::string message, fault_scope scope) {
  std::lock_guard lock{impl_->mutex};
  impl_->fail_count = count;
  impl_->fail_code = code;
  impl_->fail_message = std::move(message);
  impl_->fail_identity = scope == fault_scope::with_identity;
}

void marketo_standin::truncate_next_download(std::uint64_t bytes) {
  std::lock_guard lock{impl_->mutex};
  impl_->truncate_next = bytes;
}

void marketo_standin::set_quota_used(std::uint64_t bytes) {
  std::lock_guard lock{impl_->mutex};
  impl_->quota_used = bytes;
}

void marketo_standin::reset_quota() { set_quota_used(0); }

std::uint64_t marketo_standin::quota_used() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->quota_used;
}

void marketo_standin::set_export_delay(std::chrono::milliseconds delay) {
  std::lock_guard lock{impl_->mutex};
  impl_->opt.export_delay = delay;
}

void marketo_standin::set_rate_limits(bool enforce) {
  std::lock_guard lock{impl_->mutex};
  impl_->opt.enforce_rate_limits = enforce;
}

void marketo_standin::set_call_latency(std::chrono::milliseconds latency) {
  std::lock_guard lock{impl_->mutex};
  impl_->opt.call_latency = latency;
}

std::vector<standin_call> marketo_standin::calls() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->calls;
}

std::size_t marketo_standin::call_count() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->calls.size();
}

void marketo_standin::clear_calls() {
  std::lock_guard lock{impl_->mutex};
  impl_->calls.clear();
}

int marketo_standin::peak_concurrency() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->peak;
}

nlohmann::json marketo_standin::external_activities() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->external_received;
}

nlohmann::json marketo_standin::pushed_leads() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->leads_pushed;
}

std::uint64_t marketo_standin::rate_limited() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->answered_606;
}

std::uint64_t marketo_standin::concurrency_limited() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->answered_615;
}

std::uint64_t marketo_standin::exports_completed() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->completed;
}

std::string marketo_standin::lead_email(std::uint64_t n) const { return impl_->leads.generator().email(n); }

std::string marketo_standin::lead_cookie(std::uint64_t n) const { return impl_->leads.generator().cookie(n); }

void marketo_standin::add_cookie(std::uint64_t lead_id, std::string cookie) {
  const auto token = standin::token_of(standin::percent_decode(cookie));
  if (!token) throw std::invalid_argument("not a _mkto_trk cookie: " + cookie);
  std::lock_guard lock{impl_->mutex};
  impl_->leads.add_cookie(lead_id, *token);
}

void marketo_standin::set_lead_field(std::uint64_t lead_id, std::string_view field, std::string value) {
  std::lock_guard lock{impl_->mutex};
  const int f = impl_->catalog->index_of(field);
  if (f < 0) throw std::invalid_argument("no lead field " + std::string{field});
  const auto& def = impl_->catalog->at(f);
  if (def.read_only || def.kind == standin::field_kind::cookies)
    throw std::invalid_argument("lead field " + std::string{field} + " cannot be set");
  if (!impl_->leads.exists(lead_id)) throw std::out_of_range("no lead " + std::to_string(lead_id));
  impl_->leads.update(lead_id, {{f, std::move(value)}}, standin::to_unix(clock::now()));
}

std::string marketo_standin::lead_field(std::uint64_t lead_id, std::string_view field) const {
  std::lock_guard lock{impl_->mutex};
  const int f = impl_->catalog->index_of(field);
  if (f < 0) throw std::invalid_argument("no lead field " + std::string{field});
  if (!impl_->leads.exists(lead_id)) throw std::out_of_range("no lead " + std::to_string(lead_id));
  return impl_->leads.value(lead_id, f);
}

clock::time_point marketo_standin::lead_created_at(std::uint64_t lead_id) const {
  std::lock_guard lock{impl_->mutex};
  if (!impl_->leads.exists(lead_id)) throw std::out_of_range("no lead " + std::to_string(lead_id));
  return standin::from_unix(impl_->leads.created_at(lead_id));
}

clock::time_point marketo_standin::lead_updated_at(std::uint64_t lead_id) const {
  std::lock_guard lock{impl_->mutex};
  if (!impl_->leads.exists(lead_id)) throw std::out_of_range("no lead " + std::to_string(lead_id));
  return standin::from_unix(impl_->leads.updated_at(lead_id));
}

std::uint64_t marketo_standin::lead_count() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->leads.last_id();
}

} // namespace dynchat::testing
