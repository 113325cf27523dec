#include "dynchat/dialogue/library.hpp"

#include <nlohmann/json.hpp>

#include "dynchat/dialogue/validate.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat::dialogue {

const published_dialogue* published_set::flow(std::string_view id) const {
  auto it = by_id.find(id);
  return it != by_id.end() && it->second.def && it->second.def->type == definition_type::flow ? &it->second : nullptr;
}

const published_dialogue* published_set::resolve(std::string_view page_url, const targeting::lead_attributes& lead,
                                                 const std::set<std::string, std::less<>>& skip) const {
  if (candidates.empty()) return nullptr;
  auto page = targeting::parse_page_url(page_url);
  if (!page) return nullptr; // not an http(s) page: no target URL can match it
  auto id = targeting::resolve(candidates, *page, lead, skip);
  if (!id) return nullptr;
  auto it = by_id.find(*id);
  return it == by_id.end() ? nullptr : &it->second;
}

std::shared_ptr<const published_set> library::published() const {
  std::lock_guard lock{mutex_};
  return published_;
}

definition_ptr library::parsed(const std::string& dialogue_id, std::uint32_t version, const std::string& json_text) {
  {
    std::lock_guard lock{mutex_};
    if (auto it = versions_.find({dialogue_id, version}); it != versions_.end())
      if (auto held = it->second.lock()) return held;
  }
  auto checked = decode(nlohmann::json::parse(json_text, nullptr, false));
  // Validated when it was published: only a build with stricter rules refuses it now.
  if (!checked.value) return nullptr;
  auto def = std::make_shared<const definition>(std::move(*checked.value));
  std::lock_guard lock{mutex_};
  auto& slot = versions_[{dialogue_id, version}];
  if (auto held = slot.lock()) return held; // another thread parsed it meanwhile
  slot = def;
  return def;
}

definition_ptr library::version(const std::string& dialogue_id, std::uint32_t version) {
  {
    std::lock_guard lock{mutex_};
    if (auto it = versions_.find({dialogue_id, version}); it != versions_.end())
      if (auto held = it->second.lock()) return held;
  }
  std::optional<std::string> text;
  {
    auto txn = db_->read();
    text = store::load_dialogue_version(txn, dialogue_id, version);
  }
  return text ? parsed(dialogue_id, version, *text) : nullptr;
}

void library::reload() {
  std::vector<std::pair<store::dialogue_record, std::string>> records;
  {
    auto txn = db_->read();
    for (auto& d : store::load_dialogues(txn)) {
      if (d.status != store::dialogue_status::published || d.published_version == 0) continue;
      auto text = store::load_dialogue_version(txn, d.id, d.published_version);
      if (text) records.emplace_back(std::move(d), std::move(*text));
    }
  }
  auto next = std::make_shared<published_set>();
  for (auto& [d, text] : records) {
    auto def = parsed(d.id, d.published_version, text);
    if (!def) continue;
    if (def->type == definition_type::dialogue) { // a flow is started by its page, never resolved
      auto audience = targeting::compiled_audience::compile(def->audience);
      if (!audience) continue;
      next->candidates.push_back({d.id, d.published_priority, std::move(*audience)});
    }
    next->by_id.emplace(d.id, published_dialogue{d.id, def->name, d.published_version, def});
  }
  {
    std::lock_guard lock{mutex_};
    published_ = std::move(next);
    // Versions nobody holds any more are forgotten.
    for (auto it = versions_.begin(); it != versions_.end();) it = it->second.expired() ? versions_.erase(it) : std::next(it);
  }
}

} // namespace dynchat::dialogue
