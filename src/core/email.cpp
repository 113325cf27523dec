#include "dynchat/core/email.hpp"

#include <algorithm>
#include <cctype>

namespace dynchat {

bool valid_email(std::string_view s) {
  const auto at = s.find('@');
  if (s.size() > 254 || at == 0 || at == std::string_view::npos || at > 64) return false;
  const auto local = s.substr(0, at), domain = s.substr(at + 1);
  static constexpr std::string_view local_extra = "!#$%&'*+/=?^_`{|}~.-";
  for (char c : local)
    if (!std::isalnum(static_cast<unsigned char>(c)) && local_extra.find(c) == std::string_view::npos) return false;
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) return false;
  std::size_t labels = 0;
  std::string_view last;
  for (std::size_t start = 0; start <= domain.size(); ++labels) {
    const auto end = std::min(domain.find('.', start), domain.size());
    const auto label = domain.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    last = label;
    start = end + 1;
  }
  return labels >= 2 && last.size() >= 2 &&
         std::all_of(last.begin(), last.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
}

} // namespace dynchat
