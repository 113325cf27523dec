#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "dynchat/conversation/output_pacer.hpp"

using namespace dynchat;
namespace out = engine::out;

namespace {

engine::output say(std::string text) { return out::bot_message{std::move(text), {}, {}, {}, {}, {}}; }
engine::output wait(std::int64_t ms) { return out::typing{ms}; }

// What was carried out, as text: bot lines by their text, a typing hold as "typing",
// each with the origin it came with.
struct recorder {
  conversation::output_pacer<int> pacer;
  std::vector<std::string> seen;
  std::vector<int> origins;
  // Run between the outputs named here and the outputs they produce when carried out.
  std::map<std::string, std::vector<engine::output>> produces;

  void run() {
    pacer.run([&](const auto& item) {
      std::string what = "typing";
      if (const auto* m = std::get_if<out::bot_message>(&item.output)) what = m->text;
      seen.push_back(what);
      origins.push_back(item.origin);
      if (auto it = produces.find(what); it != produces.end()) {
        pacer.push(it->second, 100);
        run(); // the outer run goes on: a nested call does nothing
      }
    });
  }
  void push(std::vector<engine::output> outputs, int origin) {
    pacer.push(std::move(outputs), origin);
    run();
  }
};

using lines = std::vector<std::string>;

} // namespace

TEST_CASE("outputs without a typing delay go out at once, in order", "[pacer]") {
  recorder r;
  r.push({say("a"), say("b"), wait(0), say("c")}, 1);
  CHECK(r.seen == lines{"a", "b", "typing", "c"});
  CHECK(r.pacer.idle());
}

TEST_CASE("a typing delay holds what follows, and what comes meanwhile, until its own timer", "[pacer]") {
  recorder r;
  r.push({say("a"), wait(800), say("b")}, 1);
  CHECK(r.seen == lines{"a", "typing"});
  const auto hold = r.pacer.generation();
  r.push({say("c")}, 2); // the visitor's next input, answered while the bot types
  CHECK(r.seen == lines{"a", "typing"});
  CHECK_FALSE(r.pacer.idle());
  CHECK_FALSE(r.pacer.resume(hold - 1)); // a stale timer
  CHECK(r.seen.size() == 2);
  REQUIRE(r.pacer.resume(hold));
  r.run();
  CHECK(r.seen == lines{"a", "typing", "b", "c"});
  CHECK(r.origins == std::vector<int>{1, 1, 1, 2}); // a held output keeps who it answers
  CHECK(r.pacer.idle());
  CHECK_FALSE(r.pacer.resume(hold)); // a timer fires once
}

TEST_CASE("a typing delay last in its step still holds the next step", "[pacer]") {
  recorder r;
  r.push({say("a"), wait(500)}, 1);
  r.push({say("b")}, 2);
  CHECK(r.seen == lines{"a", "typing"});
  REQUIRE(r.pacer.resume(r.pacer.generation()));
  r.run();
  CHECK(r.seen == lines{"a", "typing", "b"});
}

TEST_CASE("what carrying an output produces goes right after it, before what was queued", "[pacer]") {
  recorder r;
  r.produces["end"] = {say("bye"), say("see you")};
  r.push({say("a"), say("end"), say("after end")}, 1);
  CHECK(r.seen == lines{"a", "end", "bye", "see you", "after end"});
  CHECK(r.origins == std::vector<int>{1, 1, 100, 100, 1});
}

TEST_CASE("a nested typing delay holds the outer step's remainder too, none of it lost", "[pacer]") {
  recorder r;
  r.produces["end"] = {say("bye"), wait(300), say("see you")};
  r.push({say("end"), wait(700), say("last")}, 1);
  CHECK(r.seen == lines{"end", "bye", "typing"});
  REQUIRE(r.pacer.resume(r.pacer.generation()));
  r.run();
  CHECK(r.seen == lines{"end", "bye", "typing", "see you", "typing"});
  REQUIRE(r.pacer.resume(r.pacer.generation()));
  r.run();
  CHECK(r.seen == lines{"end", "bye", "typing", "see you", "typing", "last"});
  CHECK(r.pacer.idle());
}

TEST_CASE("dropping what a hold keeps back forgets it and voids its timer", "[pacer]") {
  recorder r;
  r.push({wait(1000), out::hand_over{}}, 1);
  const auto hold = r.pacer.generation();
  r.pacer.drop_held();
  CHECK(r.pacer.idle());
  CHECK_FALSE(r.pacer.resume(hold));
  r.push({say("after")}, 2);
  CHECK(r.seen == lines{"typing", "after"});
  SECTION("a refusal held behind the hold still reaches its sender") {
    r.push({wait(500)}, 1);
    r.push({say("held"), out::reject{protocol::error_code::bad_value, "no such option"}}, 7);
    r.pacer.drop_held();
    r.run();
    CHECK(r.seen.back() == "typing"); // the reject, which the recorder shows as not a bot line
    CHECK(r.origins.back() == 7);
    CHECK(std::find(r.seen.begin(), r.seen.end(), "held") == r.seen.end());
  }
  SECTION("with no hold, nothing is dropped") {
    r.pacer.push({say("queued")}, 3);
    r.pacer.drop_held();
    r.run();
    CHECK(r.seen.back() == "queued");
  }
}
