#include "dynchat/rest/query.hpp"

#include <algorithm>
#include <charconv>

#include "dynchat/rest/route_table.hpp"

namespace dynchat::rest {

query::query(std::string_view text) {
  while (!text.empty()) {
    const auto amp = text.find('&');
    const auto pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq));
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value) {
      // Named, so the client sees which one: by its name when that much decodes.
      if (name) fail("parameter '" + name->substr(0, 40) + "' has a malformed percent-escape");
      else fail("malformed percent-escape in the query string at '" + std::string{pair.substr(0, 40)} + "'");
      continue;
    }
    if (!values_.emplace(*name, *value).second) fail("parameter '" + *name + "' is given more than once");
  }
}

void query::fail(std::string message) {
  if (!error_) error_ = std::move(message);
}

std::int64_t query::integer(const std::string& name, std::int64_t fallback, std::int64_t min, std::int64_t max) {
  read_.insert(name);
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  const auto& v = it->second;
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || end != v.data() + v.size() || n < min || n > max) {
    fail("parameter '" + name + "' must be an integer from " + std::to_string(min) + " to " + std::to_string(max) +
         ", got '" + v.substr(0, 40) + "'");
    return fallback;
  }
  return n;
}

std::map<std::string, std::string> query::with_prefix(const std::string& prefix) {
  std::map<std::string, std::string> out;
  for (auto it = values_.lower_bound(prefix); it != values_.end() && it->first.rfind(prefix, 0) == 0; ++it) {
    read_.insert(it->first);
    if (it->first.size() > prefix.size()) out[it->first.substr(prefix.size())] = it->second;
    else fail("parameter '" + prefix + "' needs a name after it");
  }
  return out;
}

std::string query::text(const std::string& name, const std::vector<std::string>& allowed) {
  read_.insert(name);
  auto it = values_.find(name);
  if (it == values_.end()) return {};
  // `?cursor=` is a client bug (an unset variable), not a request for the first page.
  if (it->second.empty()) {
    fail("parameter '" + name + "' must not be empty");
    return {};
  }
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), it->second) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    fail("parameter '" + name + "' must be one of " + list + ", got '" + it->second.substr(0, 40) + "'");
    return {};
  }
  return it->second;
}

std::optional<std::string> query::error() const {
  if (error_) return error_;
  for (const auto& [name, value] : values_)
    if (!read_.count(name)) return "unknown parameter '" + name.substr(0, 40) + "'";
  return std::nullopt;
}

} // namespace dynchat::rest
