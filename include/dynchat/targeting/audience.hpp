#pragma once
// Who a dialogue is for, decided per page view, without actors: the page's URL against
// the target URLs and exclusions, the visitor known or anonymous, the lead's attributes
// against the condition groups. Among the published dialogues that match, the highest
// priority (the lowest number) wins. Audiences are compiled once, when a dialogue is
// published; `resolve` runs for every visitor who opens a page.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dynchat/dialogue/model.hpp"
#include "dynchat/targeting/url_pattern.hpp"

namespace dynchat::targeting {

/// The lead's attributes by field name; a missing field reads as empty.
using lead_attributes = std::map<std::string, std::string, std::less<>>;

/// Is `c` true of this lead? Text comparisons ignore case; greater_than and less_than
/// compare numbers and are false when either side is not one.
bool holds(const dialogue::condition& c, const lead_attributes& lead);
bool holds(const dialogue::condition_group& g, const lead_attributes& lead);

/// Known: the lead has an email.
bool is_known(const lead_attributes& lead);

class compiled_audience {
public:
  /// nullopt when a URL pattern does not compile (the dialogue's validation refuses those first).
  static std::optional<compiled_audience> compile(const dialogue::audience& a);
  bool matches(const page_url& page, const lead_attributes& lead) const;

private:
  std::vector<url_pattern> urls_, excluded_;
  dialogue::audience rules_;
};

/// A published dialogue as targeting sees it.
struct candidate {
  std::string dialogue_id;
  std::uint32_t priority = 1;
  compiled_audience audience;
};

/// The dialogue this visitor meets on this page: the matching candidate of the highest
/// priority (ties: the smaller id), skipping those in `skip` (already triggered for this
/// visitor, or completed). nullopt: no dialogue for them here.
std::optional<std::string> resolve(const std::vector<candidate>& published, const page_url& page,
                                   const lead_attributes& lead, const std::set<std::string, std::less<>>& skip = {});

} // namespace dynchat::targeting
