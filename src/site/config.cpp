#include "dynchat/site/config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "dynchat/store/tables.hpp"
#include "dynchat/targeting/url_pattern.hpp"

namespace dynchat::site {
namespace {

using json = nlohmann::json;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool printable(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

// Labels of letters, digits and '-', at least two, neither end of a label a '-'.
bool is_domain(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  std::size_t labels = 0;
  for (std::size_t start = 0; start <= d.size(); ++labels) {
    const auto end = std::min(d.find('.', start), d.size());
    const auto label = d.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), [](unsigned char c) { return std::isalnum(c) || c == '-'; })) return false;
    start = end + 1;
  }
  return labels >= 2;
}

class reader {
public:
  reader(const json& body, std::vector<dialogue::problem>& problems) : body_(body), problems_(problems) {}

  void fail(std::string path, std::string reason) { problems_.push_back({std::move(path), std::move(reason)}); }
  const json* find(const char* key) const {
    auto it = body_.find(key);
    return it == body_.end() ? nullptr : &*it;
  }

  void text(const char* key, std::string& out, std::size_t max_bytes) {
    const json* v = find(key);
    if (!v) return;
    if (!v->is_string()) return fail(key, "must be a string");
    auto s = v->get<std::string>();
    if (s.size() > max_bytes) return fail(key, "is longer than " + std::to_string(max_bytes) + " bytes");
    if (!printable(s)) return fail(key, "must not hold control characters");
    out = std::move(s);
  }
  void flag(const char* key, bool& out) {
    const json* v = find(key);
    if (!v) return;
    if (!v->is_boolean()) return fail(key, "must be true or false");
    out = v->get<bool>();
  }
  void whole(const char* key, std::uint32_t& out, std::uint32_t max) {
    const json* v = find(key);
    if (!v) return;
    if (!v->is_number_integer() || v->get<std::int64_t>() < 0 || v->get<std::int64_t>() > max)
      return fail(key, "must be a whole number from 0 to " + std::to_string(max));
    out = v->get<std::uint32_t>();
  }
  void color(const char* key, std::string& out) {
    if (!find(key)) return;
    std::string s = out;
    const auto before = problems_.size();
    text(key, s, 64);
    if (problems_.size() != before) return;
    const bool ok = s.size() == 7 && s[0] == '#' &&
                    std::all_of(s.begin() + 1, s.end(), [](unsigned char c) { return std::isxdigit(c); });
    if (!ok) return fail(key, "must be a colour as #RRGGBB");
    out = lower(s);
  }
  // An address a browser opens: http(s) (https only when `secure`), at most 500 bytes.
  void url(const char* key, std::string& out, bool secure) {
    if (!find(key)) return;
    std::string s = out;
    const auto before = problems_.size();
    text(key, s, 500);
    if (problems_.size() != before) return;
    if (s.empty()) return void(out.clear());
    const bool https = s.rfind("https://", 0) == 0;
    if ((secure && !https) || !targeting::parse_page_url(s))
      return fail(key, secure ? "must be an https:// address" : "must be an http(s):// address");
    out = s;
  }
  void domains(const char* key, std::vector<std::string>& out, std::size_t max, bool wildcard) {
    const json* v = find(key);
    if (!v) return;
    if (!v->is_array()) return fail(key, "must be a list of domains");
    if (v->size() > max) return fail(key, "holds more than " + std::to_string(max) + " domains");
    std::vector<std::string> list;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < v->size(); ++i) {
      const auto where = std::string{key} + "[" + std::to_string(i) + "]";
      const auto& d = (*v)[i];
      if (!d.is_string()) {
        fail(where, "must be a domain");
        continue;
      }
      auto name = lower(d.get<std::string>());
      const bool star = wildcard && name.rfind("*.", 0) == 0;
      if (!is_domain(star ? std::string_view{name}.substr(2) : std::string_view{name})) {
        fail(where, wildcard ? "must be a domain (example.com), or *.example.com for its subdomains" : "must be a domain (example.com)");
        continue;
      }
      if (!seen.insert(name).second) {
        fail(where, "is listed twice");
        continue;
      }
      list.push_back(std::move(name));
    }
    out = std::move(list);
  }

private:
  const json& body_;
  std::vector<dialogue::problem>& problems_;
};

} // namespace

checked decode(const json& body, const config& defaults) {
  checked out;
  if (!body.is_object()) {
    out.problems.push_back({"", "the configuration must be an object"});
    return out;
  }
  static const std::set<std::string> known{
    "chat_enabled", "primary_color", "text_color", "font", "launcher_position", "launcher_padding_px",
    "header_label", "bot_name", "bot_avatar_url", "response_delay_seconds", "notification_sound",
    "privacy_policy_url", "blocked_email_domains", "allowed_site_domains"};
  for (const auto& item : body.items())
    if (!known.count(item.key())) out.problems.push_back({item.key(), "is not a field of the configuration"});
  config c = defaults;
  reader r{body, out.problems};
  r.flag("chat_enabled", c.chat_enabled);
  r.color("primary_color", c.primary_color);
  r.color("text_color", c.text_color);
  const auto before_font = out.problems.size();
  r.text("font", c.font, 100);
  // A family name, quoted or not, in a CSS value: nothing that could close it.
  if (out.problems.size() == before_font && !std::all_of(c.font.begin(), c.font.end(), [](unsigned char ch) {
        return std::isalnum(ch) || ch == ' ' || ch == ',' || ch == '-' || ch == '\'' || ch == '"';
      }) || c.font.empty())
    r.fail("font", "must be inherit or font family names (letters, digits, spaces, commas, quotes, hyphens)");
  const auto before_position = out.problems.size();
  r.text("launcher_position", c.launcher_position, 20);
  if (out.problems.size() == before_position && c.launcher_position != "bottom_right" && c.launcher_position != "bottom_left")
    r.fail("launcher_position", "must be bottom_right or bottom_left");
  r.whole("launcher_padding_px", c.launcher_padding_px, 200);
  r.text("header_label", c.header_label, 100);
  r.text("bot_name", c.bot_name, 50);
  if (c.bot_name.empty()) r.fail("bot_name", "must not be empty");
  r.url("bot_avatar_url", c.bot_avatar_url, true);
  if (const json* d = r.find("response_delay_seconds")) {
    if (!d->is_number() || !(d->get<double>() >= 0 && d->get<double>() <= 10))
      r.fail("response_delay_seconds", "must be a number of seconds from 0 to 10");
    else
      c.response_delay_ms = static_cast<std::uint32_t>(std::lround(d->get<double>() * 1000));
  }
  r.flag("notification_sound", c.notification_sound);
  r.url("privacy_policy_url", c.privacy_policy_url, false);
  r.domains("blocked_email_domains", c.blocked_email_domains, max_blocked_domains, false);
  r.domains("allowed_site_domains", c.allowed_site_domains, max_allowed_domains, true);
  if (out.problems.empty()) out.value = std::move(c);
  return out;
}

json widget_json(const config& c) {
  return {{"chat_enabled", c.chat_enabled},
          {"primary_color", c.primary_color},
          {"text_color", c.text_color},
          {"font", c.font},
          {"launcher_position", c.launcher_position},
          {"launcher_padding_px", c.launcher_padding_px},
          {"header_label", c.header_label},
          {"bot_name", c.bot_name},
          {"bot_avatar_url", c.bot_avatar_url},
          {"response_delay_seconds", c.response_delay_ms / 1000.0},
          {"notification_sound", c.notification_sound},
          {"privacy_policy_url", c.privacy_policy_url}};
}

json to_json(const config& c) {
  auto j = widget_json(c);
  j["blocked_email_domains"] = c.blocked_email_domains;
  j["allowed_site_domains"] = c.allowed_site_domains;
  return j;
}

std::string host_of(std::string_view url) {
  auto page = targeting::parse_page_url(url);
  if (!page) return {};
  auto host = page->host;
  if (auto colon = host.rfind(':'); colon != std::string::npos && host.find(']') == std::string::npos)
    host.erase(colon);
  return host;
}

bool site_allowed(const config& c, std::string_view host) {
  if (c.allowed_site_domains.empty()) return true;
  for (const auto& d : c.allowed_site_domains) {
    if (d.rfind("*.", 0) == 0) {
      const std::string_view base = std::string_view{d}.substr(1); // ".example.com"
      if (host.size() > base.size() && host.substr(host.size() - base.size()) == base) return true;
    } else if (host == d) {
      return true;
    }
  }
  return false;
}

config load(const store::database& db, const config& defaults) {
  std::optional<std::string> stored;
  {
    auto txn = db.read();
    stored = store::load_meta(txn, meta_key);
  }
  if (!stored) return defaults;
  auto checked = decode(json::parse(*stored, nullptr, false), defaults);
  return checked.value ? *checked.value : defaults;
}

} // namespace dynchat::site
