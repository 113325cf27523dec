#include "dynchat/dialogue/embed.hpp"

#include <map>

namespace dynchat::dialogue {
namespace {

using json = nlohmann::json;
constexpr std::size_t max_card_id = 64; // as decode() allows

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

bool has_ref(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() && !blank(it->get<std::string>());
}

// Every place a card names another card, rewritten by `rename`.
template <class F>
void for_each_ref(json& card, F&& rename) {
  auto at = [&](json& obj, const char* key) {
    if (auto it = obj.find(key); it != obj.end() && it->is_string() && !blank(it->get<std::string>())) rename(*it);
  };
  at(card, "next");
  at(card, "default");
  if (auto it = card.find("fallback"); it != card.end()) {
    if (it->is_string()) at(card, "fallback");
    else if (it->is_object()) at(*it, "next");
  }
  for (const char* list : {"answers", "rules"})
    if (auto it = card.find(list); it != card.end() && it->is_array())
      for (auto& item : *it)
        if (item.is_object()) at(item, "next");
}

// Where this card of a flow would end the conversation, it goes on at `exit` instead.
void continue_at(json& card, const std::string& exit, const std::string& flow_id) {
  const std::string kind = card.value("kind", "");
  if (kind == "end") {
    const std::string text = card.value("text", "");
    json on{{"id", card["id"]}, {"next", exit}};
    if (blank(text)) { // nothing to say: a card passed over on the way out
      on["kind"] = "flow";
      on["flow_id"] = flow_id;
    } else {
      on["kind"] = "message";
      on["text"] = text;
    }
    card = std::move(on);
  } else if (kind == "question") {
    if (auto it = card.find("answers"); it != card.end() && it->is_array())
      for (auto& a : *it)
        if (a.is_object() && !has_ref(a, "next")) a["next"] = exit;
  } else if (kind == "live_chat") { // last of its branch; its fallback may go on
    if (auto it = card.find("fallback"); it != card.end() && it->is_object() && !has_ref(*it, "next")) (*it)["next"] = exit;
  } else if (kind != "branch" && !has_ref(card, "next")) {
    card["next"] = exit;
  }
}

} // namespace

embedded embed_flows(const json& body, const flow_lookup& lookup) {
  embedded out;
  if (!body.is_object() || !body.contains("cards") || !body["cards"].is_array()) {
    out.value = body;
    return out;
  }
  json result = body;
  json cards = json::array();
  const auto& given = body["cards"];
  for (std::size_t i = 0; i < given.size(); ++i) {
    json card = given[i];
    const std::string where = "cards[" + std::to_string(i) + "]";
    if (!card.is_object() || card.value("kind", "") != "flow") {
      cards.push_back(std::move(card));
      continue;
    }
    const std::string id = card.value("id", "");
    const std::string flow_id = card.value("flow_id", "");
    auto flow = lookup(flow_id);
    if (!flow || !flow->is_object() || !flow->contains("cards") || !(*flow)["cards"].is_array()) {
      out.problems.push_back({where + ".flow_id", "no published conversational flow has the id '" + flow_id.substr(0, 64) + "'"});
      cards.push_back(std::move(card));
      continue;
    }
    const std::string exit = has_ref(card, "next") ? card["next"].get<std::string>() : std::string{};
    const std::string prefix = id + ".";
    auto renamed = [&](const std::string& ref) { return prefix + ref; };
    std::size_t longest = 0;
    json copies = json::array();
    for (json c : (*flow)["cards"]) {
      if (!c.is_object() || !c.contains("id") || !c["id"].is_string()) continue; // a published flow decodes
      c["id"] = renamed(c["id"].get<std::string>());
      longest = std::max(longest, c["id"].get<std::string>().size());
      for_each_ref(c, [&](json& ref) { ref = renamed(ref.get<std::string>()); });
      if (!exit.empty()) continue_at(c, exit, flow_id);
      copies.push_back(std::move(c));
    }
    if (longest > max_card_id) {
      out.problems.push_back({where + ".id", "with the ids of flow '" + flow_id.substr(0, 64) + "' after it, card ids reach " +
                                               std::to_string(longest) + " characters, over " + std::to_string(max_card_id) +
                                               "; give this card a shorter id"});
      cards.push_back(std::move(card));
      continue;
    }
    card["next"] = renamed(flow->value("start", ""));
    cards.push_back(std::move(card));
    for (auto& c : copies) cards.push_back(std::move(c));
  }
  if (!out.problems.empty()) return out;
  result["cards"] = std::move(cards);
  out.value = std::move(result);
  return out;
}

} // namespace dynchat::dialogue
