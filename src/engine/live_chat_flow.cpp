// Live chat: every conversation goes straight to an agent, and again when the visitor
// writes into one that has ended. It offers nothing to choose or capture; a meeting is
// booked here only from times the agent shares (shared_slots.cpp).
#include "flows.hpp"

namespace dynchat::engine {
namespace {

using protocol::error_code;

struct live_chat {
  cursor next;
  std::vector<output> outputs;

  void ask_for_agent() {
    if (next.handed_over) return; // already waiting or live
    next.handed_over = true;
    outputs.push_back(out::hand_over{});
  }

  void operator()(const in::started&) { ask_for_agent(); }
  void operator()(const in::visitor_text&) {
    next.engaged = true;
    ask_for_agent();
  }
  void operator()(const in::choice& c) {
    outputs.push_back(out::reject{error_code::unsupported, c.is_slot ? "this conversation offers no meeting slots"
                                                                     : "this conversation offers no options"});
  }
  void operator()(const in::capture&) {
    outputs.push_back(out::reject{error_code::unsupported, "this conversation asks for nothing"});
  }
  void operator()(const in::booking_result&) {} // it never asked to book
  void operator()(const in::timer_due& t) { drop_timer(next, t.name); }
  void operator()(const in::agent_joined& j) { engine::agent_joined(next, outputs, j); }
  void operator()(const in::chat_ended& e) {
    next.handed_over = false;
    outputs.push_back(out::notice{ended_text(e.reason, e.agent_name), {}});
  }
  void operator()(const in::agent_missed&) {} // the request stands; the router offers it again
  void operator()(const in::none_available& n) { outputs.push_back(out::notice{in_line_text(n.place_in_line), {}}); }
  void operator()(const in::lead_resolved&) {}
  void operator()(const in::trigger&) {}
  void operator()(const in::page_event&) {}
  void operator()(const in::resumed&) {} // its messages need no prompt
  void operator()(const in::slots_found&) {} // only an agent shares slots here (shared_slots.cpp)
};

} // namespace

step_result live_chat_step(const cursor& at, const input& what, const context&) {
  live_chat flow{at, {}};
  std::visit(flow, what);
  return {std::move(flow.outputs), std::move(flow.next)};
}

} // namespace dynchat::engine
