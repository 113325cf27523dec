// Nothing acknowledged is lost: resume after a dropped socket, and after kill -9.
#include "helpers.hpp"

#include <atomic>
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
  daemon_process server{{"--set", "chat.new_conversations_burst=1000"}};
  struct outcome {
    bool welcomed = false;
    close_info closed;
  };
  std::mutex mutex;
  std::vector<std::unique_ptr<ws_client>> clients;
  std::vector<outcome> outcomes;
  std::atomic<bool> keep_going{true};
  auto arrive = [&] {
    while (keep_going) {
      auto c = std::make_unique<ws_client>();
      if (c->connect(server.port(), "/v1/visitor") != 0) {
        std::this_thread::sleep_for(5ms);
        continue;
      }
      c->send({{"type", "hello"}, {"page_url", "https://example.com"}});
      std::lock_guard lock{mutex};
      clients.push_back(std::move(c));
      if (clients.size() >= 60) return;
    }
  };
  std::thread t1{arrive}, t2{arrive};
  std::this_thread::sleep_for(300ms);
  const auto signalled = std::chrono::steady_clock::now();
  const int status = server.stop(); // SIGTERM, then waits for the exit
  const auto took = std::chrono::steady_clock::now() - signalled;
  keep_going = false;
  t1.join();
  t2.join();
  CHECK(status == 0);
  CHECK(took < 5s); // shutdown_timeout is 10 s: it ended when the sockets had closed
  int welcomed = 0;
  for (auto& c : clients) {
    auto w = c->receive_type("welcome", 50ms);
    auto closed = c->wait_closed(2s);
    INFO("welcomed " << bool(w) << ", close code " << closed.code);
    CHECK(closed.closed);
    if (w) {
      ++welcomed;
      CHECK(closed.code == 1001); // every served session was told the server is going away
    } else {
      CHECK((closed.code == 1001 || closed.code == 0)); // upgraded just as it stopped: closed, never served
    }
  }
  CHECK(welcomed > 0);
}
