#include "dynchat/targeting/audience.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace dynchat::targeting {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequal(s.substr(0, prefix.size()), prefix);
}

bool icontains(std::string_view s, std::string_view part) {
  if (part.empty()) return true;
  return std::search(s.begin(), s.end(), part.begin(), part.end(), [](char x, char y) { return lower(x) == lower(y); }) !=
         s.end();
}

std::optional<double> number(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string_view field(const lead_attributes& lead, std::string_view name) {
  auto it = lead.find(name);
  return it == lead.end() ? std::string_view{} : std::string_view{it->second};
}

} // namespace

bool is_known(const lead_attributes& lead) { return !field(lead, "email").empty(); }

bool holds(const dialogue::condition& c, const lead_attributes& lead) {
  using dialogue::op;
  const auto value = field(lead, c.attribute);
  switch (c.op) {
    case op::is: return iequal(value, c.value);
    case op::is_not: return !iequal(value, c.value);
    case op::contains: return icontains(value, c.value);
    case op::starts_with: return istarts_with(value, c.value);
    case op::greater_than:
    case op::less_than: {
      auto a = number(value), b = number(c.value);
      if (!a || !b) return false;
      return c.op == op::greater_than ? *a > *b : *a < *b;
    }
    case op::is_empty: return value.empty();
    case op::is_not_empty: return !value.empty();
  }
  return false;
}

bool holds(const dialogue::condition_group& g, const lead_attributes& lead) {
  const auto test = [&](const dialogue::condition& c) { return holds(c, lead); };
  return g.all ? std::all_of(g.conditions.begin(), g.conditions.end(), test)
               : std::any_of(g.conditions.begin(), g.conditions.end(), test);
}

std::optional<compiled_audience> compiled_audience::compile(const dialogue::audience& a) {
  compiled_audience out;
  for (const auto& u : a.urls) {
    auto p = url_pattern::compile(u);
    if (!p) return std::nullopt;
    out.urls_.push_back(std::move(*p));
  }
  for (const auto& u : a.excluded) {
    auto p = url_pattern::compile(u);
    if (!p) return std::nullopt;
    out.excluded_.push_back(std::move(*p));
  }
  out.rules_ = a;
  return out;
}

bool compiled_audience::matches(const page_url& page, const lead_attributes& lead) const {
  using dialogue::visitor_kind;
  // The cheap tests first: known or not, then the page, then the attributes.
  if (rules_.visitors != visitor_kind::any && (rules_.visitors == visitor_kind::known) != is_known(lead)) return false;
  const auto on_page = [&](const url_pattern& p) { return p.matches(page); };
  if (!urls_.empty() && std::none_of(urls_.begin(), urls_.end(), on_page)) return false;
  if (std::any_of(excluded_.begin(), excluded_.end(), on_page)) return false;
  const auto& groups = rules_.groups;
  if (groups.empty()) return true;
  const auto test = [&](const dialogue::condition_group& g) { return holds(g, lead); };
  return rules_.all_groups ? std::all_of(groups.begin(), groups.end(), test) : std::any_of(groups.begin(), groups.end(), test);
}

std::optional<std::string> resolve(const std::vector<candidate>& published, const page_url& page,
                                   const lead_attributes& lead, const std::set<std::string, std::less<>>& skip) {
  const candidate* best = nullptr;
  for (const auto& c : published) {
    if (best && (c.priority > best->priority || (c.priority == best->priority && c.dialogue_id > best->dialogue_id)))
      continue; // cannot win: no need to match it
    if (skip.count(c.dialogue_id) || !c.audience.matches(page, lead)) continue;
    best = &c;
  }
  if (!best) return std::nullopt;
  return best->dialogue_id;
}

} // namespace dynchat::targeting
