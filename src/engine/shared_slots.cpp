// Times a live agent shares into the chat, their own or another agent's calendar: the
// visitor books one with `book`, whatever flow leads the conversation. The cursor keeps
// the times shared last and the booking in flight, under keys of their own.
#include "dynchat/calendar/slots.hpp"
#include "flows.hpp"

namespace dynchat::engine {
namespace {

using protocol::error_code;

constexpr const char* offered_key = "shared:offered"; // the slot ids, one per line
constexpr const char* booking_key = "shared:booking"; // the slot being booked

bool offered(const cursor& at, const std::string& slot_id) {
  auto it = at.answers.find(offered_key);
  if (it == at.answers.end() || slot_id.empty()) return false;
  return ("\n" + it->second).find("\n" + slot_id + "\n") != std::string::npos;
}

} // namespace

std::optional<step_result> shared_slots_step(const cursor& at, const input& what, const context& ctx) {
  if (const auto* f = std::get_if<in::slots_found>(&what); f && f->shared) {
    step_result r{{}, at};
    if (f->slots.empty()) {
      r.outputs.push_back(out::notice{f->agent_name + " has no free time to book in the next days.", {}});
      return r;
    }
    out::bot_message m{"Pick a time for a meeting with " + f->agent_name + ":", {}, {}, {}, {}, {}, f->agent_name};
    std::string ids;
    for (const auto& slot : f->slots) {
      (ids += slot.id) += '\n';
      m.slots.push_back({slot.id, slot.start_ms, slot.end_ms});
    }
    r.cursor.answers[offered_key] = std::move(ids);
    r.cursor.answers.erase(booking_key);
    r.outputs.push_back(std::move(m));
    return r;
  }
  if (const auto* ch = std::get_if<in::choice>(&what); ch && ch->is_slot && offered(at, ch->value)) {
    step_result r{{}, at};
    if (at.answers.count(booking_key)) {
      r.outputs.push_back(out::reject{error_code::busy, "a booking is in progress; wait for its answer"});
      return r;
    }
    r.cursor.answers[booking_key] = ch->value;
    r.cursor.engaged = true;
    r.outputs.push_back(out::book{ch->value, "agent"}); // the agent chose whose times: no turn is taken
    return r;
  }
  if (const auto* b = std::get_if<in::booking_result>(&what); b && at.answers.count(booking_key)) {
    step_result r{{}, at};
    r.cursor.answers.erase(booking_key);
    if (!b->booked) {
      r.outputs.push_back(out::notice{"That time was just taken; ask for fresh times.", {}});
      return r;
    }
    r.cursor.answers.erase(offered_key);
    r.outputs.push_back(out::bot_message{"You're booked with " + b->agent_name + " on " +
                                           calendar::local_label(b->start_ms, ctx.time_zone) +
                                           ". The invitation is on its way to your email.",
                                         {}, {}, {}, {}, {}, {}});
    r.outputs.push_back(out::activity{"meeting_booked", b->meeting_id});
    return r;
  }
  return std::nullopt;
}

std::optional<std::string> shared_slot_label(const cursor& at, const std::string& slot_id, const context& ctx) {
  const auto colon = slot_id.rfind(':');
  if (!offered(at, slot_id) || colon == std::string::npos) return std::nullopt;
  return calendar::local_label(std::stoll(slot_id.substr(colon + 1)), ctx.time_zone);
}

} // namespace dynchat::engine
