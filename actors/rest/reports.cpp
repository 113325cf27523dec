// Dialogue reports: counted from the visit rows each conversation writes for itself
// (store::dialogue_visit), so they are exact however many visitors arrived at once.
// A report reads the rows of its range: its cost grows with the visits in it.
#include <map>

#include "actors/rest/handlers.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/rest/dialogue_report.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat::rest_api {
namespace {

using protocol::error_code;

std::optional<rest::report_range> range_in_query(call& c) {
  const auto from = c.query.text("from"), to = c.query.text("to"), visitors = c.query.text("visitors");
  if (!query_ok(c)) return std::nullopt;
  auto r = rest::read_range(from, to, visitors, now_ms() / 86'400'000);
  if (!r.range) c.reply(error_response(400, error_code::bad_parameter, r.error));
  return r.range;
}

rest::dialogue_report report_of(const store::read_txn& txn, const store::dialogue_record& d,
                                const rest::report_range& range) {
  rest::dialogue_report report{d.id, d.name, range};
  store::scan_dialogue_visits(txn, d.id, range.from_ms(), range.to_ms(), [&](const store::dialogue_visit& v) {
    report.add(v);
    return true;
  });
  return report;
}

// Every request for an agent in the range, in one scan: by the dialogue that handed it
// over ("" for none), and all together.
std::map<std::string, rest::live_chat_counts> live_chats_by_dialogue(const store::read_txn& txn,
                                                                    const rest::report_range& range,
                                                                    rest::live_chat_counts& all) {
  std::map<std::string, rest::live_chat_counts> by;
  store::scan_live_chats(txn, range.from_ms(), range.to_ms(), [&](const store::live_chat_visit& v) {
    all.add(v, range);
    by[v.dialogue_id].add(v, range);
    return true;
  });
  return by;
}

void one_report(call c, bool csv) {
  auto range = range_in_query(c);
  if (!range) return;
  auto txn = c.ctx().db->read();
  auto d = store::load_dialogue(txn, c.param("id"));
  if (!d) return c.reply(error_response(404, error_code::not_found, "no such dialogue"));
  auto report = report_of(txn, *d, *range);
  rest::live_chat_counts all;
  report.set_live_chat(live_chats_by_dialogue(txn, *range, all)[d->id]);
  if (!csv) return c.reply(json_response(200, report.to_json()));
  std::string body{rest::dialogue_report::csv_header()};
  report.csv_rows(body);
  c.reply(net::http_response{200, "text/csv; charset=utf-8", std::move(body), {}});
}

void all_reports(call c, bool csv) {
  auto range = range_in_query(c);
  if (!range) return;
  auto txn = c.ctx().db->read();
  json dialogues = json::array();
  std::string body{rest::dialogue_report::csv_header()};
  rest::counts totals;
  rest::live_chat_counts live; // every request for an agent, from a dialogue or not
  auto live_by_dialogue = live_chats_by_dialogue(txn, *range, live);
  for (const auto& d : store::load_dialogues(txn)) {
    auto report = report_of(txn, d, *range);
    report.set_live_chat(live_by_dialogue[d.id]);
    if (csv) report.csv_rows(body);
    else dialogues.push_back(report.to_json());
    const auto& t = report.totals();
    totals.triggered += t.triggered;
    totals.engaged += t.engaged;
    totals.completed += t.completed;
    totals.acquired += t.acquired;
    totals.meetings += t.meetings;
    totals.goals += t.goals;
  }
  if (csv) return c.reply(net::http_response{200, "text/csv; charset=utf-8", std::move(body), {}});
  c.reply(json_response(200, {{"from", rest::format_day(range->first_day)},
                              {"to", rest::format_day(range->last_day)},
                              {"totals",
                               {{"triggered", totals.triggered},
                                {"engaged", totals.engaged},
                                {"completed", totals.completed},
                                {"acquired", totals.acquired},
                                {"meetings_booked", totals.meetings},
                                {"goals_reached", totals.goals}}},
                              {"live_chat", live.to_json()},
                              {"dialogues", std::move(dialogues)}}));
}

} // namespace

void get_dialogue_report(call c) { one_report(std::move(c), false); }
void get_dialogue_report_csv(call c) { one_report(std::move(c), true); }
void get_reports(call c) { all_reports(std::move(c), false); }
void get_reports_csv(call c) { all_reports(std::move(c), true); }

} // namespace dynchat::rest_api
