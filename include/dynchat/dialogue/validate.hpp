#pragma once
// A dialogue from its JSON, checked before anything is stored: every problem is listed,
// each with the path to what is wrong ("cards[3].answers[1].next") and why, so a marketer
// fixes them all in one go. A dialogue that passes also comes with every path a visitor
// can take through it.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dynchat/dialogue/model.hpp"

namespace dynchat::dialogue {

struct problem {
  std::string path; // where, from the top of the body: "cards[3].answers[1].next"
  std::string reason;
  bool operator==(const problem&) const = default;
};

/// What one dialogue may hold (dialogues.* in the configuration).
struct limits {
  std::size_t max_cards = 500;
  std::size_t max_urls = 20;        // target URLs, and exclusions apart
  std::size_t max_groups = 10;      // attribute groups of the audience
  std::size_t max_conditions = 10;  // per group, and per branch rule
  std::size_t max_answers = 10;     // buttons of a question
  std::size_t max_rules = 10;       // ways out of a branch
  std::size_t max_text_bytes = 2000;
  std::size_t max_set = 20;         // attributes one action sets
  std::size_t max_picklist = 50;
  std::size_t max_paths = 1000;     // paths returned by a save; more are cut off, and said so
};

struct checked {
  std::optional<definition> value; // set exactly when there is no problem
  std::vector<problem> problems;
};

/// Decodes and validates: fields, kinds, limits, then the graph (check_graph).
checked decode(const nlohmann::json& body, const limits& lim = {});

/// One attribute condition ({attribute, op, value}), as audiences and branches write it;
/// its problems (under `path`) go to `problems`. Routing rules use the same form.
dialogue::condition decode_condition(const nlohmann::json& j, const std::string& path, std::vector<problem>& problems,
                                     const limits& lim = {});
nlohmann::json to_json(const dialogue::condition& c);

/// The graph's problems: cards named but missing, cards no path reaches, loops that pass
/// no card waiting for the visitor, a live_chat card that is not last.
std::vector<problem> check_graph(const definition& d);

/// Every path from `start`: card ids in order, each ending where the dialogue ends or
/// where it would come back to a card already on the path (that card last, repeated).
struct path_list {
  std::vector<std::vector<std::string>> paths;
  bool truncated = false; // more than max_paths
};
path_list enumerate_paths(const definition& d, std::size_t max_paths);

/// Where a card can go next: its `next`, its answers', rules' and fallbacks' cards.
std::vector<std::string> successors(const card& c);

} // namespace dynchat::dialogue
