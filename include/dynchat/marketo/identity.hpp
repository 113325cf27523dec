#pragma once
// Who a visitor is, in Marketo's terms: the Munchkin tracking cookie (`_mkto_trk`) and
// the Adobe Experience Cloud org id an admin maps the instance to.
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace dynchat::marketo {

/// `id:123-ABC-456&token:_mch-example.com-1700000000000-12345`, as the browser holds it
/// (percent-encoded or not).
struct tracking_cookie {
  std::string munchkin_id; // 123-ABC-456
  std::string token;       // _mch-example.com-1700000000000-12345: the part that names the browser
  std::string value() const { return "id:" + munchkin_id + "&token:" + token; }
};
std::optional<tracking_cookie> parse_tracking_cookie(std::string_view raw);

/// An Experience Cloud org id: 24 hexadecimal characters, with or without `@AdobeOrg`.
/// Answers the id without the suffix, in upper case as Adobe prints it, or what is wrong.
std::variant<std::string, std::string> normalize_adobe_org(std::string_view raw);

} // namespace dynchat::marketo
