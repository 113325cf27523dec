#pragma once
// The REST surface as data: each route is a method, a path pattern ("/v1/agents/{id}"),
// the roles it admits, and the handler that serves it. Matching a request gives the handler and the path parameters, or
// says why not: no such resource (404), or the resource exists but not with this
// method (405, with the methods it has, for the Allow header).
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dynchat/rest/roles.hpp"

namespace dynchat::rest {

struct route {
  std::string method;
  std::string pattern;
  int handler;     // the caller's own id for what serves it
  role_set roles;  // who may call it (the admin always may, except on role_set::root_only() routes)
};

struct route_match {
  enum class kind { found, no_such_path, wrong_method } what;
  int handler = -1;
  role_set roles;
  std::map<std::string, std::string> params; // percent-decoded
  std::string allow;                          // for wrong_method: "GET, POST"
};

class route_table {
public:
  explicit route_table(std::vector<route> routes);
  route_match match(std::string_view method, std::string_view path) const;
  const std::vector<route>& routes() const { return routes_; }

private:
  std::vector<route> routes_;
};

/// %XX and '+' decoded; nullopt for a malformed escape.
std::optional<std::string> percent_decode(std::string_view s);

} // namespace dynchat::rest
