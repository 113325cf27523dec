// marketo-standin: the stand-in Marketo instance as a program, for benchmarks and by-hand
// runs. Prints one line, `listening http://127.0.0.1:PORT client_id=… client_secret=…`,
// serves until SIGINT/SIGTERM or until its stdin closes (so a parent that dies takes it
// along), then prints one line of what it served.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "marketo_standin.hpp"

int main(int argc, char** argv) {
  dynchat::testing::standin_options o;
  CLI::App app{"A stand-in Marketo REST API on 127.0.0.1 with generated leads"};
  std::uint64_t quota_mb = o.daily_quota_bytes >> 20;
  std::int64_t export_delay_ms = 0, latency_ms = 0, token_ttl_s = o.token_ttl.count();
  unsigned span_days = 400;
  bool no_rate_limits = false, ignore_stdin = false;
  app.add_option("--leads", o.leads, "generated leads")->capture_default_str();
  app.add_option("--custom-fields", o.custom_fields, "custom lead fields, customField1..N")->capture_default_str();
  app.add_option("--export-delay-ms", export_delay_ms, "from Processing to Completed")->capture_default_str();
  app.add_option("--quota-mb", quota_mb, "daily export quota")->capture_default_str();
  app.add_flag("--no-rate-limits", no_rate_limits, "answer no 606 / 615");
  app.add_option("--token-ttl-s", token_ttl_s, "access token lifetime")->capture_default_str();
  app.add_option("--created-span-days", span_days,
                 "leads are created evenly over the last N days (31 or fewer: one export holds them all)")
    ->capture_default_str();
  app.add_option("--call-latency-ms", latency_ms, "every API answer is held this long")->capture_default_str();
  app.add_option("--client-id", o.client_id)->capture_default_str();
  app.add_option("--client-secret", o.client_secret)->capture_default_str();
  app.add_flag("--ignore-stdin", ignore_stdin, "keep serving when stdin closes (e.g. started with &)");
  CLI11_PARSE(app, argc, argv);

  const auto now = std::chrono::system_clock::now();
  o.first_created = now - std::chrono::days{span_days};
  o.last_created = now;
  o.export_delay = std::chrono::milliseconds{export_delay_ms};
  o.daily_quota_bytes = quota_mb << 20;
  o.enforce_rate_limits = !no_rate_limits;
  o.token_ttl = std::chrono::seconds{token_ttl_s};
  o.call_latency = std::chrono::milliseconds{latency_ms};

  // The signals are taken by sigwait below; every thread started from here on blocks them.
  // A shell starts a background job with SIGINT ignored, and an ignored signal never
  // reaches sigwait: back to the default first.
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  dynchat::testing::marketo_standin standin{o};
  std::printf("listening %s client_id=%s client_secret=%s\n", standin.base_url().c_str(), o.client_id.c_str(),
              o.client_secret.c_str());
  std::fflush(stdout);

  if (!ignore_stdin) {
    std::thread{[] {
      char buf[256];
      while (::read(STDIN_FILENO, buf, sizeof buf) > 0) {
      }
      ::kill(::getpid(), SIGTERM);
    }}.detach();
  }
  int sig = 0;
  sigwait(&stop, &sig);

  const auto calls = standin.calls();
  std::uint64_t identity = 0, failed = 0;
  std::map<std::string, std::uint64_t> errors;
  for (const auto& c : calls) {
    identity += c.path.starts_with("/identity/");
    if (!c.error.empty()) {
      ++failed;
      ++errors[c.error];
    }
  }
  std::string by_code;
  for (const auto& [code, n] : errors) by_code += " " + code + "×" + std::to_string(n);
  std::printf("served %zu calls (%llu identity, %zu API), %llu failed%s%s; peak %d at once; %llu exports completed, "
              "%llu bytes of quota used\n",
              calls.size(), static_cast<unsigned long long>(identity), calls.size() - identity,
              static_cast<unsigned long long>(failed), by_code.empty() ? "" : ":", by_code.c_str(),
              standin.peak_concurrency(), static_cast<unsigned long long>(standin.exports_completed()),
              static_cast<unsigned long long>(standin.quota_used()));
  std::fflush(stdout);
  return 0;
}
