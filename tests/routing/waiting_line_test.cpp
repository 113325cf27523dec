#include <catch2/catch.hpp>

#include <string>

#include "dynchat/routing/waiting_line.hpp"

using dynchat::routing::waiting_line;

TEST_CASE("the waiting line is first come, first served by the time of asking", "[routing]") {
  waiting_line<int> line;
  CHECK(line.push("a", 100, 1) == 1);
  CHECK(line.push("b", 200, 2) == 2);
  CHECK(line.push("c", 300, 3) == 3);
  CHECK(line.push("old", 150, 4) == 2); // asked before b: goes ahead of b, behind a
  CHECK(line.push("b", 999, 5) == 3);   // already waiting: not added twice
  CHECK(line.size() == 4);
  std::string order;
  for (int* f; (f = line.front()) != nullptr; line.pop_front()) order += std::to_string(*f);
  CHECK(order == "1423");
  CHECK(line.empty());
}

TEST_CASE("leaving the line: skipped at the front, positions count only those waiting", "[routing]") {
  waiting_line<int> line;
  line.push("a", 1, 1);
  line.push("b", 2, 2);
  line.push("c", 3, 3);
  CHECK(line.remove("a"));
  CHECK_FALSE(line.remove("a"));
  CHECK_FALSE(line.contains("a"));
  CHECK(*line.front() == 2);
  CHECK(line.remove("c"));
  CHECK(line.push("d", 4, 4) == 2); // b, d
  CHECK(line.push("early", 0, 9) == 1);
  // The same id may come back after leaving; its old entry stays dead.
  CHECK(line.remove("b"));
  CHECK(line.push("b", 5, 7) == 3);
  std::string order;
  for (int* f; (f = line.front()) != nullptr; line.pop_front()) order += std::to_string(*f);
  CHECK(order == "947");
}

TEST_CASE("a long line with most leaving stays ordered and bounded", "[routing]") {
  waiting_line<int> line;
  for (int i = 0; i < 20000; ++i) line.push("c" + std::to_string(i), i, i);
  for (int i = 0; i < 20000; ++i)
    if (i % 10) line.remove("c" + std::to_string(i));
  CHECK(line.size() == 2000);
  int expected = 0;
  for (int* f; (f = line.front()) != nullptr; line.pop_front(), expected += 10) CHECK(*f == expected);
  CHECK(expected == 20000);
}
