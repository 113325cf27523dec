#include "dynchat/rest/route_table.hpp"

#include <algorithm>

namespace dynchat::rest {
namespace {

// "/v1/agents" → {"v1", "agents"}. One trailing "/" names the same resource; an empty
// segment inside ("/v1//agents") is kept, so such a path matches no route.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return {""};
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::size_t pos = 1;
  while (true) {
    auto next = path.find('/', pos);
    if (next == std::string_view::npos) {
      out.push_back(path.substr(pos));
      return out;
    }
    out.push_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Path parameters if `segments` fit `pattern`.
std::optional<std::map<std::string, std::string>> fit(const std::vector<std::string_view>& pattern,
                                                      const std::vector<std::string_view>& segments) {
  if (pattern.size() != segments.size()) return std::nullopt;
  std::map<std::string, std::string> params;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const auto p = pattern[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      auto value = percent_decode(segments[i]);
      if (!value || value->empty()) return std::nullopt;
      params[std::string{p.substr(1, p.size() - 2)}] = std::move(*value);
    } else if (p != segments[i]) {
      return std::nullopt;
    }
  }
  return params;
}

} // namespace

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt; // needs two hex digits after it
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

route_table::route_table(std::vector<route> routes) : routes_(std::move(routes)) {}

route_match route_table::match(std::string_view method, std::string_view path) const {
  const auto segments = split_path(path);
  std::vector<std::string> methods;
  for (const auto& r : routes_) {
    auto params = fit(split_path(r.pattern), segments);
    if (!params) continue;
    if (r.method == method) return {route_match::kind::found, r.handler, r.roles, std::move(*params), {}};
    if (std::find(methods.begin(), methods.end(), r.method) == methods.end()) methods.push_back(r.method);
  }
  if (methods.empty()) return {route_match::kind::no_such_path, -1, {}, {}, {}};
  std::string allow;
  for (const auto& m : methods) allow += (allow.empty() ? "" : ", ") + m;
  return {route_match::kind::wrong_method, -1, {}, {}, allow};
}

} // namespace dynchat::rest
