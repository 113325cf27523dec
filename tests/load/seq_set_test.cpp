#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "seq_set.hpp"

using dynchat::load::seq_set;

namespace {

// Runs ascending, each first <= last, with a gap between neighbours; sizes add up.
void check_runs_well_formed(const seq_set& s) {
  std::uint64_t total = 0;
  const auto& runs = s.runs();
  for (std::size_t i = 0; i < runs.size(); ++i) {
    CHECK(runs[i].first <= runs[i].second);
    if (i) CHECK(runs[i - 1].second + 1 < runs[i].first);
    total += runs[i].second - runs[i].first + 1;
  }
  CHECK(total == s.size());
}

} // namespace

TEST_CASE("seqs in order make one run", "[load]") {
  seq_set s;
  for (std::uint64_t q = 1; q <= 1000; ++q) CHECK(s.insert(q));
  CHECK_FALSE(s.insert(500));
  CHECK(s.runs().size() == 1);
  CHECK(s.size() == 1000);
}

TEST_CASE("a seq set agrees with std::set under random inserts and runs", "[load]") {
  std::mt19937_64 rng{GENERATE(1u, 2u, 3u, 4u, 5u)};
  std::uniform_int_distribution<std::uint64_t> seq(0, 300), len(0, 6);
  seq_set a, b;
  std::set<std::uint64_t> ref_a, ref_b;
  for (int i = 0; i < 400; ++i) {
    const auto q = seq(rng);
    if (i % 3 == 0) {
      const auto last = q + len(rng);
      std::uint64_t fresh = 0;
      for (auto x = q; x <= last; ++x) fresh += ref_a.insert(x).second;
      CHECK(a.insert_run(q, last) == fresh);
    } else {
      CHECK(a.insert(q) == ref_a.insert(q).second);
    }
    const auto other = seq(rng);
    CHECK(b.insert(other) == ref_b.insert(other).second);
  }
  check_runs_well_formed(a);
  CHECK(a.size() == ref_a.size());
  for (std::uint64_t q = 0; q <= 310; ++q) CHECK(a.contains(q) == (ref_a.count(q) == 1));
  std::uint64_t a_not_in_b = 0, b_not_in_a = 0;
  for (auto q : ref_a) a_not_in_b += ref_b.count(q) == 0;
  for (auto q : ref_b) b_not_in_a += ref_a.count(q) == 0;
  CHECK(a.count_missing_from(b) == a_not_in_b);
  CHECK(b.count_missing_from(a) == b_not_in_a);
}
