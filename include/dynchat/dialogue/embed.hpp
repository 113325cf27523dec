#pragma once
// A dialogue's `flow` cards, written out: the conversational flow each one names is
// copied into the dialogue when it is published, so the published version holds every
// card a visitor can meet and stays what it was, whatever later becomes of the flow.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dynchat/dialogue/validate.hpp"

namespace dynchat::dialogue {

/// A flow's JSON as it is published; nullopt when no published flow has that id.
using flow_lookup = std::function<std::optional<nlohmann::json>(const std::string& flow_id)>;

struct embedded {
  std::optional<nlohmann::json> value; // set exactly when there is no problem
  std::vector<problem> problems;
};

/// `body` (a dialogue or flow that decodes) with each `flow` card leading into a copy of
/// its flow: the copy's card ids are the flow card's id, a dot, and the flow's own ids
/// ("pricing.ask"); where the flow ends, the copy goes on at the flow card's `next` (an
/// `end` with text says it first). A published flow has its own flow cards written out
/// already, as they were when it was published, so one level is all there is to do. The
/// result is checked again by decode(), which applies the card limit to the whole.
embedded embed_flows(const nlohmann::json& body, const flow_lookup& lookup);

} // namespace dynchat::dialogue
