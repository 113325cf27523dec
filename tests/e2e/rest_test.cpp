#include "helpers.hpp"

using namespace dynchat::testing;

TEST_CASE("agents can be created, listed, updated and deleted, and the token is returned once", "[e2e][rest]") {
  daemon_process server;
  auto created = http_call(server.port(), "POST", "/v1/agents", R"({"name":"Ann","email":"ann@example.com","max_chats":3})", admin_token);
  REQUIRE(created.status == 201);
  auto a = created.json_body();
  CHECK(a["token"].get<std::string>().size() == 64);
  const std::string id = a["id"];
  auto got = http_call(server.port(), "GET", "/v1/agents/" + id, {}, admin_token).json_body();
  CHECK(got["name"] == "Ann");
  CHECK(got.count("token") == 0);
  CHECK(got["max_chats"] == 3);
  auto list = http_call(server.port(), "GET", "/v1/agents", {}, admin_token).json_body();
  REQUIRE(list["agents"].size() == 1);
  CHECK(list["agents"][0]["available"] == false);
  auto updated = http_call(server.port(), "PUT", "/v1/agents/" + id, R"({"max_chats":10})", admin_token);
  CHECK(updated.status == 200);
  CHECK(updated.json_body()["max_chats"] == 10);
  CHECK(http_call(server.port(), "PUT", "/v1/agents/" + id, R"({"max_chats":11})", admin_token).status == 400);
  CHECK(http_call(server.port(), "POST", "/v1/agents", R"({"email":"x"})", admin_token).status == 400);
  CHECK(http_call(server.port(), "POST", "/v1/agents", R"(not json)", admin_token).status == 400);
  CHECK(http_call(server.port(), "DELETE", "/v1/agents/" + id, {}, admin_token).status == 204);
  CHECK(http_call(server.port(), "GET", "/v1/agents/" + id, {}, admin_token).status == 404);
}

TEST_CASE("a REST body over websocket.max_http_body gets 413 and the server keeps serving", "[e2e][rest][limits]") {
  daemon_process server({"--set", "websocket.max_http_body=1024"});
  auto big = json{{"name", std::string(4000, 'n')}}.dump();
  auto res = http_call(server.port(), "POST", "/v1/agents", big, admin_token);
  CHECK(res.status == 413);
  CHECK(res.json_body()["error"]["code"] == "too_large");
  CHECK(http_call(server.port(), "POST", "/v1/agents", R"({"name":"small"})", admin_token).status == 201);
}

TEST_CASE("conversations: newest first, filtered and paged", "[e2e][rest]") {
  daemon_process server;
  std::vector<std::string> ids;
  std::vector<std::unique_ptr<ws_client>> visitors;
  for (int i = 0; i < 5; ++i) {
    visitors.push_back(std::make_unique<ws_client>());
    ids.push_back(visitor_hello(*visitors.back(), server.port())["conversation_id"]);
  }
  auto page1 = http_call(server.port(), "GET", "/v1/conversations?limit=3", {}, admin_token).json_body();
  REQUIRE(page1["conversations"].size() == 3);
  CHECK(page1["conversations"][0]["id"] == ids[4]);
  CHECK(page1["conversations"][0]["status"] == "waiting");
  std::string cursor = page1["next_cursor"];
  auto page2 = http_call(server.port(), "GET", "/v1/conversations?limit=3&cursor=" + cursor, {}, admin_token).json_body();
  REQUIRE(page2["conversations"].size() == 2);
  CHECK(page2["conversations"][1]["id"] == ids[0]);
  CHECK(page2["next_cursor"].is_null());
  // Filters and paging together: every page is complete and nothing is skipped.
  std::vector<std::string> seen;
  std::string next;
  do {
    auto page = http_call(server.port(), "GET", "/v1/conversations?status=waiting&limit=2" + (next.empty() ? "" : "&cursor=" + next),
                          {}, admin_token).json_body();
    for (auto& c : page["conversations"]) seen.push_back(c["id"]);
    next = page["next_cursor"].is_null() ? "" : page["next_cursor"].get<std::string>();
  } while (!next.empty());
  CHECK(seen == std::vector<std::string>{ids.rbegin(), ids.rend()});
  auto ended = http_call(server.port(), "GET", "/v1/conversations?status=ended", {}, admin_token).json_body();
  CHECK(ended["conversations"].empty());
  CHECK(http_call(server.port(), "GET", "/v1/conversations?status=nope", {}, admin_token).status == 400);
  CHECK(http_call(server.port(), "GET", "/v1/conversations/ffffffffffffffffffffffffffffffff", {}, admin_token).status == 404);
  CHECK(http_call(server.port(), "GET", "/v1/nothing", {}, admin_token).status == 404);
}

TEST_CASE("after the visitor asked again and another agent took it, the first agent still reads it, and each "
          "agent's client_msg_ids are its own",
          "[e2e][rest]") {
  daemon_process server;
  auto [ann_id, ann_token] = create_agent(server.port(), "Ann");
  auto [bob_id, bob_token] = create_agent(server.port(), "Bob");
  ws_client ann, bob, visitor;
  login_agent(ann, server.port(), ann_token);
  const std::string conv = start_live_chat(ann, visitor, server.port())["conversation_id"];
  // Agents' consoles may count their ids from 1: Ann's first and Bob's first are different messages.
  ann.send({{"type", "say"}, {"conversation_id", conv}, {"client_msg_id", 1}, {"text", "Ann here"}});
  auto ann_ack = ann.receive_type("ack");
  REQUIRE(ann_ack);
  ann.send({{"type", "end"}, {"conversation_id", conv}});
  REQUIRE(visitor.receive_type("ended"));
  ann.send({{"type", "status"}, {"status", "away"}});
  REQUIRE(ann.receive_type("status"));
  // The visitor writes into the ended chat: it is handed over again, and only Bob is there.
  login_agent(bob, server.port(), bob_token);
  visitor.send({{"type", "say"}, {"client_msg_id", "again"}, {"text", "one more question"}});
  auto offer = bob.receive_type("offer");
  REQUIRE(offer);
  REQUIRE((*offer)["conversation_id"] == conv);
  bob.send({{"type", "accept"}, {"conversation_id", conv}});
  REQUIRE(bob.receive_type("chat"));
  // The join notice is stored with the record that names Bob: once it arrives, both are durable.
  auto joined = visitor.receive_type("message");
  while (joined && (*joined)["text"] != "Bob joined the chat.") joined = visitor.receive_type("message");
  REQUIRE(joined);
  bob.send({{"type", "say"}, {"conversation_id", conv}, {"client_msg_id", 1}, {"text", "Bob here"}});
  auto bob_ack = bob.receive_type("ack");
  REQUIRE(bob_ack);
  CHECK((*bob_ack)["seq"] != (*ann_ack)["seq"]);
  auto bobs = visitor.receive_type("message");
  while (bobs && (*bobs)["text"] != "Bob here") bobs = visitor.receive_type("message");
  CHECK(bobs);
  for (const auto& token : {ann_token, bob_token}) {
    CHECK(http_call(server.port(), "GET", "/v1/conversations/" + conv, {}, token).status == 200);
    auto list = http_call(server.port(), "GET", "/v1/conversations", {}, token);
    REQUIRE(list.status == 200);
    CHECK(list.body.find(conv) != std::string::npos);
  }
  auto record = http_call(server.port(), "GET", "/v1/conversations/" + conv, {}, admin_token).json_body();
  CHECK(record["agent_id"] == bob_id);
}
