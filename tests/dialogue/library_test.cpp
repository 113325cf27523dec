// The published set over a real LMDB file: what reload picks up, versions parsed once and
// shared, a pinned version still served after a republish, and resolution by priority.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include <nlohmann/json.hpp>

#include "dynchat/dialogue/library.hpp"
#include "dynchat/store/tables.hpp"
#include "dynchat/store/writes.hpp"

using namespace dynchat;

namespace {

struct temp_store {
  std::filesystem::path dir;
  std::shared_ptr<store::database> db;
  temp_store() {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() / ("dynchat-library-test-" + std::to_string(rd()));
    db = store::database::open(dir, {16ull << 20, false});
  }
  ~temp_store() {
    db.reset();
    std::filesystem::remove_all(dir);
  }
  void write(const store::write_batch& b) {
    auto txn = db->write();
    store::writes::apply(txn, b);
    txn.commit();
  }
};

std::string definition(const std::string& name, std::uint32_t priority, const std::string& url) {
  return nlohmann::json{{"name", name},
                        {"priority", priority},
                        {"audience", {{"urls", {url}}}},
                        {"start", "bye"},
                        {"cards", {{{"id", "bye"}, {"kind", "end"}, {"text", name}}}}}
    .dump();
}

void publish(temp_store& s, const std::string& id, std::uint32_t version, std::uint32_t priority, const std::string& json,
             store::dialogue_status status = store::dialogue_status::published) {
  store::write_batch b;
  store::writes::put_dialogue_version(b, id, version, json);
  store::writes::put_dialogue(b, {id, id, priority, status, json, version, 1, 1, priority});
  s.write(b);
}

} // namespace

TEST_CASE("the published set holds what is published, resolved by priority and audience", "[dialogue][library]") {
  temp_store s;
  dialogue::library lib{s.db};
  CHECK(lib.published()->candidates.empty());
  publish(s, "a", 1, 2, definition("Everywhere", 2, "https://*.example.com/*"));
  publish(s, "b", 1, 1, definition("Pricing", 1, "https://www.example.com/pricing"));
  publish(s, "c", 1, 3, definition("Draft", 3, "https://www.example.com/*"), store::dialogue_status::unpublished);
  CHECK(lib.published()->candidates.empty()); // nothing until reloaded
  lib.reload();
  auto set = lib.published();
  CHECK(set->candidates.size() == 2);
  const targeting::lead_attributes anyone;
  auto* pricing = set->resolve("https://www.example.com/pricing?utm=x", anyone, {});
  REQUIRE(pricing);
  CHECK(pricing->id == "b");
  CHECK(pricing->def->name == "Pricing");
  CHECK(set->resolve("https://www.example.com/pricing", anyone, {"b"})->id == "a"); // met already: the next
  CHECK(set->resolve("https://www.example.com/docs", anyone, {})->id == "a");
  CHECK_FALSE(set->resolve("https://other.org/", anyone, {}));
  CHECK_FALSE(set->resolve("not a url", anyone, {}));
}

TEST_CASE("a pinned version is served after a republish, parsed once while held", "[dialogue][library]") {
  temp_store s;
  dialogue::library lib{s.db};
  publish(s, "a", 1, 1, definition("One", 1, "https://example.com/*"));
  lib.reload();
  auto v1 = lib.published()->by_id.at("a").def;
  CHECK(lib.version("a", 1) == v1); // the same parsed definition, shared
  publish(s, "a", 2, 1, definition("Two", 1, "https://example.com/*"));
  lib.reload();
  CHECK(lib.published()->by_id.at("a").version == 2);
  CHECK(lib.published()->by_id.at("a").def->name == "Two");
  CHECK(lib.version("a", 1) == v1); // still held: still shared
  CHECK(lib.version("a", 1)->name == "One");
  v1.reset();
  lib.reload(); // forgets what nobody holds; it is read again on demand
  CHECK(lib.version("a", 1)->name == "One");
  CHECK_FALSE(lib.version("a", 9));
  CHECK_FALSE(lib.version("missing", 1));
  // A stored version that no longer validates is not run.
  store::write_batch b;
  store::writes::put_dialogue_version(b, "bad", 1, R"({"name": "x"})");
  s.write(b);
  CHECK_FALSE(lib.version("bad", 1));
}
