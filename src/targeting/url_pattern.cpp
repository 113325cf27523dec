#include "dynchat/targeting/url_pattern.hpp"

#include <algorithm>
#include <cctype>

namespace dynchat::targeting {
namespace {

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// scheme, host (with port), path; query and fragment cut off. nullopt without "://".
struct parts {
  std::string scheme, host, path;
};
std::optional<parts> split(std::string_view url) {
  const auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  parts p;
  p.scheme = lower(url.substr(0, sep));
  auto rest = url.substr(sep + 3);
  rest = rest.substr(0, rest.find_first_of("?#"));
  if (rest.find('\\') != std::string_view::npos) return std::nullopt; // browsers read it as '/': refuse both readings
  const auto slash = rest.find('/');
  auto host = rest.substr(0, slash);
  if (const auto at = host.rfind('@'); at != std::string_view::npos) host = host.substr(at + 1); // user info
  if (!host.empty() && host.back() == '.') host.remove_suffix(1); // "site.com." is site.com
  if (host.empty() || host.front() == ':') return std::nullopt;
  p.host = lower(host);
  p.path = slash == std::string_view::npos ? "/" : std::string{rest.substr(slash)};
  // The default port is no port.
  const auto strip = [&](std::string_view port) {
    if (p.host.size() > port.size() && p.host.compare(p.host.size() - port.size(), port.size(), port) == 0)
      p.host.resize(p.host.size() - port.size());
  };
  if (p.scheme == "https") strip(":443");
  if (p.scheme == "http") strip(":80");
  return p;
}

} // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1; // the last star takes one more character
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::optional<page_url> parse_page_url(std::string_view url) {
  auto p = split(url);
  if (!p || (p->scheme != "http" && p->scheme != "https")) return std::nullopt;
  return page_url{std::move(p->scheme), std::move(p->host), std::move(p->path)};
}

glob::glob(std::string pattern) {
  const auto stars = std::count(pattern.begin(), pattern.end(), '*');
  if (stars == 0) {
    shape_ = shape::literal;
  } else if (stars == 1 && pattern.back() == '*') {
    shape_ = shape::prefix;
    pattern.pop_back();
  } else if (stars == 1 && pattern.front() == '*') {
    shape_ = shape::suffix;
    pattern.erase(0, 1);
  } else {
    shape_ = shape::general;
  }
  pattern_ = std::move(pattern);
}

bool glob::matches(std::string_view text) const {
  switch (shape_) {
    case shape::literal: return text == pattern_;
    case shape::prefix: return text.substr(0, pattern_.size()) == pattern_;
    case shape::suffix: return text.size() >= pattern_.size() && text.substr(text.size() - pattern_.size()) == pattern_;
    case shape::general: return glob_match(pattern_, text);
  }
  return false;
}

std::optional<url_pattern> url_pattern::compile(std::string_view pattern) {
  auto p = split(pattern);
  if (!p || (p->scheme != "http" && p->scheme != "https" && p->scheme != "*")) return std::nullopt;
  return url_pattern{std::move(p->scheme), std::move(p->host), std::move(p->path)};
}

bool url_pattern::matches(const page_url& page) const {
  if (scheme_ != "*" && scheme_ != page.scheme) return false;
  return path_.matches(page.path) && host_.matches(page.host); // paths tell targets apart more often
}

} // namespace dynchat::targeting
