#pragma once
// The stand-in's activity log (internal to marketo_standin). Every generated lead n has
// three standard activities at fixed offsets from its createdAt (New Lead, Visit Webpage,
// Fill Out Form), so each kind is a sequence ordered like the leads and a page of the
// whole log is a merge of three binary-searched sequences and the activities added
// since (custom ones through the API, New Lead of leads created through it).
//
// Order and paging tokens: (activityDate, id). A token names the last activity handed
// out; the next page starts after it.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "marketo_standin_leads.hpp"

namespace dynchat::testing::standin {

struct attribute_def {
  std::string api_name; // custom types only
  std::string name;
  std::string description;
  std::string data_type;
};

struct activity_type {
  int id = 0;
  bool custom = false;
  std::string api_name, name, description, trigger_name, filter_name;
  std::optional<attribute_def> primary;
  std::vector<attribute_def> attributes;
  /// The attribute named so (by apiName or name), or nullptr.
  const attribute_def* attribute(std::string_view api_name_or_name) const;
};

struct activity {
  std::uint64_t id = 0;
  std::uint64_t lead_id = 0;
  std::int64_t date = 0;
  int type_id = 0;
  std::optional<std::int64_t> primary_value_id;
  std::optional<std::string> primary_value;
  std::vector<std::pair<std::string, nlohmann::json>> attributes; // by display name
};

struct activity_position {
  std::int64_t date = 0;
  std::uint64_t id = 0;
  auto operator<=>(const activity_position&) const = default;
};

std::string encode_paging_token(activity_position p);
std::optional<activity_position> decode_paging_token(std::string_view token);

class activity_log {
public:
  /// `types_created_at`: the createdAt/updatedAt the custom types report.
  activity_log(lead_generator gen, std::int64_t types_created_at);

  const std::vector<activity_type>& types() const { return types_; }
  const activity_type* type(int id) const;
  const activity_type* custom_type(std::string_view api_name) const;
  std::int64_t types_created_at() const { return types_created_at_; }

  /// Stores it with a new id; answers the id.
  std::uint64_t add(activity a);

  struct page {
    std::vector<activity> items;
    bool more = false;
    activity_position next;
  };
  /// Activities after `after` of the given types, of the given leads (all if null).
  page list(activity_position after, const std::set<int>& types, const std::vector<std::uint64_t>* leads,
            std::size_t batch) const;

private:
  activity generated(std::uint64_t n, unsigned kind) const;
  /// The first lead whose activity of this kind comes after p.
  std::uint64_t first_after(unsigned kind, activity_position p) const;

  lead_generator gen_;
  std::vector<activity_type> types_;
  std::int64_t types_created_at_;
  std::map<activity_position, activity> added_;
  std::unordered_multimap<std::uint64_t, activity_position> added_by_lead_;
  std::uint64_t next_id_;
};

} // namespace dynchat::testing::standin
