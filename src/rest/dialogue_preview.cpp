#include "dynchat/rest/dialogue_preview.hpp"

#include "dynchat/protocol/codec.hpp"

namespace dynchat::rest {
namespace {

using nlohmann::json;

failure<int> refuse(std::string why) { return {400, std::move(why)}; }

struct output_to_json {
  json operator()(const engine::out::bot_message& m) const {
    json j{{"type", "bot"}, {"text", m.text}};
    if (!m.options.empty()) {
      j["options"] = json::array();
      for (const auto& o : m.options) j["options"].push_back({{"label", o.label}, {"value", o.value}});
    }
    if (!m.input_kind.empty()) j["input"] = m.input_kind;
    if (!m.placeholder.empty()) j["placeholder"] = m.placeholder;
    if (!m.link.empty()) j["link"] = m.link;
    return j;
  }
  json operator()(const engine::out::notice& n) const { return {{"type", "notice"}, {"text", n.text}}; }
  json operator()(const engine::out::typing& t) const { return {{"type", "typing"}, {"delay_ms", t.delay_ms}}; }
  json operator()(const engine::out::hand_over&) const { return {{"type", "hand_over"}}; }
  json operator()(const engine::out::withdraw&) const { return {{"type", "withdraw"}}; }
  json operator()(const engine::out::ask_slots&) const { return {{"type", "ask_slots"}}; }
  json operator()(const engine::out::book& b) const { return {{"type", "book"}, {"slot", b.slot_id}}; }
  json operator()(const engine::out::set_attribute& s) const { return {{"type", "set"}, {"field", s.name}, {"value", s.value}}; }
  json operator()(const engine::out::goal& g) const { return {{"type", "goal"}, {"name", g.name}, {"score", g.score}}; }
  json operator()(const engine::out::end& e) const { return {{"type", "end"}, {"reason", e.reason}}; }
  json operator()(const engine::out::activity& a) const { return {{"type", "activity"}, {"kind", a.kind}, {"detail", a.detail}}; }
  json operator()(const engine::out::reject& r) const {
    return {{"type", "refused"}, {"code", protocol::to_string(r.code)}, {"message", r.text}};
  }
};

json input_json(const engine::input& in) {
  if (auto* t = std::get_if<engine::in::visitor_text>(&in)) return {{"text", t->text}};
  if (auto* c = std::get_if<engine::in::choice>(&in)) return {{"choice", c->value}};
  if (auto* c = std::get_if<engine::in::capture>(&in)) return {{"capture", c->value}};
  return {{"start", true}};
}

} // namespace

json output_json(const engine::output& o) { return std::visit(output_to_json{}, o); }

result<preview_request, int> decode_preview_body(const json& body, std::size_t max_inputs) {
  if (!body.is_object()) return refuse("the body must be an object");
  preview_request r;
  for (auto& [key, value] : body.items())
    if (key != "lead" && key != "agents" && key != "inputs") return refuse(key + " is not a field of a preview");
  if (auto it = body.find("lead"); it != body.end()) {
    if (!it->is_object() || it->size() > 100) return refuse("lead must be an object of at most 100 fields");
    for (auto& [field, value] : it->items()) {
      if (!value.is_string() || value.get<std::string>().size() > 1000)
        return refuse("lead." + field + " must be a string of at most 1000 bytes");
      r.lead.attributes[field] = value.get<std::string>();
    }
    auto email = r.lead.attributes.find("email");
    r.lead.known = email != r.lead.attributes.end() && !email->second.empty();
  }
  if (auto it = body.find("agents"); it != body.end()) {
    const auto v = it->is_string() ? it->get<std::string>() : std::string{};
    if (v == "available") r.agents = engine::agent_availability::some_available;
    else if (v == "none") r.agents = engine::agent_availability::none_available;
    else if (v != "unknown") return refuse("agents must be \"available\", \"none\" or \"unknown\"");
  }
  if (auto it = body.find("inputs"); it != body.end()) {
    if (!it->is_array()) return refuse("inputs must be an array");
    if (it->size() > max_inputs) return refuse("at most " + std::to_string(max_inputs) + " inputs");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const auto& step = (*it)[i];
      const auto where = "inputs[" + std::to_string(i) + "]";
      if (!step.is_object() || step.size() != 1) return refuse(where + " must be one of {\"text\"}, {\"choice\"}, {\"capture\"}");
      const auto first = step.begin(); // (a binding to *items().begin() dangles: items() is a temporary)
      const std::string& kind = first.key();
      const json& value = first.value();
      if (!value.is_string() || value.get<std::string>().size() > 4000)
        return refuse(where + "." + kind + " must be a string of at most 4000 bytes");
      auto v = value.get<std::string>();
      if (kind == "text") r.inputs.push_back(engine::in::visitor_text{std::move(v)});
      else if (kind == "choice") r.inputs.push_back(engine::in::choice{std::move(v), false});
      else if (kind == "capture") r.inputs.push_back(engine::in::capture{std::move(v)});
      else return refuse(where + " must be one of {\"text\"}, {\"choice\"}, {\"capture\"}");
    }
  }
  return r;
}

json run_preview(const dialogue::definition& d, const preview_request& r, const preview_settings& s) {
  engine::cursor at;
  at.flow = engine::flow_kind::dialogue;
  const engine::context ctx{&r.lead, r.agents, 0, &d, s.response_delay_ms, &s.blocked_email_domains};
  json steps = json::array();
  // The answer is bounded: texts are, but 100 steps of a long dialogue add up.
  constexpr std::size_t max_answer_bytes = 4 << 20;
  std::size_t bytes = 0;
  bool truncated = false;
  auto take = [&](const engine::input& in) {
    if (truncated) return;
    auto result = engine::step(at, in, ctx);
    at = std::move(result.cursor);
    json outputs = json::array();
    for (const auto& o : result.outputs) {
      auto j = output_json(o);
      bytes += j.dump().size();
      outputs.push_back(std::move(j));
    }
    steps.push_back({{"input", input_json(in)}, {"outputs", std::move(outputs)}});
    truncated = bytes > max_answer_bytes;
  };
  take(engine::in::started{});
  for (const auto& in : r.inputs) take(in);
  return {{"steps", std::move(steps)},
          {"truncated", truncated},
          {"cursor", {{"card", at.card}, {"engaged", at.engaged}, {"completed", at.completed}, {"finished", at.finished},
                      {"handed_over", at.handed_over}}}};
}

} // namespace dynchat::rest
