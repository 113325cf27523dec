// /v1/dialogues over a real dynchatd: saves validated with every problem listed, the paths
// of an accepted one, publishing with unique priorities and numbered versions, unpublish
// and delete, and preview running the draft through the engine, storing nothing.
#include "helpers.hpp"

#include <set>

using namespace dynchat::testing;

namespace {

std::string demo(int priority = 1, const std::string& name = "Welcome") {
  nlohmann::json j = nlohmann::json::parse(R"({
    "name": "", "priority": 1, "start": "greet",
    "cards": [
      {"id": "greet", "kind": "message", "text": "Hi {{lead.firstName:\"there\"}}!", "next": "ask"},
      {"id": "ask", "kind": "question", "text": "What brings you here?", "answers": [
        {"label": "Search Engine Optimization", "value": "SEO", "next": "email"},
        {"label": "Just looking", "next": "bye"}]},
      {"id": "email", "kind": "capture", "text": "Your email?", "capture": "email", "next": "goal"},
      {"id": "goal", "kind": "goal", "name": "acquired", "score": 2, "next": "bye"},
      {"id": "bye", "kind": "end", "text": "Thanks!"}]})");
  j["name"] = name;
  j["priority"] = priority;
  return j.dump();
}

} // namespace

TEST_CASE("a dialogue is saved only when valid, with every problem listed, then answered with its paths",
          "[e2e][dialogues]") {
  daemon_process server;
  auto bad = nlohmann::json::parse(demo());
  bad["cards"][1]["answers"][0]["next"] = "nowhere";
  bad["cards"][0]["nxet"] = "ask";
  bad["priority"] = 0;
  auto refused = http_call(server.port(), "POST", "/v1/dialogues", bad.dump(), admin_token);
  REQUIRE(refused.status == 400);
  auto envelope = refused.json_body()["error"];
  CHECK(envelope["code"] == "bad_value");
  std::set<std::string> paths;
  for (auto& p : envelope["problems"]) paths.insert(p["path"].get<std::string>());
  CHECK(paths == std::set<std::string>{"priority", "cards[0].nxet"}); // fields first; the graph once they pass
  CHECK(http_call(server.port(), "GET", "/v1/dialogues", {}, admin_token).json_body()["dialogues"].empty());

  auto created = http_call(server.port(), "POST", "/v1/dialogues", demo(), admin_token);
  REQUIRE(created.status == 201);
  auto d = created.json_body();
  CHECK(d["status"] == "draft");
  CHECK(d["published_version"].is_null());
  CHECK(d["paths"] == nlohmann::json::parse(R"([["greet","ask","email","goal","bye"],["greet","ask","bye"]])"));
  CHECK(d["paths_truncated"] == false);
  const std::string id = d["id"];
  auto got = http_call(server.port(), "GET", "/v1/dialogues/" + id, {}, admin_token).json_body();
  CHECK(got["dialogue"]["cards"].size() == 5);
  CHECK(got["name"] == "Welcome");
}

TEST_CASE("publishing makes numbered versions, priorities stay unique, a published dialogue is not deleted",
          "[e2e][dialogues]") {
  daemon_process server;
  const auto port = server.port();
  const std::string first = http_call(port, "POST", "/v1/dialogues", demo(1, "First"), admin_token).json_body()["id"];
  const std::string second = http_call(port, "POST", "/v1/dialogues", demo(1, "Second"), admin_token).json_body()["id"];
  auto published = http_call(port, "POST", "/v1/dialogues/" + first + "/publish", {}, admin_token);
  REQUIRE(published.status == 200);
  CHECK(published.json_body()["published_version"] == 1);
  CHECK(published.json_body()["status"] == "published");
  auto clash = http_call(port, "POST", "/v1/dialogues/" + second + "/publish", {}, admin_token);
  CHECK(clash.status == 409);
  CHECK(clash.json_body()["error"]["message"].get<std::string>().find(first) != std::string::npos);
  // The second takes another priority, then publishes.
  REQUIRE(http_call(port, "PUT", "/v1/dialogues/" + second, demo(2, "Second"), admin_token).status == 200);
  CHECK(http_call(port, "POST", "/v1/dialogues/" + second + "/publish", {}, admin_token).status == 200);
  // A draft taking a published dialogue's priority does not free that priority: the
  // published version still holds it.
  REQUIRE(http_call(port, "PUT", "/v1/dialogues/" + first, demo(7, "First, moved"), admin_token).status == 200);
  const std::string third = http_call(port, "POST", "/v1/dialogues", demo(1, "Third"), admin_token).json_body()["id"];
  CHECK(http_call(port, "POST", "/v1/dialogues/" + third + "/publish", {}, admin_token).status == 409);
  // Editing a published dialogue changes its draft; publishing again makes version 2.
  REQUIRE(http_call(port, "PUT", "/v1/dialogues/" + first, demo(1, "First, edited"), admin_token).status == 200);
  auto again = http_call(port, "POST", "/v1/dialogues/" + first + "/publish", {}, admin_token).json_body();
  CHECK(again["published_version"] == 2);
  CHECK(again["name"] == "First, edited");
  // Publishing an unchanged draft makes no version.
  CHECK(http_call(port, "POST", "/v1/dialogues/" + first + "/publish", {}, admin_token).status == 409);
  CHECK(http_call(port, "DELETE", "/v1/dialogues/" + first, {}, admin_token).status == 409);
  auto off = http_call(port, "POST", "/v1/dialogues/" + first + "/unpublish", {}, admin_token);
  REQUIRE(off.status == 200);
  CHECK(off.json_body()["status"] == "unpublished");
  CHECK(http_call(port, "POST", "/v1/dialogues/" + first + "/unpublish", {}, admin_token).status == 409);
  CHECK(http_call(port, "DELETE", "/v1/dialogues/" + first, {}, admin_token).status == 204);
  CHECK(http_call(port, "GET", "/v1/dialogues/" + first, {}, admin_token).status == 404);
  CHECK(http_call(port, "GET", "/v1/dialogues", {}, admin_token).json_body()["dialogues"].size() == 2);
}

TEST_CASE("preview runs the draft over scripted inputs and a lead, and stores nothing", "[e2e][dialogues]") {
  daemon_process server;
  const auto port = server.port();
  const std::string id = http_call(port, "POST", "/v1/dialogues", demo(), admin_token).json_body()["id"];
  auto preview = http_call(port, "POST", "/v1/dialogues/" + id + "/preview",
                           R"({"lead": {"firstName": "Ann"}, "inputs": [{"choice": "SEO"}, {"text": "nope"},
                               {"capture": "ann@acme.example"}]})",
                           admin_token);
  REQUIRE(preview.status == 200);
  auto steps = preview.json_body()["steps"];
  REQUIRE(steps.size() == 4);
  CHECK(steps[0]["outputs"][0] == nlohmann::json::parse(R"({"type":"bot","text":"Hi Ann!"})"));
  CHECK(steps[0]["outputs"][1]["options"][0]["value"] == "SEO");
  CHECK(steps[1]["outputs"][0]["input"] == "email");
  CHECK(steps[2]["outputs"][0]["text"] == "That does not look like an email address.");
  bool goal = false;
  for (auto& o : steps[3]["outputs"]) goal = goal || (o["type"] == "goal" && o["name"] == "acquired");
  CHECK(goal);
  CHECK(preview.json_body()["cursor"]["finished"] == true);
  CHECK(http_call(port, "POST", "/v1/dialogues/" + id + "/preview", R"({"inputs": [{"shout": "x"}]})", admin_token).status ==
        400);
  auto after = http_call(port, "GET", "/v1/dialogues/" + id, {}, admin_token).json_body();
  CHECK(after["status"] == "draft"); // nothing of it stored
  CHECK(after["published_version"].is_null());
  CHECK(preview.json_body()["truncated"] == false);
}

TEST_CASE("dialogues past server.max_dialogues are refused", "[e2e][dialogues]") {
  daemon_process server({"--set", "server.max_dialogues=2"});
  CHECK(http_call(server.port(), "POST", "/v1/dialogues", demo(1, "a"), admin_token).status == 201);
  CHECK(http_call(server.port(), "POST", "/v1/dialogues", demo(2, "b"), admin_token).status == 201);
  auto third = http_call(server.port(), "POST", "/v1/dialogues", demo(3, "c"), admin_token);
  CHECK(third.status == 409);
  CHECK(third.json_body()["error"]["message"].get<std::string>().find("server.max_dialogues") != std::string::npos);
}
