#include <catch2/catch.hpp>

#include "dynchat/marketo/activities.hpp"
#include "dynchat/marketo/fields.hpp"

using namespace dynchat::marketo;

namespace {
std::vector<described_field> described(std::size_t n) {
  std::vector<described_field> out{{"email", "Email Address", "email", false}, {"firstName", "First Name", "string", false},
                                   {"company", "Company Name", "string", false}, {"industry", "Industry", "string", false}};
  for (std::size_t i = 1; i <= n; ++i) out.push_back({"customField" + std::to_string(i), "Custom " + std::to_string(i), "string", false});
  return out;
}
std::vector<std::string> custom(std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 1; i <= n; ++i) out.push_back("customField" + std::to_string(i));
  return out;
}
} // namespace

TEST_CASE("describe's result becomes the field list by REST name", "[marketo]") {
  envelope e;
  e.success = true;
  e.result = nlohmann::json::parse(R"([
    {"id":2,"displayName":"Company Name","dataType":"string","length":255,"rest":{"name":"company","readOnly":false},"soap":{"name":"Company"}},
    {"id":3,"displayName":"SOAP only","dataType":"string","soap":{"name":"X"}},
    {"id":4,"displayName":"Created","dataType":"datetime","rest":{"name":"createdAt","readOnly":true}}, 7])");
  auto f = parse_describe(e);
  REQUIRE(f.size() == 2);
  CHECK(f[0].name == "company");
  CHECK(f[0].display_name == "Company Name");
  CHECK(f[1].read_only);
}

TEST_CASE("email is always selected and first and repeats are dropped", "[marketo]") {
  auto out = check_selection({"firstName", "company", "firstName"}, described(0), {}, {});
  CHECK(out.errors.empty());
  CHECK(out.fields == std::vector<std::string>{"email", "firstName", "company"});
  CHECK(out.added == out.fields);
}

TEST_CASE("50 fields are allowed and a 51st is refused", "[marketo]") {
  auto fifty = check_selection(custom(49), described(60), {}, {}); // + email = 50
  CHECK(fifty.errors.empty());
  CHECK(fifty.fields.size() == 50);
  auto fifty_one = check_selection(custom(50), described(60), {}, {});
  REQUIRE(fifty_one.errors.size() == 1);
  CHECK_THAT(fifty_one.errors[0], Catch::Contains("51 fields") && Catch::Contains("at most 50"));
}

TEST_CASE("a field Marketo does not describe is refused unless the list is unknown", "[marketo]") {
  auto out = check_selection({"firstName", "shoeSize"}, described(0), {}, {});
  REQUIRE(out.errors.size() == 1);
  CHECK_THAT(out.errors[0], Catch::Contains("\"shoeSize\""));
  CHECK(check_selection({"shoeSize"}, {}, {}, {}).errors.empty());
  CHECK_FALSE(check_selection({""}, {}, {}, {}).errors.empty());
}

TEST_CASE("removing a field a dialogue uses is refused and names the dialogues", "[marketo]") {
  std::map<std::string, std::vector<std::string>> in_use{{"industry", {"Pricing bot", "Welcome"}}};
  auto out = check_selection({"firstName"}, described(0), {"email", "firstName", "industry", "company"}, in_use);
  CHECK(out.removed == std::vector<std::string>{"industry", "company"});
  REQUIRE(out.errors.size() == 1);
  CHECK_THAT(out.errors[0], Catch::Contains("\"industry\" cannot be removed") && Catch::Contains("Pricing bot, Welcome"));
  // Kept, it is fine; adding beside it too.
  auto kept = check_selection({"industry", "customField1"}, described(2), {"email", "industry"}, in_use);
  CHECK(kept.errors.empty());
  CHECK(kept.added == std::vector<std::string>{"customField1"});
}

TEST_CASE("an outbox row becomes a custom activity with its delivery id", "[marketo]") {
  dynchat::store::activity_record a;
  a.kind = "goal_reached";
  a.name = "Demo requested";
  a.ts_ms = 1'700'000'000'000;
  a.updated_ms = 1'700'000'001'000;
  a.conversation_id = "c1";
  a.dialogue_name = "Welcome";
  a.score = 2;
  auto j = external_activity(a, 42, 100001);
  CHECK(j["leadId"] == 42);
  CHECK(j["activityTypeId"] == 100001);
  CHECK(j["activityDate"] == "2023-11-14T22:13:20Z");
  CHECK(j["primaryAttributeValue"] == "Demo requested");
  CHECK(activity_api_name(a.kind) == "dynchat_goal_reached");
  bool has_id = false;
  for (const auto& attr : j["attributes"])
    if (attr["apiName"] == "dynchatId") {
      has_id = true;
      CHECK(attr["value"] == "c1:goal_reached:Demo requested:1700000001000");
    }
  CHECK(has_id);
  // A new version of the row is a new delivery.
  auto b = a;
  b.updated_ms += 1;
  CHECK(delivery_id(a) != delivery_id(b));
}
