#include "dynchat/rest/roles.hpp"

namespace dynchat::rest {

std::string_view to_string(role r) noexcept {
  switch (r) {
    case role::admin: return "admin";
    case role::marketer: return "marketer";
    case role::sales_admin: return "sales_admin";
    case role::agent: return "agent";
    case role::booker: return "booker";
  }
  return "agent";
}

std::optional<role> role_from_string(std::string_view s) noexcept {
  for (auto r : {role::admin, role::marketer, role::sales_admin, role::agent})
    if (to_string(r) == s) return r;
  return std::nullopt;
}

std::string role_set::describe() const {
  if (root_only_) return "the operator's admin token (server.admin_token) only";
  std::string out{"admin"};
  for (auto r : {role::marketer, role::sales_admin, role::agent, role::booker})
    if (bits_ & bit(r)) (out += ", ") += to_string(r);
  return out;
}

std::string role_set::refusal(const principal& p) const {
  // An API token with the admin role is still not the operator's token: say which it is.
  if (root_only_)
    return "this route takes " + describe() + "; this is " +
           (p.token_id.empty() ? std::string{"an agent's login token"}
                               : "an API token with the role " + std::string{to_string(p.role)});
  return "this route is for " + describe() + "; this token's role is " + std::string{to_string(p.role)};
}

} // namespace dynchat::rest
