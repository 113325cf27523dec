#pragma once
// A load scenario: who arrives, how fast, and what each simulated visitor and agent
// does. Read from TOML (see scenarios/*.toml) over a named preset; every value is
// range-checked so a typo fails loudly before any traffic is sent.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace dynchat::load {

/// Think time between two actions: fixed, uniform in [mean/2, 3·mean/2], or exponential.
struct think_time {
  enum class shape { fixed, uniform, exponential } kind = shape::exponential;
  double mean_seconds = 1.0;
};

struct scenario {
  std::string name = "chat";
  // visitors: an open model
  double arrival_rate = 50;         // new visitors per second once ramped up
  double ramp_up_seconds = 2;       // arrival rate grows linearly to arrival_rate
  double duration_seconds = 10;     // arrivals stop after this
  std::uint32_t max_concurrent = 1000;
  std::uint32_t messages_per_visitor = 5;
  think_time visitor_think{think_time::shape::exponential, 1.0};
  bool wait_for_agent = true;       // visitors send only after an agent joined (needs agents)
  double resume_share = 0.1;        // share of visitors who drop the socket once and resume
  double idle_hold_seconds = 0;     // stay connected this long after the last message
  std::uint32_t text_bytes = 64;
  double known_share = 0;           // share of visitors who say hello as a known lead (with an email)
  std::vector<std::string> leads;   // their emails, from visitors.leads_file (one per line or CSV with an email column)
  bool msgpack = false;
  // dialogues: visitors walk the dialogue the server leads them into, picking offered
  // options and filling captures, and measure each bot reply beyond the server's delay
  bool walk_dialogues = false;
  double bot_delay_seconds = 0;     // the server's chat.bot_response_delay_ms, in seconds
  // meetings: walkers book one of the times a meeting card offers (at random: visitors
  // shown the same times race for them), again from fresh times when theirs was taken
  bool book_meetings = false;
  bool book_together = false;       // every first booking goes at one instant, a second after the last arrival
  std::uint32_t booking_attempts = 5;
  // agents
  std::uint32_t agents = 40;        // 400 seats: above the ~275 chats the defaults keep open
  std::uint32_t agent_max_chats = 10;
  think_time agent_think{think_time::shape::exponential, 0.5};
  bool agent_replies = true;        // agents answer every visitor message
  bool agents_end_chats = true;     // the agent ends a chat after the visitor's last message
};

/// A built-in preset: idle, chat, burst, dialogue, meeting, soak. Throws std::invalid_argument.
scenario preset(std::string_view name);
/// Reads [scenario], [visitors] and [agents] tables over `base` (the preset named by
/// scenario.preset if given). Throws std::invalid_argument naming the bad key.
scenario load_scenario_file(const std::filesystem::path& path);
/// `base_dir` resolves a relative visitors.leads_file.
scenario load_scenario_text(std::string_view toml_text, const std::filesystem::path& base_dir = ".");
/// The emails in a leads file: one per line, or a CSV whose header has an "email" column.
/// Throws std::invalid_argument when the file cannot be read or holds no email.
std::vector<std::string> load_leads(const std::filesystem::path& path);
/// Checks every range; throws std::invalid_argument.
void validate(const scenario& s);

/// Chats open at once in the steady state, by Little's law: arrivals per second times a
/// chat's length (its messages one visitor think time apart, then the agent's last reply).
double expected_concurrent_chats(const scenario& s);
/// Empty when the agents' seats (agents x max_chats) hold those chats; otherwise a warning:
/// visitors will queue for an agent, and the run measures the queue, not the server.
std::string seat_shortfall(const scenario& s);

/// Visitors due to have arrived t seconds after the start: the rate ramps linearly up to
/// arrival_rate over ramp_up, holds until duration, and then arrivals stop.
double arrivals_due(const scenario& s, double t);
/// Seconds after the start at which the n-th visitor (from 1) is due: arrivals_due's inverse.
double arrival_time(const scenario& s, std::uint64_t n);
/// Process `index`'s share of a run split over `procs` processes: its part of
/// max_concurrent and of the agents (remainders go to the first processes). Arrivals are
/// dealt out one by one instead (own_arrivals), so every visitor keeps its due time.
scenario share_of(const scenario& s, unsigned procs, unsigned index);
/// Of the first `due` arrivals of the whole run, how many are process `index`'s: it takes
/// arrivals index+1, index+1+procs, index+1+2·procs, ...
std::uint64_t own_arrivals(std::uint64_t due, unsigned procs, unsigned index);
/// The run-wide number (from 1) of process `index`'s k-th arrival (from 1).
std::uint64_t global_arrival(std::uint64_t k, unsigned procs, unsigned index);

/// The page_url a run's visitors send: it names the run, so its agents can tell their
/// chats from those an earlier run left waiting on the same server.
std::string run_page_url(std::string_view run_tag);
/// Whether a chat whose visitor reported `visitor_page_url` belongs to another run. A
/// server that reports no page cannot be told apart: its chats count as this run's.
bool from_another_run(std::string_view visitor_page_url, std::string_view run_tag);

} // namespace dynchat::load
