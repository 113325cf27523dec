#include "scenario.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <stdexcept>

#include <toml++/toml.h>

namespace dynchat::load {
namespace {

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument("scenario: " + what); }

think_time::shape shape_from(std::string_view s) {
  if (s == "fixed") return think_time::shape::fixed;
  if (s == "uniform") return think_time::shape::uniform;
  if (s == "exponential") return think_time::shape::exponential;
  bad("think time shape must be fixed, uniform or exponential, got '" + std::string{s} + "'");
}

double number(const toml::node& n, const std::string& key) {
  if (auto v = n.value<double>()) return *v;
  bad("'" + key + "' must be a number");
}

bool boolean(const toml::node& n, const std::string& key) {
  if (auto* v = n.as_boolean()) return v->get(); // not value<bool>(): that takes 1 for true
  bad("'" + key + "' must be true or false");
}

std::uint32_t count(const toml::node& n, const std::string& key) {
  auto v = n.value<std::int64_t>();
  if (!v || *v < 0 || *v > 10'000'000) bad("'" + key + "' must be a whole number from 0 to 10000000");
  return static_cast<std::uint32_t>(*v);
}

void apply(scenario& s, const std::string& table, const std::string& key, const toml::node& n,
           const std::filesystem::path& base_dir) {
  const std::string full = table + "." + key;
  if (table == "visitors") {
    if (key == "arrival_rate") s.arrival_rate = number(n, full);
    else if (key == "ramp_up") s.ramp_up_seconds = number(n, full);
    else if (key == "duration") s.duration_seconds = number(n, full);
    else if (key == "max_concurrent") s.max_concurrent = count(n, full);
    else if (key == "messages") s.messages_per_visitor = count(n, full);
    else if (key == "think") s.visitor_think.mean_seconds = number(n, full);
    else if (key == "think_shape") s.visitor_think.kind = shape_from(n.value<std::string>().value_or("?"));
    else if (key == "wait_for_agent") s.wait_for_agent = boolean(n, full);
    else if (key == "resume_share") s.resume_share = number(n, full);
    else if (key == "idle_hold") s.idle_hold_seconds = number(n, full);
    else if (key == "text_bytes") s.text_bytes = count(n, full);
    else if (key == "msgpack") s.msgpack = boolean(n, full);
    else if (key == "walk_dialogues") s.walk_dialogues = boolean(n, full);
    else if (key == "bot_delay") s.bot_delay_seconds = number(n, full);
    else if (key == "book_meetings") s.book_meetings = boolean(n, full);
    else if (key == "booking_attempts") s.booking_attempts = count(n, full);
    else if (key == "book_together") s.book_together = boolean(n, full);
    else if (key == "known_share") s.known_share = number(n, full);
    else if (key == "leads_file") {
      auto file = n.value<std::string>();
      if (!file) bad("'" + full + "' must be a path");
      const std::filesystem::path path{*file};
      s.leads = load_leads(path.is_absolute() ? path : base_dir / path);
    }
    else bad("unknown key '" + full + "'");
  } else if (table == "agents") {
    if (key == "count") s.agents = count(n, full);
    else if (key == "max_chats") s.agent_max_chats = count(n, full);
    else if (key == "think") s.agent_think.mean_seconds = number(n, full);
    else if (key == "think_shape") s.agent_think.kind = shape_from(n.value<std::string>().value_or("?"));
    else if (key == "replies") s.agent_replies = boolean(n, full);
    else if (key == "end_chats") s.agents_end_chats = boolean(n, full);
    else bad("unknown key '" + full + "'");
  } else {
    bad("unknown table [" + table + "]");
  }
}

scenario from_document(const toml::table& doc, const std::filesystem::path& base_dir) {
  scenario s;
  if (auto* head = doc.get_as<toml::table>("scenario")) {
    for (auto&& [k, v] : *head) {
      const std::string key{k.str()};
      if (key == "preset") s = preset(v.value<std::string>().value_or("?"));
      else if (key != "name") bad("unknown key 'scenario." + key + "'");
    }
    if (auto name = (*head)["name"].value<std::string>()) s.name = *name;
  }
  for (auto&& [table, node] : doc) {
    const std::string t{table.str()};
    if (t == "scenario") continue;
    auto* tbl = node.as_table();
    if (!tbl) bad("'" + t + "' must be a table");
    for (auto&& [k, v] : *tbl) apply(s, t, std::string{k.str()}, v, base_dir);
  }
  validate(s);
  return s;
}

} // namespace

scenario preset(std::string_view name) {
  scenario s;
  s.name = std::string{name};
  if (name == "chat") return s; // the defaults: steady messaging with agents answering
  if (name == "idle") {         // hold the most connections, say nothing
    s.arrival_rate = 2000;
    s.ramp_up_seconds = 0;
    s.duration_seconds = 5;
    s.max_concurrent = 19000;
    s.messages_per_visitor = 0;
    s.wait_for_agent = false;
    s.resume_share = 0;
    s.idle_hold_seconds = 10;
    s.agents = 0;
    return s;
  }
  if (name == "burst") { // an arrival spike
    s.arrival_rate = 5000;
    s.ramp_up_seconds = 0;
    s.duration_seconds = 2;
    s.max_concurrent = 10000;
    s.messages_per_visitor = 1;
    s.wait_for_agent = false;
    s.resume_share = 0;
    s.agents = 0;
    return s;
  }
  if (name == "dialogue") { // new visitors walking the published dialogue; bot latency beyond the delay
    s.arrival_rate = 1000;
    s.ramp_up_seconds = 1;
    s.duration_seconds = 10;
    s.max_concurrent = 15000;
    s.messages_per_visitor = 0;
    s.visitor_think = {think_time::shape::uniform, 1.0};
    s.wait_for_agent = false;
    s.resume_share = 0;
    s.walk_dialogues = true;
    s.bot_delay_seconds = 1.0; // the server's default
    s.agents = 0;
    return s;
  }
  if (name == "meeting") { // 1,000 visitors are shown the meeting card's times, then all book at once
    s.arrival_rate = 2000;
    s.ramp_up_seconds = 0;
    s.duration_seconds = 0.5;
    s.max_concurrent = 5000;
    s.messages_per_visitor = 0;
    s.visitor_think = {think_time::shape::fixed, 0.0};
    s.wait_for_agent = false;
    s.resume_share = 0;
    s.walk_dialogues = true;
    s.book_meetings = true;
    s.book_together = true;
    s.booking_attempts = 40; // every round of the race books the times shown (8): the last slots go late
    s.bot_delay_seconds = 0; // run the server with chat.bot_response_delay_ms=0
    s.agents = 0;
    return s;
  }
  if (name == "soak") { // long and moderate: ~500 chats open for ten minutes
    s.arrival_rate = 5;
    s.duration_seconds = 600;
    s.max_concurrent = 1500;
    s.messages_per_visitor = 20;
    s.visitor_think = {think_time::shape::exponential, 5.0};
    s.agents = 80;
    return s;
  }
  bad("unknown preset '" + std::string{name} + "' (idle, chat, burst, dialogue, meeting, soak)");
}

scenario load_scenario_text(std::string_view text, const std::filesystem::path& base_dir) {
  try {
    return from_document(toml::parse(text), base_dir);
  } catch (const toml::parse_error& e) {
    bad(std::string{"not valid TOML: "} + std::string{e.description()});
  }
}

scenario load_scenario_file(const std::filesystem::path& path) {
  try {
    return from_document(toml::parse_file(path.string()), path.parent_path());
  } catch (const toml::parse_error& e) {
    bad(path.string() + " is not valid TOML: " + std::string{e.description()});
  }
}

void validate(const scenario& s) {
  if (!(s.arrival_rate > 0 && s.arrival_rate <= 100000)) bad("visitors.arrival_rate must be in (0, 100000]");
  if (s.ramp_up_seconds < 0 || s.ramp_up_seconds > 3600) bad("visitors.ramp_up must be 0..3600 seconds");
  if (!(s.duration_seconds > 0 && s.duration_seconds <= 86400)) bad("visitors.duration must be in (0, 86400] seconds");
  if (s.max_concurrent < 1) bad("visitors.max_concurrent must be at least 1");
  if (!(s.visitor_think.mean_seconds >= 0 && s.agent_think.mean_seconds >= 0)) bad("think times must be >= 0");
  if (s.resume_share < 0 || s.resume_share > 1) bad("visitors.resume_share must be 0..1");
  if (s.idle_hold_seconds < 0 || s.idle_hold_seconds > 86400) bad("visitors.idle_hold must be 0..86400 seconds");
  if (s.text_bytes < 1 || s.text_bytes > 60000) bad("visitors.text_bytes must be 1..60000");
  if (s.bot_delay_seconds < 0 || s.bot_delay_seconds > 60) bad("visitors.bot_delay must be 0..60 seconds");
  if (s.agent_max_chats < 1 || s.agent_max_chats > 10) bad("agents.max_chats must be 1..10");
  if (s.booking_attempts < 1 || s.booking_attempts > 1000) bad("visitors.booking_attempts must be 1..1000");
  if (s.book_meetings && !s.walk_dialogues) bad("visitors.book_meetings needs walk_dialogues = true");
  if (s.known_share < 0 || s.known_share > 1) bad("visitors.known_share must be 0..1");
  if (s.known_share > 0 && s.leads.empty()) bad("visitors.known_share needs visitors.leads_file");
  if (s.wait_for_agent && s.agents == 0 && s.messages_per_visitor > 0)
    bad("visitors.wait_for_agent needs agents.count > 0");
}

std::vector<std::string> load_leads(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) bad("cannot read leads file " + path.string());
  std::vector<std::string> emails;
  std::string line;
  std::optional<std::size_t> column; // CSV: the header's "email" column
  bool first = true;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> cells;
    for (std::size_t at = 0;;) {
      const auto comma = line.find(',', at);
      cells.push_back(line.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
    if (first) {
      first = false;
      for (std::size_t i = 0; i < cells.size(); ++i)
        if (cells[i] == "email") column = i;
      if (column) continue;
    }
    const std::size_t i = column.value_or(0);
    if (i < cells.size() && cells[i].find('@') != std::string::npos) emails.push_back(cells[i]);
  }
  if (emails.empty()) bad("no email in leads file " + path.string());
  return emails;
}

double expected_concurrent_chats(const scenario& s) {
  if (s.agents == 0) return 0;
  const double chat_seconds = s.messages_per_visitor * s.visitor_think.mean_seconds +
                              (s.agent_replies ? s.agent_think.mean_seconds : 0.0);
  return s.arrival_rate * chat_seconds;
}

std::string seat_shortfall(const scenario& s) {
  const double chats = expected_concurrent_chats(s);
  const std::uint64_t seats = std::uint64_t{s.agents} * s.agent_max_chats;
  if (s.agents == 0 || static_cast<double>(seats) >= chats) return {};
  return std::to_string(seats) + " agent seats (agents x max_chats) for about " +
         std::to_string(static_cast<std::uint64_t>(chats + 0.5)) +
         " chats open at once: visitors will queue for an agent (see 'wait for an agent')";
}

double arrivals_due(const scenario& s, double t) {
  const double r = s.arrival_rate, ramp = s.ramp_up_seconds;
  const double tt = std::clamp(t, 0.0, s.duration_seconds);
  return ramp > 0 && tt < ramp ? r * tt * tt / (2 * ramp) : r * (tt - ramp / 2);
}

double arrival_time(const scenario& s, std::uint64_t n) {
  const double r = s.arrival_rate, ramp = s.ramp_up_seconds, k = static_cast<double>(n);
  if (ramp > 0 && k <= r * ramp / 2) return std::sqrt(2 * ramp * k / r);
  return k / r + ramp / 2;
}

scenario share_of(const scenario& s, unsigned procs, unsigned index) {
  if (procs < 2) return s;
  scenario part = s;
  const auto split = [&](std::uint32_t total) { return total / procs + (index < total % procs ? 1u : 0u); };
  part.max_concurrent = std::max(1u, split(s.max_concurrent));
  part.agents = split(s.agents);
  return part;
}

std::uint64_t own_arrivals(std::uint64_t due, unsigned procs, unsigned index) {
  if (procs < 2) return due;
  return due > index ? (due - index - 1) / procs + 1 : 0;
}

std::uint64_t global_arrival(std::uint64_t k, unsigned procs, unsigned index) {
  if (procs < 2) return k;
  return index + 1 + (k - 1) * procs;
}

std::string run_page_url(std::string_view run_tag) {
  return "https://load.test/pricing?run=" + std::string{run_tag};
}

bool from_another_run(std::string_view visitor_page_url, std::string_view run_tag) {
  return !visitor_page_url.empty() && visitor_page_url != run_page_url(run_tag);
}

} // namespace dynchat::load
