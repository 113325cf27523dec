// How fast a visitor is resolved among the published dialogues (not a test: prints
// figures). 100 dialogues, each with 20 target URLs and 100 conditions (10 groups of 10),
// against visitors with 20 lead fields on random pages. Two workloads:
//  - sections: each dialogue targets its own part of a site, as marketers do; a page is
//    targeted by a handful, whose conditions are then evaluated;
//  - worst: every dialogue targets every page and each of its 10 groups fails only at its
//    last condition, so all 100 conditions of all 100 dialogues are evaluated.
// Usage: build/targeting-bench [seconds per workload, default 2]
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "dynchat/targeting/audience.hpp"

using namespace dynchat;
using namespace dynchat::targeting;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr int dialogues = 100, urls = 20, groups = 10, per_group = 10, fields = 20;

std::vector<candidate> published(bool worst) {
  std::vector<candidate> out;
  for (int d = 0; d < dialogues; ++d) {
    dialogue::audience a;
    for (int u = 0; u < urls; ++u)
      a.urls.push_back(worst ? "https://*.example.com/*"
                             : "https://*.example.com/section" + std::to_string(d % 25) + "/page" + std::to_string(u) + "*");
    a.all_groups = false; // any group: every group is evaluated when none holds
    for (int g = 0; g < groups; ++g) {
      dialogue::condition_group group{true, {}};
      for (int c = 0; c < per_group; ++c) {
        const auto field = "field" + std::to_string((g + c) % fields);
        const bool last = c == per_group - 1;
        // Conditions that hold for every visitor, but the last one of a group.
        group.conditions.push_back(last ? dialogue::condition{field, dialogue::op::is, "never"}
                                        : dialogue::condition{field, dialogue::op::is_not_empty, ""});
      }
      a.groups.push_back(std::move(group));
    }
    if (!worst && d % 4 == 0) a.groups.back().conditions.back() = {"field0", dialogue::op::starts_with, "val"}; // some match
    out.push_back({"dialogue-" + std::to_string(1000 + d), static_cast<std::uint32_t>(d + 1), *compiled_audience::compile(a)});
  }
  return out;
}

struct visitor {
  page_url page;
  lead_attributes lead;
};

std::vector<visitor> visitors(std::mt19937& rng) {
  std::vector<visitor> out;
  for (int v = 0; v < 1000; ++v) {
    visitor x;
    x.page = *parse_page_url("https://www.example.com/section" + std::to_string(rng() % 25) + "/page" +
                             std::to_string(rng() % urls) + "?utm_source=ad");
    for (int f = 0; f < fields; ++f) x.lead["field" + std::to_string(f)] = "value " + std::to_string(rng() % 100);
    if (v % 2) x.lead["email"] = "visitor" + std::to_string(v) + "@example.org";
    out.push_back(std::move(x));
  }
  return out;
}

void run(const char* name, bool worst, double seconds) {
  std::mt19937 rng(7);
  const auto candidates = published(worst);
  const auto people = visitors(rng);
  std::size_t resolved = 0, matched = 0;
  const auto start = clock_type::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  while (clock_type::now() < until) {
    for (const auto& v : people) {
      matched += resolve(candidates, v.page, v.lead).has_value();
      ++resolved;
    }
  }
  const double took = std::chrono::duration<double>(clock_type::now() - start).count();
  std::printf("%-9s %9.0f resolutions/s on one core (%zu in %.2f s; %.0f%% found a dialogue)\n", name, resolved / took,
              resolved, took, 100.0 * static_cast<double>(matched) / static_cast<double>(resolved));
}

} // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  std::printf("%d dialogues x %d URLs x %d conditions (%d groups of %d), visitors with %d fields\n", dialogues, urls,
              groups * per_group, groups, per_group, fields);
  run("sections", false, seconds);
  run("worst", true, seconds);
}
