#pragma once
// POST /v1/dialogues/{id}/preview: a dialogue run through the conversation engine over
// scripted visitor inputs and a lead, stored nowhere: a marketer's test mode, and the
// tests'. Plain code: the REST handler reads the draft and answers what comes out.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dynchat/core/result.hpp"
#include "dynchat/dialogue/model.hpp"
#include "dynchat/engine/step.hpp"

namespace dynchat::rest {

struct preview_request {
  engine::lead lead;
  engine::agent_availability agents = engine::agent_availability::unknown;
  std::vector<engine::input> inputs; // after the start, in order
};

/// {"lead": {field: value}, "agents": "available" | "none" | "unknown",
///  "inputs": [{"text": ...} | {"choice": ...} | {"capture": ...}]}; at most `max_inputs`.
result<preview_request, int> decode_preview_body(const nlohmann::json& body, std::size_t max_inputs = 100);

struct preview_settings {
  std::int64_t response_delay_ms = 0;
  std::vector<std::string> blocked_email_domains;
};

/// {"steps": [{"input": ..., "outputs": [...]}], "cursor": {...}}: the start, then each input.
nlohmann::json run_preview(const dialogue::definition& d, const preview_request& r, const preview_settings& s);

/// One engine output as the preview shows it ({"type": "bot", "text": ...}, ...).
nlohmann::json output_json(const engine::output& o);

} // namespace dynchat::rest
