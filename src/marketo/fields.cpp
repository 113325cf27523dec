#include "dynchat/marketo/fields.hpp"

#include <algorithm>
#include <set>

namespace dynchat::marketo {

std::vector<described_field> parse_describe(const envelope& answer) {
  std::vector<described_field> out;
  for (const auto& f : answer.result) {
    if (!f.is_object()) continue;
    described_field d;
    auto rest = f.find("rest");
    if (rest == f.end() || !rest->is_object()) continue;
    d.name = rest->value("name", "");
    if (d.name.empty()) continue;
    d.read_only = rest->value("readOnly", false);
    d.display_name = f.value("displayName", d.name);
    d.data_type = f.value("dataType", "");
    out.push_back(std::move(d));
  }
  return out;
}

nlohmann::json to_json(const described_field& f) {
  return {{"name", f.name}, {"display_name", f.display_name}, {"data_type", f.data_type}, {"read_only", f.read_only}};
}

selection_outcome check_selection(const std::vector<std::string>& requested, const std::vector<described_field>& described,
                                  const std::vector<std::string>& current,
                                  const std::map<std::string, std::vector<std::string>>& in_use, std::size_t max_fields) {
  selection_outcome out;
  std::set<std::string> seen;
  auto take = [&](const std::string& f) {
    if (seen.insert(f).second) out.fields.push_back(f);
  };
  take("email");
  for (const auto& f : requested) {
    if (f.empty()) {
      out.errors.push_back("a field name is empty");
      continue;
    }
    take(f);
  }
  if (out.fields.size() > max_fields)
    out.errors.push_back(std::to_string(out.fields.size()) + " fields selected (email included): at most " +
                         std::to_string(max_fields) + " can be synced");
  if (!described.empty()) {
    for (const auto& f : out.fields) {
      const bool known = std::any_of(described.begin(), described.end(), [&](const auto& d) { return d.name == f; });
      if (!known) out.errors.push_back("\"" + f + "\" is not a lead field Marketo describes");
    }
  }
  for (const auto& f : out.fields)
    if (std::find(current.begin(), current.end(), f) == current.end()) out.added.push_back(f);
  for (const auto& f : current) {
    if (seen.count(f)) continue;
    out.removed.push_back(f);
    if (auto it = in_use.find(f); it != in_use.end() && !it->second.empty()) {
      std::string names;
      for (const auto& d : it->second) names += (names.empty() ? "" : ", ") + d;
      out.errors.push_back("\"" + f + "\" cannot be removed: dialogues use it (" + names + ")");
    }
  }
  return out;
}

} // namespace dynchat::marketo
