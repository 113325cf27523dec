// The shape of a dialogue's card graph: what a save refuses (names of missing cards,
// cards nothing reaches, loops the bot would run through without the visitor, a live
// chat with something after it) and the paths a visitor can take.
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "dynchat/dialogue/validate.hpp"

namespace dynchat::dialogue {
namespace {

std::string card_path(std::size_t i) { return "cards[" + std::to_string(i) + "]"; }

// Every card a card names, with the path of the field that names it.
std::vector<std::pair<std::string, std::string>> references(const card& c, std::size_t i) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto at = card_path(i);
  for (std::size_t k = 0; k < c.answers.size(); ++k)
    if (!c.answers[k].next.empty()) out.emplace_back(at + ".answers[" + std::to_string(k) + "].next", c.answers[k].next);
  for (std::size_t k = 0; k < c.rules.size(); ++k)
    if (!c.rules[k].next.empty()) out.emplace_back(at + ".rules[" + std::to_string(k) + "].next", c.rules[k].next);
  if (!c.next.empty()) out.emplace_back(at + (c.kind == card_kind::branch ? ".default" : ".next"), c.next);
  if (!c.fallback.empty()) out.emplace_back(at + ".fallback", c.fallback);
  if (!c.nobody.next.empty()) out.emplace_back(at + ".fallback.next", c.nobody.next);
  return out;
}

std::string in_quotes(const std::string& id) { return "'" + id + "'"; }

// The ways on a card can take without the visitor answering: a question always waits; a
// capture waits unless it may be skipped; a meeting's fallback (taken when nothing can be
// booked) and a live chat's (nobody available) are taken at once.
std::vector<std::string> taken_without_input(const card& c) {
  std::vector<std::string> out;
  switch (c.kind) {
    case card_kind::question:
    case card_kind::end: break;
    case card_kind::capture:
      if (c.capture.when_known == when_known::skip && !c.next.empty()) out.push_back(c.next);
      break;
    case card_kind::meeting:
      if (!c.fallback.empty()) out.push_back(c.fallback);
      break;
    case card_kind::live_chat:
      if (!c.nobody.next.empty()) out.push_back(c.nobody.next);
      break;
    default: out = successors(c);
  }
  return out;
}

} // namespace

std::vector<std::string> successors(const card& c) {
  std::vector<std::string> out;
  for (auto& [path, id] : references(c, 0))
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  return out;
}

std::vector<problem> check_graph(const definition& d) {
  std::vector<problem> out;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < d.cards.size(); ++i) {
    auto [it, fresh] = index.emplace(d.cards[i].id, i);
    if (!fresh) out.push_back({card_path(i) + ".id", "is the id of " + card_path(it->second) + " too"});
  }
  if (!index.count(d.start)) out.push_back({"start", "names card " + in_quotes(d.start) + ", which does not exist"});
  for (std::size_t i = 0; i < d.cards.size(); ++i) {
    const auto& c = d.cards[i];
    for (auto& [path, id] : references(c, i))
      if (!index.count(id)) out.push_back({path, "names card " + in_quotes(id) + ", which does not exist"});
    if (c.kind == card_kind::live_chat && !c.next.empty())
      out.push_back({card_path(i) + ".next", "a live_chat card must be the last of its branch; what follows when "
                                             "nobody can take the chat goes in its fallback"});
  }
  if (!out.empty()) return out; // reachability and loops over a graph with holes would mislead

  // Cards no path from start reaches.
  std::vector<bool> reached(d.cards.size(), false);
  std::vector<std::size_t> todo{index.at(d.start)};
  reached[todo.front()] = true;
  while (!todo.empty()) {
    const auto i = todo.back();
    todo.pop_back();
    for (auto& id : successors(d.cards[i]))
      if (auto j = index.at(id); !reached[j]) {
        reached[j] = true;
        todo.push_back(j);
      }
  }
  for (std::size_t i = 0; i < d.cards.size(); ++i)
    if (!reached[i]) out.push_back({card_path(i), "card " + in_quotes(d.cards[i].id) + " is on no path from start"});

  // Loops the bot could run without the visitor: a depth-first search over the ways taken
  // without an answer; one back to a card on the stack closes such a loop. Each card is
  // reported in one loop at most.
  enum class mark { none, on_stack, done };
  std::vector<mark> marks(d.cards.size(), mark::none);
  std::vector<std::size_t> stack;
  std::set<std::size_t> reported;
  std::function<void(std::size_t)> visit = [&](std::size_t i) {
    marks[i] = mark::on_stack;
    stack.push_back(i);
    for (auto& id : taken_without_input(d.cards[i])) {
      const auto j = index.at(id);
      if (marks[j] == mark::on_stack && !reported.count(j)) {
        std::string loop;
        for (auto k = std::find(stack.begin(), stack.end(), j); k != stack.end(); ++k) {
          loop += in_quotes(d.cards[*k].id) + " -> ";
          reported.insert(*k);
        }
        loop += in_quotes(d.cards[j].id);
        out.push_back({card_path(j), "loops " + loop + " with no card that waits for the visitor (a question, or a "
                                                       "capture that is not skipped)"});
      } else if (marks[j] == mark::none) {
        visit(j);
      }
    }
    stack.pop_back();
    marks[i] = mark::done;
  };
  for (std::size_t i = 0; i < d.cards.size(); ++i)
    if (marks[i] == mark::none) visit(i);
  return out;
}

path_list enumerate_paths(const definition& d, std::size_t max_paths) {
  path_list out;
  std::map<std::string, const card*> by_id;
  for (const auto& c : d.cards) by_id.emplace(c.id, &c);
  if (!by_id.count(d.start)) return out;
  std::vector<std::string> path;
  // The answer's size is bounded too: long paths times many paths would be megabytes.
  const std::size_t max_ids = max_paths * 20;
  std::size_t ids = 0;
  const auto full = [&] { return out.paths.size() == max_paths || ids + path.size() + 1 > max_ids; };
  std::function<void(const std::string&)> walk = [&](const std::string& id) {
    if (out.truncated) return;
    if (full()) {
      out.truncated = true;
      return;
    }
    path.push_back(id);
    auto next = successors(*by_id.at(id));
    if (next.empty()) {
      out.paths.push_back(path);
      ids += path.size();
    }
    for (const auto& n : next) {
      if (out.truncated) break;
      if (!by_id.count(n)) continue;
      if (std::find(path.begin(), path.end(), n) != path.end()) { // back to a card already seen: the path ends there
        if (full()) {
          out.truncated = true;
          break;
        }
        out.paths.push_back(path);
        out.paths.back().push_back(n);
        ids += path.size() + 1;
      } else {
        walk(n);
      }
    }
    path.pop_back();
  };
  walk(d.start);
  return out;
}

} // namespace dynchat::dialogue
