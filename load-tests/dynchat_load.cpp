// dynchat-load: simulated visitors over protocol v1, on one Beast io thread.
//
// Two modes. With --scenario-file/--preset it runs the scenario engine (visitors and
// agents, see scenario_run.cpp). Without, the fixed-rate modes used by bench-core.sh:
//   scenario chat : visitors arrive at --connect-rate, say hello, then each sends
//                   --msg-rate messages per second for --duration seconds (open model:
//                   latency counts from the *intended* send time, so a stalled server
//                   cannot hide its backlog); every ack is checked for order and dupes.
//   scenario idle : visitors arrive, say hello and hold the connection for --hold
//                   seconds; with --server-pid the server's RSS per session is reported.
//
// Loopback only: the target host must be in 127.0.0.0/8. Every run is bounded by
// --duration/--hold plus a fixed drain time, and stops by itself.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "histogram.hpp"
#include "report_text.hpp"
#include "report_util.hpp"
#include "scenario.hpp"
#include "scenario_run.hpp"
#include "ws_peer.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;
using dynchat::load::histogram_json;
using dynchat::load::latency_histogram;
using dynchat::load::micros_since;

namespace {

struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string scenario = "chat";
  unsigned visitors = 100;
  double connect_rate = 2000;
  double msg_rate = 10;
  double duration = 10;
  double hold = 5;
  unsigned text_bytes = 64;
  bool msgpack = false;
  int server_pid = 0;
  std::string report;
  std::string label;
};

struct results {
  latency_histogram ack;
  latency_histogram setup;
  std::uint64_t connected = 0, connect_failures = 0, closed_early = 0;
  std::uint64_t sent = 0, acked = 0, duplicates = 0, reordered = 0;
  std::map<std::string, std::uint64_t> errors;
};

// Many connections need many descriptors: lift the soft limit to the hard one.
void raise_descriptor_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      long v = 0;
      in >> v;
      return v;
    }
    std::getline(in, key);
  }
  return -1;
}

// A visitor of the fixed-rate modes: hello, then (chat) a message every 1/msg_rate
// seconds until send_until, checking each ack for order and repeats.
class fixed_rate_visitor final : public dynchat::load::ws_peer {
public:
  fixed_rate_visitor(dynchat::load::peer_context& ctx, const options& o, results& r, clock_type::time_point send_until)
    : ws_peer(ctx), opts_(o), res_(r), send_until_(send_until), text_(o.text_bytes, 'x') {}

  void start() {
    started_ = clock_type::now();
    connect("/v1/visitor");
  }
  std::uint64_t unacked() const { return next_id_ - acked_count_; }

private:
  void on_open() override { send(json{{"type", "hello"}, {"page_url", "https://load.test/pricing"}}); }
  void on_closed() override {
    if (!ctx_.stopping) res_.closed_early++;
  }
  void on_connect_failed() override { res_.connect_failures++; }
  void on_undecodable_frame() override { res_.errors["undecodable_frame"]++; }

  void on_frame(const json& f) override {
    const auto type = f.value("type", "");
    if (type == "welcome") {
      res_.connected++;
      res_.setup.record(micros_since(started_));
      if (opts_.scenario == "chat") schedule_send(clock_type::now());
    } else if (type == "ack") {
      const auto id = std::stoull(f.value("client_msg_id", "0"));
      const auto seq = f.value("seq", std::uint64_t{0});
      if (id >= intended_.size() || acked_[id]) {
        res_.duplicates++;
        return;
      }
      acked_[id] = true;
      acked_count_++;
      res_.acked++;
      res_.ack.record(micros_since(intended_[id]));
      if (seq <= last_seq_) res_.reordered++;
      last_seq_ = seq;
    } else if (type == "error") {
      res_.errors[f.value("code", "?")]++;
    }
  }

  // Open model: the k-th message is due at start + k/rate whether or not the server kept up.
  void schedule_send(clock_type::time_point due) {
    if (due >= send_until_) return;
    at(due, [this, due] {
      const auto id = next_id_++;
      intended_.push_back(due);
      acked_.push_back(false);
      res_.sent++;
      send(json{{"type", "say"}, {"client_msg_id", std::to_string(id)}, {"text", text_}});
      const auto interval = std::chrono::duration<double>(1.0 / opts_.msg_rate);
      schedule_send(due + std::chrono::duration_cast<clock_type::duration>(interval));
    });
  }

  const options& opts_;
  results& res_;
  clock_type::time_point send_until_;
  clock_type::time_point started_;
  std::string text_;
  std::uint64_t next_id_ = 0;
  std::uint64_t acked_count_ = 0;
  std::uint64_t last_seq_ = 0;
  std::vector<clock_type::time_point> intended_;
  std::vector<bool> acked_;
};

} // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App cli{"dynchat-load: simulated visitor traffic against dynchatd (loopback only)"};
  // Scenario mode: visitors and agents as described by a TOML file or a preset.
  std::string scenario_file, preset_name;
  dynchat::load::run_options run;
  cli.add_option("--scenario-file", scenario_file, "run a scenario TOML file (see load-tests/scenarios)");
  cli.add_option("--preset", preset_name, "run a preset: idle, chat, burst, dialogue, meeting, soak");
  cli.add_option("--admin-token", run.admin_token, "admin token, to create the simulated agents");
  cli.add_option("--max-seconds", run.max_seconds, "hard bound on the run (scenario mode)");
  cli.add_option("--slo-p99-ack-ms", run.slo.p99_ack_ms, "fail when the p99 visitor ack latency is above this")
    ->check(CLI::Range(0.0, 3600000.0)); // ms: up to an hour
  cli.add_option("--slo-p99-delivery-ms", run.slo.p99_delivery_ms,
                 "fail when the p99 visitor->agent or agent->visitor delivery latency is above this")
    ->check(CLI::Range(0.0, 3600000.0));
  cli.add_option("--slo-p99-agent-wait-ms", run.slo.p99_agent_wait_ms,
                 "fail when the p99 time from a visitor's arrival to an agent joining is above this")
    ->check(CLI::Range(0.0, 3600000.0));
  cli.add_option("--seed", run.seed, "random seed (think times, who drops and resumes)");
  cli.add_option("--procs", run.procs, "client processes sharing the run (scenario mode)")->check(CLI::Range(1u, 64u));
  cli.add_option("--source-addresses", run.source_addresses, "source addresses per client process, 127.(p+1).x.y")
      ->check(CLI::Range(1u, 65000u));
  bool capacity = false;
  double capacity_factor = 1.5;
  unsigned capacity_steps = 8;
  std::optional<double> arrival_rate;
  cli.add_flag("--capacity", capacity, "step the arrival rate up until the SLO or correctness breaks");
  cli.add_option("--capacity-factor", capacity_factor, "rate multiplier per step")->check(CLI::Range(1.05, 10.0));
  cli.add_option("--capacity-steps", capacity_steps, "steps at most")->check(CLI::Range(1u, 50u));
  cli.add_option("--arrival-rate", arrival_rate, "override the scenario's visitors.arrival_rate");
  cli.add_option("--host", o.host, "server address, must be in 127.0.0.0/8");
  cli.add_option("--port", o.port, "server port");
  cli.add_option("--scenario", o.scenario, "chat or idle")->check(CLI::IsMember({"chat", "idle"}));
  cli.add_option("--visitors", o.visitors, "visitors to open")->check(CLI::Range(1u, 19000u));
  cli.add_option("--connect-rate", o.connect_rate, "new visitors per second")->check(CLI::PositiveNumber);
  cli.add_option("--msg-rate", o.msg_rate, "messages per second per visitor (chat)")->check(CLI::PositiveNumber);
  cli.add_option("--duration", o.duration, "seconds of sending (chat)")->check(CLI::Range(0.1, 3600.0));
  cli.add_option("--hold", o.hold, "seconds to hold idle connections (idle)")->check(CLI::Range(0.0, 3600.0));
  cli.add_option("--text-bytes", o.text_bytes, "bytes of text per message")->check(CLI::Range(1u, 60000u));
  cli.add_flag("--msgpack", o.msgpack, "binary MessagePack frames instead of JSON text");
  cli.add_option("--server-pid", o.server_pid, "measure this process's RSS (idle)");
  cli.add_option("--report", o.report, "write the JSON report to this file ('-': print it instead of the summary)");
  cli.add_option("--label", o.label, "name of this run in the report");
  CLI11_PARSE(cli, argc, argv);
  raise_descriptor_limit();
  if (!scenario_file.empty() || !preset_name.empty()) {
    try {
      auto sc = !scenario_file.empty() ? dynchat::load::load_scenario_file(scenario_file) : dynchat::load::preset(preset_name);
      if (arrival_rate) sc.arrival_rate = *arrival_rate;
      dynchat::load::validate(sc);
      run.host = o.host;
      run.port = o.port;
      auto result = capacity ? dynchat::load::find_capacity(sc, run, capacity_factor, capacity_steps)
                             : dynchat::load::run_scenario(sc, run);
      if (!result.report.empty()) {
        if (o.report == "-") { // a script wants the JSON on stdout
          std::cout << result.report << std::endl;
        } else {
          const auto j = nlohmann::json::parse(result.report);
          std::cout << (capacity ? dynchat::load::render_capacity(j) : dynchat::load::render_report(j)) << std::flush;
          if (!o.report.empty()) std::ofstream(o.report) << result.report << "\n";
        }
      }
      return result.exit_code;
    } catch (const std::invalid_argument& e) {
      std::cerr << "dynchat-load: " << e.what() << "\n";
      return 2;
    }
  }

  if (!dynchat::load::is_loopback_v4(o.host)) {
    std::cerr << "dynchat-load: --host must be a loopback address in 127.0.0.0/8\n";
    return 2;
  }
  const tcp::endpoint ep{asio::ip::make_address(o.host), o.port};
  asio::io_context ioc{1};
  dynchat::load::peer_context ctx{ioc, ep, o.msgpack, {}};
  results res;
  const auto t0 = clock_type::now();
  const auto connect_span = std::chrono::duration<double>(o.visitors / o.connect_rate);
  const auto send_until = t0 + std::chrono::duration_cast<clock_type::duration>(connect_span) +
                          std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.scenario == "chat" ? o.duration : 0));
  const long rss_before = o.server_pid ? rss_kib(o.server_pid) : -1;

  std::vector<std::shared_ptr<fixed_rate_visitor>> visitors;
  visitors.reserve(o.visitors);
  asio::steady_timer arrivals{ioc};
  std::function<void()> arrive = [&] {
    const auto elapsed = std::chrono::duration<double>(clock_type::now() - t0).count();
    const auto due = std::min<std::size_t>(o.visitors, static_cast<std::size_t>(elapsed * o.connect_rate) + 1);
    while (visitors.size() < due) {
      visitors.push_back(std::make_shared<fixed_rate_visitor>(ctx, o, res, send_until));
      visitors.back()->start();
    }
    if (visitors.size() < o.visitors) {
      arrivals.expires_after(std::chrono::milliseconds{1});
      arrivals.async_wait([&](beast::error_code e) { if (!e) arrive(); });
    }
  };
  asio::post(ioc, arrive);

  // One progress line a second; the run ends by itself at a fixed deadline.
  const double drain = 5;
  const double total = connect_span.count() + (o.scenario == "chat" ? o.duration : o.hold) + drain;
  asio::steady_timer ticker{ioc};
  std::uint64_t last_acked = 0;
  long rss_loaded = -1;
  std::function<void()> tick = [&] {
    const double elapsed = std::chrono::duration<double>(clock_type::now() - t0).count();
    std::fprintf(stderr, "[%5.1fs] connected %llu  acked/s %llu  p99 ack %llu us  errors %zu\n", elapsed,
                 static_cast<unsigned long long>(res.connected), static_cast<unsigned long long>(res.acked - last_acked),
                 static_cast<unsigned long long>(res.ack.quantile(0.99)), res.errors.size());
    last_acked = res.acked;
    if (o.scenario == "idle" && o.server_pid && res.connected == o.visitors && rss_loaded < 0 &&
        elapsed > connect_span.count() + 2)
      rss_loaded = rss_kib(o.server_pid); // after a settle time with everyone connected
    const bool idle_done = o.scenario == "idle" && elapsed >= connect_span.count() + o.hold;
    const bool chat_done = o.scenario == "chat" && clock_type::now() > send_until &&
                           std::all_of(visitors.begin(), visitors.end(), [](auto& v) { return v->unacked() == 0; });
    if (elapsed >= total || idle_done || chat_done) {
      ctx.stopping = true;
      for (auto& v : visitors) v->drop();
      arrivals.cancel();
      return;
    }
    ticker.expires_after(std::chrono::seconds{1});
    ticker.async_wait([&](beast::error_code e) { if (!e) tick(); });
  };
  ticker.expires_after(std::chrono::seconds{1});
  ticker.async_wait([&](beast::error_code e) { if (!e) tick(); });
  ioc.run();

  const double sending_seconds = o.scenario == "chat" ? o.duration : 0;
  std::uint64_t lost = 0;
  for (auto& v : visitors) lost += v->unacked();
  json report{{"label", o.label},
              {"scenario", o.scenario},
              {"encoding", o.msgpack ? "msgpack" : "json"},
              {"visitors", o.visitors},
              {"connected", res.connected},
              {"connect_failures", res.connect_failures},
              {"closed_early", res.closed_early},
              {"sent", res.sent},
              {"acked", res.acked},
              {"unacked", lost},
              {"duplicate_acks", res.duplicates},
              {"reordered_acks", res.reordered},
              {"acked_per_second", sending_seconds > 0 ? static_cast<double>(res.acked) / sending_seconds : 0.0},
              {"ack_latency", histogram_json(res.ack)},
              {"session_setup", histogram_json(res.setup)},
              {"errors", res.errors}};
  if (o.server_pid) {
    report["server_rss_before_kib"] = rss_before;
    report["server_rss_loaded_kib"] = rss_loaded;
    if (rss_loaded > 0 && res.connected > 0)
      report["server_rss_per_session_bytes"] = static_cast<double>(rss_loaded - rss_before) * 1024.0 / static_cast<double>(res.connected);
  }
  std::cout << report.dump(2) << std::endl; // the fixed-rate modes feed bench-core.sh: JSON only
  if (!o.report.empty() && o.report != "-") std::ofstream(o.report) << report.dump(2) << "\n";
  return (res.reordered || res.duplicates || lost) ? 1 : 0;
}
