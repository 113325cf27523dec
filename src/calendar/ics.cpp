// iCalendar through libical (docs/meetings.md, "Connected calendars" and "Invites").
// libical keeps global state (its error number, its time-zone cache), so every use of it
// here holds one lock: a calendar is parsed by one thread at a time.
#include "dynchat/calendar/ics.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include <libical/ical.h>

namespace dynchat::calendar {
namespace {

std::mutex& libical_lock() {
  static std::mutex m;
  return m;
}

struct component_deleter {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
using component_ptr = std::unique_ptr<icalcomponent, component_deleter>;

icaltimetype utc_time(std::int64_t ms) {
  return icaltime_from_timet_with_zone(static_cast<time_t>(ms / 1000), 0, icaltimezone_get_utc_timezone());
}

struct expansion {
  std::vector<interval>* out;
  bool floating = false;          // all-day or without a zone: wall-clock time in the agent's zone
  std::int64_t whole_days = 0;    // an all-day event's length (libical ends a date span at 23:59:59)
  const std::string* zone;
  const std::set<std::int64_t>* overridden; // instances replaced by a RECURRENCE-ID event
  std::int64_t from_ms, to_ms;
  std::size_t max;
  bool truncated = false;
};

void add_instance(icalcomponent*, struct icaltime_span* span, void* data) {
  auto& x = *static_cast<expansion*>(data);
  std::int64_t start = static_cast<std::int64_t>(span->start) * 1000, end = static_cast<std::int64_t>(span->end) * 1000;
  if (x.overridden->count(start)) return;
  if (x.whole_days > 0) end = start + x.whole_days * 86'400'000;
  if (x.floating) {
    start = local_to_utc_ms(start, *x.zone);
    end = local_to_utc_ms(end, *x.zone);
  }
  if (end <= start) end = start + 1; // an instant still marks the moment busy
  if (end <= x.from_ms || start >= x.to_ms) return;
  if (x.out->size() >= x.max) {
    x.truncated = true;
    return;
  }
  x.out->push_back({start, end});
}

bool is_floating(const icaltimetype& t) { return t.is_date || (t.zone == nullptr && !icaltime_is_utc(t)); }

// A property's date-time in the zone its TZID names: the calendar's own VTIMEZONE, else
// the system's zone of that name (libical leaves a RECURRENCE-ID's zone unresolved).
icaltimetype zoned_time(icalproperty* p, icaltimetype t, icalcomponent* cal) {
  if (t.zone || t.is_date || icaltime_is_utc(t)) return t;
  if (auto* param = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER)) {
    const char* tzid = icalparameter_get_tzid(param);
    icaltimezone* zone = tzid ? icalcomponent_get_timezone(cal, tzid) : nullptr;
    if (!zone && tzid) zone = icaltimezone_get_builtin_timezone(tzid);
    if (zone) t.zone = zone;
  }
  return t;
}

// An all-day event's length in days: DTEND (exclusive) or DURATION; one day without either.
std::int64_t whole_days_of(icalcomponent* ev) {
  const auto start = icalcomponent_get_dtstart(ev);
  if (!start.is_date) return 0;
  const auto end = icalcomponent_get_dtend(ev);
  if (icaltime_is_null_time(end) || !end.is_date) return 1;
  const auto days = (static_cast<std::int64_t>(icaltime_as_timet(end)) - icaltime_as_timet(start)) / 86'400;
  return days > 0 ? days : 1;
}

std::int64_t instant_ms(const icaltimetype& t, const std::string& zone) {
  if (is_floating(t)) return local_to_utc_ms(static_cast<std::int64_t>(icaltime_as_timet(t)) * 1000, zone);
  return static_cast<std::int64_t>(icaltime_as_timet_with_zone(t, t.zone ? t.zone : icaltimezone_get_utc_timezone())) * 1000;
}

bool skipped_event(icalcomponent* ev) {
  if (icalcomponent_get_status(ev) == ICAL_STATUS_CANCELLED) return true;
  if (auto* p = icalcomponent_get_first_property(ev, ICAL_TRANSP_PROPERTY); p && icalproperty_get_transp(p) == ICAL_TRANSP_TRANSPARENT)
    return true;
  if (icaltime_is_null_time(icalcomponent_get_dtstart(ev))) return true;
  // A rule every second or minute is no one's meeting and would take millions of steps.
  for (auto* p = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY); p;
       p = icalcomponent_get_next_property(ev, ICAL_RRULE_PROPERTY)) {
    const auto rule = icalproperty_get_rrule(p);
    if (rule.freq == ICAL_SECONDLY_RECURRENCE || rule.freq == ICAL_MINUTELY_RECURRENCE) return true;
  }
  return false;
}

std::string clean(std::string s) {
  s.erase(std::remove_if(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f || c == '"'; }), s.end());
  return s;
}

} // namespace

result<busy_times, int> busy_from_ics(std::string_view text, const std::string& agent_zone, std::int64_t from_ms,
                                      std::int64_t to_ms, const busy_limits& lim) {
  if (text.size() > lim.max_bytes)
    return failure<int>{413, "the calendar is larger than " + std::to_string(lim.max_bytes) + " bytes"};
  if (text.find("BEGIN:VCALENDAR") == std::string_view::npos)
    return failure<int>{400, "this is not an iCalendar file: it has no BEGIN:VCALENDAR"};
  if (text.find('\0') != std::string_view::npos) return failure<int>{400, "this is not an iCalendar file: it holds a NUL byte"};
  const std::string owned{text};
  std::lock_guard lock{libical_lock()};
  component_ptr root{icalparser_parse_string(owned.c_str())};
  if (!root) return failure<int>{400, "this iCalendar file does not parse"};
  icalcomponent* cal = root.get();
  if (icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT)
    cal = icalcomponent_get_first_component(cal, ICAL_VCALENDAR_COMPONENT);
  if (!cal) return failure<int>{400, "this iCalendar file holds no VCALENDAR"};

  busy_times out;
  // Instances moved or changed by a RECURRENCE-ID event, by UID: the master skips them.
  std::map<std::string, std::set<std::int64_t>> overridden;
  for (auto* ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev;
       ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
    auto* rid_prop = icalcomponent_get_first_property(ev, ICAL_RECURRENCEID_PROPERTY);
    const char* uid = icalcomponent_get_uid(ev);
    if (!rid_prop || !uid) continue;
    const auto rid = zoned_time(rid_prop, icalproperty_get_recurrenceid(rid_prop), cal);
    // As add_instance sees the master's instances: UTC seconds, or wall-clock for floating times.
    overridden[uid].insert(is_floating(rid) ? static_cast<std::int64_t>(icaltime_as_timet(rid)) * 1000
                                            : instant_ms(rid, agent_zone));
  }
  const std::set<std::int64_t> none;
  // Floating times can lie up to a day from UTC: widen the window, then clip.
  const auto window_start = utc_time(from_ms - 86'400'000), window_end = utc_time(to_ms + 86'400'000);
  for (auto* ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev;
       ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
    ++out.events;
    if (skipped_event(ev)) {
      ++out.skipped;
      continue;
    }
    const char* uid = icalcomponent_get_uid(ev);
    const bool is_override = !icaltime_is_null_time(icalcomponent_get_recurrenceid(ev));
    auto found = uid && !is_override ? overridden.find(uid) : overridden.end();
    expansion x{&out.busy, is_floating(icalcomponent_get_dtstart(ev)), whole_days_of(ev), &agent_zone,
                found == overridden.end() ? &none : &found->second, from_ms, to_ms, lim.max_intervals};
    icalcomponent_foreach_recurrence(ev, window_start, window_end, add_instance, &x);
    out.truncated = out.truncated || x.truncated;
  }
  std::sort(out.busy.begin(), out.busy.end(), [](const interval& a, const interval& b) { return a.start_ms < b.start_ms; });
  return out;
}

std::string invite_ics(const invite& inv) {
  std::lock_guard lock{libical_lock()};
  component_ptr cal{icalcomponent_new(ICAL_VCALENDAR_COMPONENT)};
  icalcomponent_add_property(cal.get(), icalproperty_new_version("2.0"));
  icalcomponent_add_property(cal.get(), icalproperty_new_prodid("-//dynchat//meetings//EN"));
  icalcomponent_add_property(cal.get(), icalproperty_new_method(inv.cancelled ? ICAL_METHOD_CANCEL : ICAL_METHOD_REQUEST));
  icalcomponent* ev = icalcomponent_new(ICAL_VEVENT_COMPONENT);
  icalcomponent_add_property(ev, icalproperty_new_uid(inv.uid.c_str()));
  icalcomponent_add_property(ev, icalproperty_new_sequence(static_cast<int>(inv.sequence)));
  icalcomponent_add_property(ev, icalproperty_new_dtstamp(utc_time(inv.stamp_ms)));
  icalcomponent_add_property(ev, icalproperty_new_dtstart(utc_time(inv.start_ms)));
  icalcomponent_add_property(ev, icalproperty_new_dtend(utc_time(inv.end_ms)));
  icalcomponent_add_property(ev, icalproperty_new_summary(inv.summary.c_str()));
  if (!inv.description.empty()) icalcomponent_add_property(ev, icalproperty_new_description(inv.description.c_str()));
  if (!inv.location.empty()) icalcomponent_add_property(ev, icalproperty_new_location(inv.location.c_str()));
  icalcomponent_add_property(ev, icalproperty_new_status(inv.cancelled ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
  auto mailto = [](const person& p) { return "mailto:" + clean(p.email); };
  icalproperty* organizer = icalproperty_new_organizer(mailto(inv.organizer).c_str());
  if (!inv.organizer.name.empty()) icalproperty_add_parameter(organizer, icalparameter_new_cn(clean(inv.organizer.name).c_str()));
  icalcomponent_add_property(ev, organizer);
  auto add_attendee = [&](const person& p, icalparameter_partstat status) {
    icalproperty* a = icalproperty_new_attendee(mailto(p).c_str());
    if (!p.name.empty()) icalproperty_add_parameter(a, icalparameter_new_cn(clean(p.name).c_str()));
    icalproperty_add_parameter(a, icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
    icalproperty_add_parameter(a, icalparameter_new_partstat(status));
    icalproperty_add_parameter(a, icalparameter_new_rsvp(ICAL_RSVP_TRUE));
    icalcomponent_add_property(ev, a);
  };
  add_attendee(inv.organizer, ICAL_PARTSTAT_ACCEPTED);
  add_attendee(inv.attendee, ICAL_PARTSTAT_NEEDSACTION);
  icalcomponent_add_component(cal.get(), ev);
  char* text = icalcomponent_as_ical_string_r(cal.get());
  std::string out = text ? text : "";
  icalmemory_free_buffer(text);
  return out;
}

} // namespace dynchat::calendar
