// Nothing acknowledged is lost: resume after a dropped socket, and after kill -9.
#include "helpers.hpp"
#include "support/raw_client.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace dynchat::testing;

TEST_CASE("a visitor who drops the socket resumes and gets what was missed, in order", "[e2e]") {
  daemon_process server;
  auto [agent_id, token] = create_agent(server.port(), "Ann");
  ws_client agent;
  login_agent(agent, server.port(), token);
  auto visitor = std::make_unique<ws_client>();
  auto welcome = start_live_chat(agent, *visitor, server.port());
  const std::string conv = welcome["conversation_id"], resume = welcome["resume_token"];
  visitor->send({{"type", "say"}, {"client_msg_id", "v1"}, {"text", "before the drop"}});
  auto ack = visitor->receive_type("ack");
  REQUIRE(ack);
  const auto last_seen = (*ack)["seq"].get<std::uint64_t>();
  visitor->drop();
  visitor.reset();

  // The agent keeps talking while the visitor is away.
  for (int i = 0; i < 3; ++i) {
    agent.send({{"type", "say"}, {"conversation_id", conv}, {"client_msg_id", "a" + std::to_string(i)},
                {"text", "while away " + std::to_string(i)}});
    REQUIRE(agent.receive_type("ack"));
  }

  ws_client again;
  auto rewelcome = visitor_hello(again, server.port(), ws_client::mode::msgpack,
                                 {{"resume_token", resume}, {"last_seq", last_seen}});
  CHECK(rewelcome["conversation_id"] == conv);
  CHECK(rewelcome["phase"] == "live");
  for (int i = 0; i < 3; ++i) {
    auto m = again.receive_type("message");
    REQUIRE(m);
    CHECK((*m)["seq"] == last_seen + 1 + i);
    CHECK((*m)["text"] == "while away " + std::to_string(i));
  }
  // Live again: a new agent message arrives right after the replay.
  agent.send({{"type", "say"}, {"conversation_id", conv}, {"client_msg_id", "a9"}, {"text", "welcome back"}});
  auto live = again.receive_type("message");
  REQUIRE(live);
  CHECK((*live)["seq"] == last_seen + 4);
}

TEST_CASE("resume replays at most chat.max_replay messages: the newest ones", "[e2e][limits]") {
  daemon_process server({"--set", "chat.max_replay=3"});
  auto visitor = std::make_unique<ws_client>();
  auto welcome = visitor_hello(*visitor, server.port());
  std::uint64_t last = 0;
  for (int i = 0; i < 6; ++i) {
    visitor->send({{"type", "say"}, {"client_msg_id", "m" + std::to_string(i)}, {"text", "t"}});
    auto ack = visitor->receive_type("ack");
    REQUIRE(ack);
    last = (*ack)["seq"];
  }
  visitor->close();
  ws_client again;
  visitor_hello(again, server.port(), ws_client::mode::json, {{"resume_token", welcome["resume_token"]}, {"last_seq", 0}});
  std::vector<std::uint64_t> replayed;
  while (auto m = again.receive_type("message", 1s)) replayed.push_back((*m)["seq"]);
  CHECK(replayed == std::vector<std::uint64_t>{last - 2, last - 1, last});
}

TEST_CASE("a wrong resume token is refused and the socket closed", "[e2e]") {
  daemon_process server;
  ws_client visitor;
  REQUIRE(visitor.connect(server.port(), "/v1/visitor") == 0);
  visitor.send({{"type", "hello"}, {"page_url", "x"}, {"resume_token", "00000000000000000000000000000000"}});
  expect_error(visitor, "invalid_resume_token");
  expect_close(visitor, 1008);
}

TEST_CASE("after kill -9 every acked message is there and the conversation resumes", "[e2e]") {
  auto dir = std::filesystem::temp_directory_path() / ("dynchat-kill9-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::string conv, resume;
  std::set<std::uint64_t> acked;
  {
    daemon_process server({}, dir);
    std::vector<std::unique_ptr<ws_client>> visitors;
    ws_client visitor;
    auto welcome = visitor_hello(visitor, server.port());
    conv = welcome["conversation_id"];
    resume = welcome["resume_token"];
    // Pipelined messages: some acked, some possibly in flight when the process dies.
    for (int i = 0; i < 30; ++i)
      visitor.send({{"type", "say"}, {"client_msg_id", "m" + std::to_string(i)}, {"text", "msg " + std::to_string(i)}});
    for (int i = 0; i < 20; ++i) {
      auto ack = visitor.receive_type("ack");
      REQUIRE(ack);
      acked.insert((*ack)["seq"].get<std::uint64_t>());
    }
    server.kill_hard();
  }
  daemon_process restarted({}, dir);
  ws_client visitor;
  auto welcome = visitor_hello(visitor, restarted.port(), ws_client::mode::json, {{"resume_token", resume}, {"last_seq", 0}});
  CHECK(welcome["conversation_id"] == conv);
  std::uint64_t expect = 1;
  std::set<std::uint64_t> replayed;
  while (auto m = visitor.receive_type("message", 1s)) {
    CHECK((*m)["seq"] == expect); // gapless, in order
    replayed.insert(expect++);
  }
  for (auto seq : acked) CHECK(replayed.count(seq) == 1);
  // Resending an acked message after the restart is recognised as a duplicate.
  visitor.send({{"type", "say"}, {"client_msg_id", "m0"}, {"text", "msg 0"}});
  auto ack = visitor.receive_type("ack");
  REQUIRE(ack);
  CHECK(acked.count((*ack)["seq"].get<std::uint64_t>()) == 1);
  restarted.stop();
  std::filesystem::remove_all(dir);
}

TEST_CASE("SIGTERM closes sockets with 1001 and exits cleanly", "[e2e]") {
  daemon_process server;
  ws_client visitor;
  visitor_hello(visitor, server.port());
  CHECK(server.stop() == 0);
  expect_close(visitor, 1001);
}

TEST_CASE("after kill -9 an agent finds its open chat and both sides go on talking", "[e2e]") {
  auto dir = std::filesystem::temp_directory_path() / ("dynchat-kill9-agent-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::string conv, resume, token;
  {
    daemon_process server({}, dir);
    std::string agent_id;
    std::tie(agent_id, token) = create_agent(server.port(), "Ann");
    ws_client agent, visitor;
    login_agent(agent, server.port(), token);
    auto welcome = start_live_chat(agent, visitor, server.port());
    conv = welcome["conversation_id"];
    resume = welcome["resume_token"];
    REQUIRE(visitor.receive_type("message")); // the join notice: the assignment is durable
    server.kill_hard();
  }
  daemon_process restarted({}, dir);
  ws_client agent;
  auto welcome = login_agent(agent, restarted.port(), token);
  REQUIRE(welcome["conversations"].size() == 1);
  CHECK(welcome["conversations"][0]["conversation_id"] == conv);
  // The agent writes first: its conversation's actor is started from the store.
  agent.send({{"type", "say"}, {"conversation_id", conv}, {"client_msg_id", "after"}, {"text", "we are back"}});
  REQUIRE(agent.receive_type("ack"));
  ws_client visitor;
  auto rewelcome = visitor_hello(visitor, restarted.port(), ws_client::mode::json, {{"resume_token", resume}, {"last_seq", 0}});
  CHECK(rewelcome["phase"] == "live");
  std::optional<json> last;
  while (auto m = visitor.receive_type("message", 1s)) last = m;
  REQUIRE(last);
  CHECK((*last)["text"] == "we are back");
  visitor.send({{"type", "say"}, {"client_msg_id", "v"}, {"text", "great"}});
  auto at_agent = agent.receive_type("message");
  while (at_agent && (*at_agent)["from"] != "visitor") at_agent = agent.receive_type("message");
  REQUIRE(at_agent);
  CHECK((*at_agent)["text"] == "great");
  restarted.stop();
  std::filesystem::remove_all(dir);
}

TEST_CASE("SIGTERM while sockets keep arriving: every session gets 1001, none starts after, shutdown is prompt", "[e2e]") {
  daemon_process server{{"--set", "chat.new_conversations_burst=10000"}, {}, launch_limits{0, true}};
  const auto request = upgrade_request("/v1/visitor");
  const auto hello = client_frame(true, 0x1, R"({"type":"hello","page_url":"x"})");
  // Served before the signal.
  std::vector<raw_client> served(20);
  for (auto& c : served) {
    REQUIRE(c.connect(server.port()));
    c.send(request + hello);
    REQUIRE(c.read_http(3s));
  }
  // Accepted, their upgrade requests one byte short: they finish just after the signal,
  // after the server has taken its list of sockets to close.
  std::vector<raw_client> late(100);
  for (auto& c : late) {
    REQUIRE(c.connect(server.port()));
    c.send(request.substr(0, request.size() - 1));
  }
  std::this_thread::sleep_for(300ms);
  const auto signalled = std::chrono::steady_clock::now();
  auto stopped = std::async(std::launch::async, [&] { return server.stop(); }); // SIGTERM, then the exit
  std::this_thread::sleep_for(30ms);
  for (auto& c : late) c.send("\n" + hello);
  // Read what the server says while it shuts down, answering close frames as browsers do.
  std::vector<raw_client*> all;
  for (auto& c : served) all.push_back(&c);
  for (auto& c : late) all.push_back(&c);
  std::vector<bool> open(all.size(), true);
  while (stopped.wait_for(1ms) != std::future_status::ready)
    for (std::size_t i = 0; i < all.size(); ++i)
      if (open[i]) {
        open[i] = all[i]->collect();
        all[i]->answer_close();
      }
  const int status = stopped.get();
  const auto took = std::chrono::steady_clock::now() - signalled;
  INFO(server.log());
  CHECK(status == 0);
  CHECK(took < 5s); // shutdown_timeout is 10 s: it ended once every socket had closed
  // Every served session was told the server is going away.
  auto close_code_of = [](raw_client& c) {
    while (auto f = c.read_frame(10ms))
      if (f->opcode == 0x8 && f->payload.size() >= 2)
        return static_cast<unsigned char>(f->payload[0]) << 8 | static_cast<unsigned char>(f->payload[1]);
    return 0;
  };
  for (auto& c : served) CHECK(close_code_of(c) == 1001);
  // None of the late ones became a session: refused with 503, or gone with the listener.
  int refused = 0;
  for (auto& c : late) {
    auto answer = c.read_http(10ms);
    if (!answer) continue;
    INFO("late upgrade answered " << answer->status);
    CHECK(answer->status == 503);
    refused += answer->status == 503;
  }
  CHECK(refused > 0);
}

// A bounded crash loop: pipelined talk in both encodings, kill -9 while messages are in
// flight, restart, resend what was not acked (same client_msg_ids), again. At the end
// every acked message is stored exactly once, in a gapless seq, and nothing sent twice
// was stored twice.
TEST_CASE("kill -9 cycles under pipelined load lose, duplicate and reorder nothing", "[e2e][durability]") {
  const auto dir = std::filesystem::temp_directory_path() / ("dynchat-crashloop-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::vector<std::string> args{"--set", "websocket.rate_per_second=10000", "--set", "websocket.rate_burst=10000"};
  struct talker {
    ws_client::mode mode;
    std::string resume;  // visitors
    std::string conv;
    std::map<std::string, std::uint64_t> acked; // client_msg_id -> seq
    std::vector<std::string> unacked;           // sent, not acked: resent after a restart
    int next = 0;
  };
  std::vector<talker> visitors{{ws_client::mode::json, {}, {}, {}, {}, 0}, {ws_client::mode::msgpack, {}, {}, {}, {}, 0}};
  talker agent_side{ws_client::mode::msgpack, {}, {}, {}, {}, 0};
  std::string agent_token;

  // Sends what is unacked, then `fresh` new messages; collects acks until `want` have come.
  auto talk = [](ws_client& c, talker& t, bool agent, int fresh, int want) {
    auto frame = [&](const std::string& id) {
      json f{{"type", "say"}, {"client_msg_id", id}, {"text", "message " + id}};
      if (agent) f["conversation_id"] = t.conv;
      return f;
    };
    for (auto& id : t.unacked) c.send(frame(id));
    for (int i = 0; i < fresh; ++i) {
      auto id = (agent ? "a" : "v") + std::to_string(t.next++);
      t.unacked.push_back(id);
      c.send(frame(id));
    }
    for (int got = 0; got < want;) {
      auto ack = c.receive_type("ack", 5s);
      if (!ack) break;
      const std::string id = (*ack)["client_msg_id"];
      auto [it, fresh_ack] = t.acked.emplace(id, (*ack)["seq"].get<std::uint64_t>());
      CHECK(it->second == (*ack)["seq"].get<std::uint64_t>()); // a resend is acked with the first seq
      t.unacked.erase(std::remove(t.unacked.begin(), t.unacked.end(), id), t.unacked.end());
      got += fresh_ack;
    }
  };

  for (int cycle = 0; cycle <= 3; ++cycle) {
    daemon_process server(args, dir);
    if (cycle == 0) agent_token = create_agent(server.port(), "Ann", 5).second;
    ws_client agent;
    REQUIRE(agent.connect(server.port(), "/v1/agent", agent_side.mode) == 0);
    agent.send({{"type", "hello"}, {"token", agent_token}});
    REQUIRE(agent.receive_type("welcome"));
    agent.send({{"type", "status"}, {"status", "available"}});
    std::vector<std::unique_ptr<ws_client>> sockets;
    for (auto& v : visitors) {
      sockets.push_back(std::make_unique<ws_client>());
      json extra = v.resume.empty() ? json::object() : json{{"resume_token", v.resume}};
      auto w = visitor_hello(*sockets.back(), server.port(), v.mode, extra);
      v.resume = w["resume_token"];
      v.conv = w["conversation_id"];
    }
    if (cycle == 0) { // the agent takes the first visitor's chat and talks in it too
      auto offer = agent.receive_type("offer");
      REQUIRE(offer);
      agent_side.conv = (*offer)["conversation_id"];
      agent.send({{"type", "accept"}, {"conversation_id", agent_side.conv}});
      REQUIRE(agent.receive_type("chat"));
    }
    const bool last = cycle == 3;
    for (std::size_t i = 0; i < visitors.size(); ++i)
      talk(*sockets[i], visitors[i], false, last ? 0 : 40, last ? static_cast<int>(visitors[i].unacked.size()) : 15);
    talk(agent, agent_side, true, last ? 0 : 20, last ? static_cast<int>(agent_side.unacked.size()) : 8);
    if (!last) {
      server.kill_hard(); // with messages still in flight
      continue;
    }
    for (auto& v : visitors) CHECK(v.unacked.empty());
    CHECK(agent_side.unacked.empty());
    // Over REST: gapless, each client message exactly once, at the seq its ack named.
    std::vector<talker*> all{&visitors[0], &visitors[1], &agent_side};
    for (auto& v : visitors) {
      auto body = http_call(server.port(), "GET", "/v1/conversations/" + v.conv + "?limit=10000", {}, admin_token).json_body();
      std::map<std::string, int> copies;
      std::uint64_t expect = 1;
      for (auto& m : body["messages"]) {
        CHECK(m["seq"] == expect++);
        if (m.contains("client_msg_id")) copies[m["client_msg_id"].get<std::string>()]++;
      }
      for (auto* t : all) {
        if (t->conv != v.conv) continue;
        for (auto& [id, seq] : t->acked) {
          INFO(id);
          CHECK(copies[id] == 1);
          CHECK(body["messages"][seq - 1]["client_msg_id"] == id);
        }
      }
      for (auto& [id, n] : copies) CHECK(n == 1);
    }
  }
  std::filesystem::remove_all(dir);
}
