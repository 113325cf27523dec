#include "dynchat/engine/start_flow.hpp"

namespace dynchat::engine {

flow_start start_flow(const cursor& at, const std::string& flow_id, std::uint32_t version) {
  flow_start s;
  if (at.handed_over) {
    s.reason = "a live chat is going on; a flow can start after it ends";
    return s;
  }
  // A second click on the same link while its flow waits for an answer: asked again,
  // never restarted (there is no going back inside a flow either).
  if (at.flow == flow_kind::conversational_flow && at.flow_id == flow_id && !at.finished) {
    s.what = flow_start::outcome::running;
    return s;
  }
  s.what = flow_start::outcome::start;
  s.started.flow = flow_kind::conversational_flow;
  s.started.flow_id = flow_id;
  s.started.flow_version = version;
  s.started.start_asked = true; // a flow waits for no page event: the trigger was one
  // What the visitor told so far (the fields captured or set) still holds; which answers
  // they gave to which cards belongs to the flow that asked.
  for (const auto& [key, value] : at.answers)
    if (key.rfind("field:", 0) == 0) s.started.answers.emplace(key, value);
  return s;
}

} // namespace dynchat::engine
