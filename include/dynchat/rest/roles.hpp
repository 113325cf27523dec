#pragma once
// Who may call what. Roles follow the product's user profiles: an admin does anything;
// a marketer owns dialogues, configuration and reports; a sales admin owns agents,
// routing and meetings; an agent sees its own chats and calendar. Every route declares
// the roles it admits; the admin is admitted everywhere, except on the few routes only the
// operator's own admin token may call (making and revoking tokens).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dynchat::rest {

/// `booker` is no token's role: it is the visitor who booked a meeting, holding the
/// meeting's secret link (`?token=`), and it reaches only that meeting's routes.
enum class role : std::uint8_t { admin, marketer, sales_admin, agent, booker };

std::string_view to_string(role r) noexcept;
/// The roles an API token may have (never booker).
std::optional<role> role_from_string(std::string_view s) noexcept;

/// Who a request comes from, once its bearer token (or a meeting's link token) is known.
struct principal {
  rest::role role = role::admin;
  std::string agent_id; // for role agent: the agent it acts as; for booker: the meeting's id
  std::string token_id; // the API token's id; empty for the admin token and agent logins
  bool root = false;    // the operator's own admin token (server.admin_token), not an API token
  /// May this caller see what belongs to `agent_id`? Everyone the route admitted, except
  /// an agent looking at another agent's things, and a booker.
  bool may_see_agent(std::string_view owner) const {
    return role == role::agent ? owner == agent_id : role != role::booker;
  }
};

/// A set of roles, as a route declares them.
class role_set {
public:
  constexpr role_set() = default;
  constexpr role_set(std::initializer_list<role> roles) {
    for (auto r : roles) bits_ |= bit(r);
  }
  /// The operator's admin token only: an API token, even one with the admin role, is refused,
  /// so a token handed out can never make or revoke tokens.
  static constexpr role_set root_only() {
    role_set s;
    s.root_only_ = true;
    return s;
  }
  constexpr bool has(role r) const { return !root_only_ && (r == role::admin || (bits_ & bit(r)) != 0); }
  bool admits(const principal& p) const { return root_only_ ? p.root : has(p.role); }
  /// "admin, sales_admin": who the route is for.
  std::string describe() const;
  /// Why `p` is refused: who the route is for, and what the caller is.
  std::string refusal(const principal& p) const;

private:
  static constexpr std::uint8_t bit(role r) { return static_cast<std::uint8_t>(1u << static_cast<unsigned>(r)); }
  std::uint8_t bits_ = 0;
  bool root_only_ = false;
};

} // namespace dynchat::rest
