#include "launcher.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "report_util.hpp"

namespace dynchat::load {
namespace {

using json = nlohmann::json;

struct child {
  pid_t pid = -1;
  int fd = -1;          // read end of the child's progress pipe; -1 once it closed
  std::string pending;  // a partial line
  json progress = json::object(); // the newest progress line
  bool has_final = false;
  tally final_tally;
  double elapsed = 0;
  std::string error;
};

// The child: run this process's share and send the tally up the pipe.
[[noreturn]] void child_main(const scenario& sc, run_options o, unsigned index, int fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlive the launcher
  o.proc_index = index;
  o.progress_fd = fd;
  try {
    double elapsed = 0;
    const tally t = run_share(share_of(sc, o.procs, index), o, elapsed);
    write_line(fd, json{{"final", t.to_json()}, {"elapsed", elapsed}}.dump());
    ::_exit(0);
  } catch (const std::exception& e) {
    write_line(fd, json{{"error", e.what()}}.dump());
    ::_exit(2);
  }
}

void handle_line(child& c, const std::string& line) {
  try {
    auto j = json::parse(line);
    if (j.contains("progress")) c.progress = j["progress"];
    else if (j.contains("final")) {
      c.final_tally = tally::from_json(j["final"]);
      c.elapsed = j.at("elapsed").get<double>();
      c.has_final = true;
    } else if (j.contains("error")) c.error = j["error"].get<std::string>();
  } catch (const std::exception& e) {
    c.error = std::string{"unreadable report from a client process: "} + e.what();
  }
}

void read_from(child& c) {
  char buf[65536];
  const auto n = ::read(c.fd, buf, sizeof buf);
  if (n <= 0) {
    ::close(c.fd);
    c.fd = -1;
    return;
  }
  c.pending.append(buf, static_cast<std::size_t>(n));
  for (std::size_t nl; (nl = c.pending.find('\n')) != std::string::npos;) {
    handle_line(c, c.pending.substr(0, nl));
    c.pending.erase(0, nl + 1);
  }
}

std::uint64_t sum(const std::vector<child>& cs, const char* key) {
  std::uint64_t n = 0;
  for (const auto& c : cs) n += c.progress.value(key, std::uint64_t{0});
  return n;
}

} // namespace

run_result run_in_processes(const scenario& sc, const run_options& o) {
  using clock_type = std::chrono::steady_clock;
  // Everyone starts on the same steady_clock instant, after creating its agents.
  const auto start = clock_type::now() + std::chrono::milliseconds{1000 + 10 * sc.agents};
  run_options co = o;
  co.start_at_ns = start.time_since_epoch().count();
  std::vector<child> children(o.procs);
  std::fflush(nullptr);
  for (unsigned i = 0; i < o.procs; ++i) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      std::perror("dynchat-load: pipe");
      for (auto& c : children) if (c.pid > 0) ::kill(c.pid, SIGKILL);
      return {2, {}};
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(p[0]);
      for (unsigned k = 0; k < i; ++k) ::close(children[k].fd);
      child_main(sc, co, i, p[1]);
    }
    ::close(p[1]);
    children[i].pid = pid;
    children[i].fd = p[0];
    if (pid < 0) {
      std::perror("dynchat-load: fork");
      ::close(p[0]);
      children[i].fd = -1;
      children[i].error = "fork failed";
    }
  }

  const auto deadline = start + std::chrono::duration_cast<clock_type::duration>(
                                    std::chrono::duration<double>(run_bound_seconds(sc, o) + 30));
  bool told_to_stop = false, killed = false;
  std::uint64_t printed_second = 0, acked_at_print = 0, connected_at_print = 0;
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<child*> owners;
    for (auto& c : children)
      if (c.fd >= 0) {
        fds.push_back({c.fd, POLLIN, 0});
        owners.push_back(&c);
      }
    if (fds.empty()) break;
    ::poll(fds.data(), fds.size(), 200);
    for (std::size_t k = 0; k < fds.size(); ++k)
      if (fds[k].revents) read_from(*owners[k]);

    // One merged progress line once every process has reported the second.
    std::uint64_t second = UINT64_MAX;
    bool all_done = true, any_failed = false;
    for (const auto& c : children) {
      second = std::min(second, c.progress.value("second", std::uint64_t{0}));
      all_done = all_done && c.progress.value("done", false);
      any_failed = any_failed || !c.error.empty() || (c.fd < 0 && !c.has_final);
    }
    if (second > printed_second && second != UINT64_MAX) {
      std::uint64_t worst_p99 = 0;
      for (const auto& c : children) worst_p99 = std::max(worst_p99, c.progress.value("p99_ack_us", std::uint64_t{0}));
      const auto acked = sum(children, "acked"), connected = sum(children, "connected");
      const auto seconds = second - printed_second;
      std::fprintf(stderr, "[%5llus] %u procs  visitors %llu/%llu  new sessions/s %llu  acked/s %llu  p99 ack %.1f ms (worst proc)  in flight %llu  errors %llu\n",
                   static_cast<unsigned long long>(second), o.procs, static_cast<unsigned long long>(sum(children, "active")),
                   static_cast<unsigned long long>(sum(children, "arrived")),
                   static_cast<unsigned long long>((connected - connected_at_print) / seconds),
                   static_cast<unsigned long long>((acked - acked_at_print) / seconds), worst_p99 / 1000.0,
                   static_cast<unsigned long long>(sum(children, "sent") - acked),
                   static_cast<unsigned long long>(sum(children, "errors")));
      printed_second = second;
      acked_at_print = acked;
      connected_at_print = connected;
    }
    // A child's agents serve visitors of every child: stop only when all are done.
    if (!told_to_stop && all_done) {
      for (auto& c : children) if (c.pid > 0) ::kill(c.pid, SIGUSR1);
      told_to_stop = true;
    }
    if (!killed && (any_failed || clock_type::now() > deadline)) {
      for (auto& c : children) if (c.pid > 0) ::kill(c.pid, SIGKILL);
      killed = true;
    }
  }
  int status = 0;
  for (auto& c : children)
    if (c.pid > 0) ::waitpid(c.pid, &status, 0);

  tally merged;
  double elapsed = 0;
  for (unsigned i = 0; i < children.size(); ++i) {
    auto& c = children[i];
    if (!c.has_final) {
      std::cerr << "dynchat-load: client process " << i << " failed"
                << (c.error.empty() ? std::string{" (no report; stopped or timed out)"} : ": " + c.error) << "\n";
      return {2, {}};
    }
    merged.merge(c.final_tally);
    elapsed = std::max(elapsed, c.elapsed);
  }
  const auto report = make_report(merged, sc, elapsed, o.slo, o.procs);
  return {report["ok"].get<bool>() ? 0 : 1, report.dump(2)};
}

} // namespace dynchat::load
