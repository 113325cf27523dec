// What a restart must not change: the order of the line, what visitors were told, the
// deadlines of open conversations, what an agent's console has not yet seen.
#include "helpers.hpp"

#include <set>
#include <thread>

using namespace dynchat::testing;

namespace {

json conversation(std::uint16_t port, const std::string& id) {
  return http_call(port, "GET", "/v1/conversations/" + id, {}, admin_token).json_body();
}

int line_notices(const json& conv) {
  int n = 0;
  for (auto& m : conv["messages"])
    n += m["from"] == "system" && m["text"].get<std::string>().find("in line") != std::string::npos;
  return n;
}

// Polls until the conversation has `status`, at most `limit`.
bool reaches(std::uint16_t port, const std::string& id, const std::string& status, std::chrono::milliseconds limit) {
  for (auto until = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(100ms))
    if (conversation(port, id)["status"] == status) return true;
  return false;
}

} // namespace

TEST_CASE("after kill -9 the line keeps its order and nobody is told their place again", "[e2e][restart]") {
  const auto dir = fresh_dir("fifo");
  std::vector<std::string> convs, tokens;
  std::string agent_token;
  {
    daemon_process server({}, dir);
    agent_token = create_agent(server.port(), "Later", 1).second; // not logged in: everyone waits
    for (int i = 0; i < 4; ++i) {
      ws_client v;
      auto w = visitor_hello(v, server.port());
      convs.push_back(w["conversation_id"]);
      tokens.push_back(w["resume_token"]);
      auto notice = v.receive_type("message");
      REQUIRE(notice);
      CHECK((*notice)["text"].get<std::string>().find("number " + std::to_string(i + 1) + " in line") != std::string::npos);
      v.close(); // they come back after the restart
    }
    server.kill_hard();
  }
  for (int restart = 0; restart < 3; ++restart) {
    daemon_process server({}, dir);
    // They come back in reverse order.
    std::vector<std::unique_ptr<ws_client>> back;
    for (int i = 3; i >= 0; --i) {
      back.push_back(std::make_unique<ws_client>());
      auto w = visitor_hello(*back.back(), server.port(), ws_client::mode::json, {{"resume_token", tokens[i]}});
      CHECK(w["phase"] == "waiting");
    }
    if (restart < 2) {
      server.kill_hard();
      continue;
    }
    for (auto& id : convs) CHECK(line_notices(conversation(server.port(), id)) == 1);
    // The agent arrives: offers come in the original order.
    ws_client agent;
    login_agent(agent, server.port(), agent_token);
    for (int i = 0; i < 4; ++i) {
      auto offer = agent.receive_type("offer");
      REQUIRE(offer);
      CHECK((*offer)["conversation_id"] == convs[i]);
      agent.send({{"type", "accept"}, {"conversation_id", convs[i]}});
      REQUIRE(agent.receive_type("chat"));
      agent.send({{"type", "end"}, {"conversation_id", convs[i]}});
      REQUIRE(agent.receive_type("ended"));
    }
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("after kill -9 open conversations end on time though nobody comes back", "[e2e][restart]") {
  const auto dir = fresh_dir("timers");
  std::string live, waiting, token;
  {
    daemon_process server({}, dir);
    token = create_agent(server.port(), "Ann", 1).second;
    ws_client agent;
    login_agent(agent, server.port(), token);
    auto v1 = std::make_unique<ws_client>();
    live = start_live_chat(agent, *v1, server.port())["conversation_id"];
    auto v2 = std::make_unique<ws_client>();
    waiting = visitor_hello(*v2, server.port())["conversation_id"]; // Ann is full: it waits
    REQUIRE(v2->receive_type("message"));
    v1->drop();
    v2->drop();
    // Both visitors left just before the crash; their leaving is stored.
    for (int i = 0; i < 50 && conversation(server.port(), live)["status"] == "live"; ++i) {
      auto m = http_call(server.port(), "GET", "/metrics").body;
      if (m.find("dynchat_open_sockets{kind=\"visitor\"} 0") != std::string::npos) break;
      std::this_thread::sleep_for(20ms);
    }
    std::this_thread::sleep_for(300ms);
    server.kill_hard();
  }
  std::this_thread::sleep_for(2s);
  // The visitors left about 2.3 s ago: with a 3 s grace counted from then, both end within
  // a second of the restart; counted from the restart, they would take 3 s.
  daemon_process restarted({"--set", "chat.visitor_grace=3"}, dir);
  const auto started = std::chrono::steady_clock::now();
  CHECK(reaches(restarted.port(), live, "ended", 5s));
  CHECK(reaches(restarted.port(), waiting, "ended", 5s));
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  CHECK(conversation(restarted.port(), live)["end_reason"] == "visitor_left");
  // Ann's seat is free again: /v1/routing counts no active chat, her console shows none.
  ws_client agent;
  CHECK(login_agent(agent, restarted.port(), token)["conversations"].empty());
  auto r = http_call(restarted.port(), "GET", "/v1/routing", {}, admin_token).json_body();
  CHECK(r["order"][0]["active"] == 0);
  CHECK(r["queue"] == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("after kill -9 a silent live chat ends at its idle deadline, counted from its last message", "[e2e][restart]") {
  const auto dir = fresh_dir("idle");
  std::string conv, token, resume;
  {
    daemon_process server({}, dir);
    token = create_agent(server.port(), "Ann").second;
    ws_client agent, visitor;
    login_agent(agent, server.port(), token);
    auto w = start_live_chat(agent, visitor, server.port());
    conv = w["conversation_id"];
    resume = w["resume_token"];
    REQUIRE(visitor.receive_type("message")); // the join notice is durable
    server.kill_hard();
  }
  std::this_thread::sleep_for(3s);
  daemon_process restarted({"--set", "chat.chat_idle_timeout=5"}, dir);
  ws_client agent;
  login_agent(agent, restarted.port(), token);
  // Silent for 3 s before the restart: it ends about 2 s after it, not 5.
  auto ended = agent.receive_type("ended", 3500ms);
  REQUIRE(ended);
  CHECK((*ended)["reason"] == "inactive");
  std::filesystem::remove_all(dir);
}

TEST_CASE("an agent's console catches up: last_seq per chat in hello, the missed messages in order, then live",
          "[e2e][restart]") {
  daemon_process server;
  auto [id, token] = create_agent(server.port(), "Ann");
  auto agent = std::make_unique<ws_client>();
  login_agent(*agent, server.port(), token);
  ws_client visitor;
  const std::string conv = start_live_chat(*agent, visitor, server.port())["conversation_id"];
  visitor.send({{"type", "say"}, {"client_msg_id", "v0"}, {"text", "seen"}});
  REQUIRE(visitor.receive_type("ack"));
  auto seen = agent->receive_type("message");
  while (seen && (*seen)["from"] != "visitor") seen = agent->receive_type("message");
  REQUIRE(seen);
  const auto last_seen = (*seen)["seq"].get<std::uint64_t>();
  agent->drop();
  agent.reset();
  for (int i = 1; i <= 3; ++i) {
    visitor.send({{"type", "say"}, {"client_msg_id", "v" + std::to_string(i)}, {"text", "missed " + std::to_string(i)}});
    REQUIRE(visitor.receive_type("ack"));
  }
  ws_client back;
  REQUIRE(back.connect(server.port(), "/v1/agent", ws_client::mode::msgpack) == 0);
  back.send({{"type", "hello"}, {"token", token}, {"last_seq", {{conv, last_seen}}}});
  auto welcome = back.receive_type("welcome");
  REQUIRE(welcome);
  REQUIRE((*welcome)["conversations"].size() == 1);
  CHECK((*welcome)["conversations"][0]["last_seq"] == last_seen + 3);
  for (int i = 1; i <= 3; ++i) {
    auto m = back.receive_type("message");
    REQUIRE(m);
    CHECK((*m)["seq"] == last_seen + i);
    CHECK((*m)["text"] == "missed " + std::to_string(i));
  }
  visitor.send({{"type", "say"}, {"client_msg_id", "v4"}, {"text", "live again"}});
  auto live = back.receive_type("message");
  REQUIRE(live);
  CHECK((*live)["seq"] == last_seen + 4);
  // A console that says nothing gets the chat's newest page instead.
  ws_client fresh;
  REQUIRE(fresh.connect(server.port(), "/v1/agent") == 0);
  fresh.send({{"type", "hello"}, {"token", token}});
  REQUIRE(fresh.receive_type("welcome"));
  auto chat = fresh.receive_type("chat");
  REQUIRE(chat);
  CHECK((*chat)["conversation_id"] == conv);
  CHECK((*chat)["has_more"] == false);
  CHECK((*chat)["transcript"].back()["seq"] == last_seen + 4);
}

TEST_CASE("a graceful restart does not count as the visitor leaving: the grace starts again when the server is back",
          "[e2e][restart]") {
  const auto dir = fresh_dir("graceful");
  std::string conv, resume, forgotten;
  {
    daemon_process server({"--set", "chat.visitor_grace=3"}, dir);
    ws_client visitor, other;
    auto w = visitor_hello(visitor, server.port());
    conv = w["conversation_id"];
    resume = w["resume_token"];
    forgotten = visitor_hello(other, server.port())["conversation_id"];
    REQUIRE(server.stop() == 0); // SIGTERM: both sockets get 1001 from the server, not from the visitors
  }
  std::this_thread::sleep_for(2s);
  daemon_process restarted({"--set", "chat.visitor_grace=3"}, dir);
  std::this_thread::sleep_for(2s);
  // 4 s after the shutdown, past a grace counted from it, but 2 s after the restart.
  ws_client back;
  auto again = visitor_hello(back, restarted.port(), ws_client::mode::json, {{"resume_token", resume}});
  CHECK(again["conversation_id"] == conv);
  CHECK(again["phase"] != "ended");
  // The visitor who never comes back still ends, one grace after the restart.
  CHECK(reaches(restarted.port(), forgotten, "ended", 4s));
  CHECK(conversation(restarted.port(), conv)["status"] != "ended");
  std::filesystem::remove_all(dir);
}
