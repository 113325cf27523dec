#pragma once
// A dialogue's target URL, as marketers write it: `https://*.site.com/folder/*`.
//  - `*` matches any run of characters (none included), in the host and in the path.
//  - The scheme must match, or be `*`; hosts compare without case, paths with it.
//  - Query strings and fragments are ignored on both sides; a default port (:443 for
//    https, :80 for http) is the same as none; an empty path is "/".
// Patterns are compiled once, when a dialogue is published, and matched per page view.
#include <optional>
#include <string>
#include <string_view>

namespace dynchat::targeting {

/// A page address split the way patterns compare it.
struct page_url {
  std::string scheme; // lower case
  std::string host;   // lower case, with a non-default port kept (":8443")
  std::string path;   // "/" at least
};
/// nullopt for what is not an absolute http(s) address.
std::optional<page_url> parse_page_url(std::string_view url);

/// One part of a pattern (host or path), compiled: most are a literal, a prefix (`/folder/*`)
/// or a suffix (`*.site.com`), tested without the general matcher.
class glob {
public:
  explicit glob(std::string pattern);
  bool matches(std::string_view text) const;

private:
  enum class shape { literal, prefix, suffix, general } shape_;
  std::string pattern_; // the whole pattern (general) or its literal part
};

class url_pattern {
public:
  /// nullopt for a pattern that is not `scheme://host[/path]` with scheme http, https or *.
  static std::optional<url_pattern> compile(std::string_view pattern);
  bool matches(const page_url& page) const;

private:
  url_pattern(std::string scheme, std::string host, std::string path)
    : scheme_(std::move(scheme)), host_(std::move(host)), path_(std::move(path)) {}
  std::string scheme_; // "*" for any
  glob host_;
  glob path_;
};

/// Glob match where `*` matches any run of characters: linear in practice, O(n·m) at worst.
bool glob_match(std::string_view pattern, std::string_view text);

} // namespace dynchat::targeting
