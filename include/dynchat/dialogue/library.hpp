#pragma once
// The published dialogues as visitors meet them, shared by every actor that needs them:
// the directory resolves a new visitor against the published set, and each conversation
// keeps the one version it was pinned to. Definitions are parsed once per version and
// shared read-only; the published set is replaced whole (never changed in place) when a
// dialogue is published or unpublished, so a reader holds a consistent snapshot.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "dynchat/dialogue/model.hpp"
#include "dynchat/targeting/audience.hpp"

namespace dynchat::store {
class database;
}

namespace dynchat::dialogue {

using definition_ptr = std::shared_ptr<const definition>;

/// One published dialogue: the version new visitors get.
struct published_dialogue {
  std::string id;
  std::string name;
  std::uint32_t version = 0;
  definition_ptr def;
};

/// Every published dialogue, compiled for resolution, and every published flow.
struct published_set {
  std::vector<targeting::candidate> candidates;
  std::map<std::string, published_dialogue, std::less<>> by_id;

  /// The dialogue this visitor meets on this page (see targeting::resolve), or null.
  const published_dialogue* resolve(std::string_view page_url, const targeting::lead_attributes& lead,
                                    const std::set<std::string, std::less<>>& skip) const;

  /// The published conversational flow with this id, or null (none, or a dialogue).
  const published_dialogue* flow(std::string_view id) const;
};

class library {
public:
  explicit library(std::shared_ptr<store::database> db) : db_(std::move(db)) {}

  /// The published set as of the last reload; never null.
  std::shared_ptr<const published_set> published() const;

  /// Reads every published dialogue from the store and replaces the published set.
  /// Throws store_error when the store cannot be read (the old set stays).
  void reload();

  /// One version's definition, parsed on first use and kept while anyone holds it.
  /// Null when the store has no such version or it no longer decodes.
  /// Throws store_error when the store cannot be read.
  definition_ptr version(const std::string& dialogue_id, std::uint32_t version);

private:
  definition_ptr parsed(const std::string& dialogue_id, std::uint32_t version, const std::string& json_text);

  std::shared_ptr<store::database> db_;
  mutable std::mutex mutex_;
  std::shared_ptr<const published_set> published_ = std::make_shared<published_set>();
  std::map<std::pair<std::string, std::uint32_t>, std::weak_ptr<const definition>> versions_;
};

} // namespace dynchat::dialogue
