#include "dynchat/marketo/api.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <date/date.h>
#include <date/tz.h>

namespace dynchat::marketo {

using nlohmann::json;

std::string_view to_string(remedy r) noexcept {
  switch (r) {
  case remedy::authenticate: return "authenticate";
  case remedy::retry: return "retry";
  case remedy::wait_quota: return "wait_quota";
  case remedy::fail: return "fail";
  }
  return "fail";
}

remedy remedy_for(std::string_view code) noexcept {
  if (code == "601" || code == "602") return remedy::authenticate;
  if (code == "604" || code == "606" || code == "608" || code == "611" || code == "615" || code == "713")
    return remedy::retry;
  if (code == "1029") return remedy::wait_quota;
  if (code.starts_with("http 5")) return remedy::retry;
  return remedy::fail;
}

remedy remedy_for_status(unsigned status) noexcept {
  if (status >= 500 && status <= 599) return remedy::retry;
  if (status == 401) return remedy::authenticate;
  return remedy::fail;
}

namespace {

std::string code_text(const json& code) {
  if (code.is_string()) return code.get<std::string>();
  if (code.is_number_integer()) return std::to_string(code.get<std::int64_t>());
  return code.dump();
}

std::vector<api_error> read_errors(const json& list) {
  std::vector<api_error> out;
  if (!list.is_array()) return out;
  for (const auto& e : list) {
    if (!e.is_object()) continue;
    api_error err;
    if (auto c = e.find("code"); c != e.end()) err.code = code_text(*c);
    if (auto m = e.find("message"); m != e.end() && m->is_string()) err.message = m->get<std::string>();
    out.push_back(std::move(err));
  }
  return out;
}

} // namespace

std::optional<envelope> parse_envelope(std::string_view body, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<envelope> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  // Marketo's answers are shallow; the parser's own depth is bounded by the body limit.
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) return fail("the answer is not JSON");
  if (!doc.is_object()) return fail("the answer is not a JSON object");
  auto success = doc.find("success");
  if (success == doc.end() || !success->is_boolean()) return fail("the answer has no `success`");
  envelope e;
  e.success = success->get<bool>();
  if (auto r = doc.find("requestId"); r != doc.end() && r->is_string()) e.request_id = r->get<std::string>();
  if (auto r = doc.find("errors"); r != doc.end()) e.errors = read_errors(*r);
  if (auto r = doc.find("warnings"); r != doc.end()) e.warnings = read_errors(*r);
  if (auto r = doc.find("result"); r != doc.end() && r->is_array()) e.result = std::move(*r);
  if (auto r = doc.find("moreResult"); r != doc.end() && r->is_boolean()) e.more_result = r->get<bool>();
  if (auto r = doc.find("nextPageToken"); r != doc.end() && r->is_string()) e.next_page_token = r->get<std::string>();
  if (!e.success && e.errors.empty()) e.errors.push_back({"unknown", "Marketo answered success:false without errors"});
  return e;
}

api_error main_error(const envelope& e) {
  for (const auto& err : e.errors)
    if (remedy_for(err.code) != remedy::fail) return err;
  return e.errors.empty() ? api_error{"unknown", "no error given"} : e.errors.front();
}

std::variant<access_token, std::string> parse_token(unsigned status, std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_object()) {
    auto token = doc.find("access_token");
    if (status == 200 && token != doc.end() && token->is_string() && !token->get<std::string>().empty()) {
      access_token t;
      t.value = token->get<std::string>();
      if (auto ex = doc.find("expires_in"); ex != doc.end() && ex->is_number_integer())
        t.expires_in = std::chrono::seconds{std::max<std::int64_t>(0, ex->get<std::int64_t>())};
      return t;
    }
    // The identity service speaks OAuth: {"error":"invalid_client","error_description":"…"}.
    std::string said;
    if (auto e = doc.find("error"); e != doc.end() && e->is_string()) said = e->get<std::string>();
    if (auto d = doc.find("error_description"); d != doc.end() && d->is_string())
      said += (said.empty() ? "" : ": ") + d->get<std::string>();
    if (said.empty()) {
      if (auto env = parse_envelope(body); env && !env->success) {
        auto err = main_error(*env);
        said = err.code + " " + err.message;
      }
    }
    if (!said.empty()) return said;
  }
  if (status != 200) return "the identity service answered HTTP " + std::to_string(status);
  return std::string{"the identity service's answer has no access_token"};
}

bool is_quota_spent(const api_error& e) noexcept {
  std::string lower = e.message;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return e.code == "1029" && lower.find("quota") != std::string::npos;
}

std::chrono::system_clock::time_point next_quota_reset(std::chrono::system_clock::time_point now) {
  const auto* zone = date::locate_zone("America/Chicago");
  auto local = zone->to_local(now);
  auto next_midnight = date::floor<date::days>(local) + date::days{1};
  return zone->to_sys(next_midnight, date::choose::earliest);
}

std::chrono::milliseconds backoff(unsigned attempt, std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                  double jitter01) {
  const double factor = std::ldexp(1.0, static_cast<int>(std::min(attempt, 30u)) - 1);
  double ms = std::min<double>(static_cast<double>(base.count()) * factor, static_cast<double>(cap.count()));
  ms *= 1.0 - 0.25 * std::clamp(jitter01, 0.0, 1.0);
  return std::chrono::milliseconds{static_cast<std::int64_t>(ms)};
}

std::string iso8601(std::chrono::system_clock::time_point t) {
  return date::format("%FT%TZ", date::floor<std::chrono::seconds>(t));
}

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM|±HHMM)
  auto digits = [&](std::size_t at, std::size_t n, int& out) {
    if (at + n > s.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, sec;
  if (!digits(0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(5, 2, mo) || s[7] != '-' || !digits(8, 2, d) ||
      (s[10] != 'T' && s[10] != ' ') || !digits(11, 2, h) || s[13] != ':' || !digits(14, 2, mi) || s[16] != ':' ||
      !digits(17, 2, sec))
    return std::nullopt;
  std::size_t at = 19;
  std::chrono::milliseconds frac{0};
  if (at < s.size() && s[at] == '.') {
    ++at;
    int scale = 100, ms = 0;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
      ms += (s[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    frac = std::chrono::milliseconds{ms};
  }
  std::chrono::minutes offset{0};
  if (at < s.size() && s[at] == 'Z') {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    const int sign = s[at] == '-' ? -1 : 1;
    int oh, om;
    if (!digits(at + 1, 2, oh)) return std::nullopt;
    std::size_t m_at = at + 3;
    if (m_at < s.size() && s[m_at] == ':') ++m_at;
    if (!digits(m_at, 2, om)) return std::nullopt;
    offset = sign * (std::chrono::hours{oh} + std::chrono::minutes{om});
    at = m_at + 2;
  } else {
    return std::nullopt;
  }
  if (at != s.size()) return std::nullopt;
  date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)}, date::day{static_cast<unsigned>(d)}};
  // The clock counts nanoseconds from 1970: it holds 1678..2262. Marketo's dates are modern.
  if (!ymd.ok() || y < 1900 || y > 2200 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  auto t = date::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{sec} + frac;
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(t - offset);
}

std::vector<time_window> split_windows(std::chrono::system_clock::time_point from,
                                       std::chrono::system_clock::time_point to, int max_days) {
  std::vector<time_window> out;
  const auto span = std::chrono::hours{24} * std::max(1, max_days);
  for (auto start = from; start < to;) {
    auto end = std::min<std::chrono::system_clock::time_point>(start + span, to);
    out.push_back({start, end});
    start = end;
  }
  return out;
}

std::string url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

} // namespace dynchat::marketo
