#pragma once
// The lead fields an admin selects to sync (at most 50; email always), and the rules a
// new selection must follow: every field described by Marketo, none removed while a
// dialogue uses it.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dynchat/marketo/api.hpp"

namespace dynchat::marketo {

inline constexpr std::size_t max_selected_fields = 50;

struct described_field {
  std::string name;         // the REST name: firstName
  std::string display_name; // First Name
  std::string data_type;    // string, email, integer, datetime, …
  bool read_only = false;
};
/// `GET /rest/v1/leads/describe.json`'s result; fields without a REST name are skipped.
std::vector<described_field> parse_describe(const envelope& answer);
nlohmann::json to_json(const described_field& f);

struct selection_outcome {
  std::vector<std::string> fields; // the selection to store: email first, then as given, no repeats
  std::vector<std::string> added;  // compared with the current one
  std::vector<std::string> removed;
  std::vector<std::string> errors; // empty: it may be stored
};
/// `in_use`: field → the dialogues that use it. `described` empty: Marketo's field list
/// is not known (no connection yet), so names are not checked against it.
selection_outcome check_selection(const std::vector<std::string>& requested, const std::vector<described_field>& described,
                                  const std::vector<std::string>& current,
                                  const std::map<std::string, std::vector<std::string>>& in_use,
                                  std::size_t max_fields = max_selected_fields);

} // namespace dynchat::marketo
