// End to end: a real dynchatd, real websockets on loopback.
#include <catch2/catch.hpp>

#include <map>

#include "helpers.hpp"

using namespace dynchat::testing;


TEST_CASE("a visitor and an agent chat, in both encodings", "[e2e]") {
  auto m = GENERATE(ws_client::mode::json, ws_client::mode::msgpack);
  daemon_process server;
  auto [agent_id, token] = create_agent(server.port(), "Ann");
  ws_client agent;
  auto agent_welcome = login_agent(agent, server.port(), token, m);
  CHECK(agent_welcome["agent_id"] == agent_id);
  CHECK(agent_welcome["name"] == "Ann");
  CHECK(agent_welcome["max_chats"] == 5);

  ws_client visitor;
  auto welcome = visitor_hello(visitor, server.port(), m);
  const std::string conv = welcome["conversation_id"];
  CHECK(welcome["resume_token"].get<std::string>().size() == 32);
  CHECK(welcome["visitor_id"].get<std::string>().size() == 32);

  auto offer = agent.receive_type("offer");
  REQUIRE(offer);
  CHECK((*offer)["conversation_id"] == conv);
  CHECK((*offer)["visitor"]["page_url"] == "https://example.com/pricing");
  CHECK((*offer)["expires_in"].get<int>() > 90);
  agent.send({{"type", "accept"}, {"conversation_id", conv}});
  auto chat = agent.receive_type("chat");
  REQUIRE(chat);
  CHECK((*chat)["conversation_id"] == conv);

  auto joined = visitor.receive_type("message");
  REQUIRE(joined);
  CHECK((*joined)["from"] == "system");
  CHECK((*joined)["text"] == "Ann joined the chat.");
  CHECK((*joined)["agent"] == "Ann");
  const auto joined_seq = (*joined)["seq"].get<std::uint64_t>();

  visitor.send({{"type", "say"}, {"client_msg_id", "v-1"}, {"text", "Hi, what does it cost?"}});
  auto ack = visitor.receive_type("ack");
  REQUIRE(ack);
  CHECK((*ack)["client_msg_id"] == "v-1");
  CHECK((*ack)["seq"] == joined_seq + 1);
  auto at_agent = agent.receive_type("message");
  REQUIRE(at_agent);
  // The agent first sees the join notice, then the visitor's message.
  if ((*at_agent)["from"] == "system") at_agent = agent.receive_type("message");
  REQUIRE(at_agent);
  CHECK((*at_agent)["from"] == "visitor");
  CHECK((*at_agent)["text"] == "Hi, what does it cost?");
  CHECK((*at_agent)["seq"] == joined_seq + 1);

  visitor.send({{"type", "typing"}});
  auto typing = agent.receive_type("typing");
  REQUIRE(typing);
  CHECK((*typing)["from"] == "visitor");
  agent.send({{"type", "typing"}, {"conversation_id", conv}});
  REQUIRE(visitor.receive_type("typing"));

  agent.send({{"type", "say"}, {"conversation_id", conv}, {"client_msg_id", "a-1"}, {"text", "It is free."}});
  auto agent_ack = agent.receive_type("ack");
  REQUIRE(agent_ack);
  CHECK((*agent_ack)["seq"] == joined_seq + 2);
  auto reply = visitor.receive_type("message");
  REQUIRE(reply);
  CHECK((*reply)["from"] == "agent");
  CHECK((*reply)["agent"] == "Ann");
  CHECK((*reply)["text"] == "It is free.");

  agent.send({{"type", "end"}, {"conversation_id", conv}});
  auto ended = visitor.receive_type("ended");
  REQUIRE(ended);
  CHECK((*ended)["reason"] == "agent_ended");
  REQUIRE(agent.receive_type("ended"));

  auto transcript = http_call(server.port(), "GET", "/v1/conversations/" + conv, {}, admin_token);
  REQUIRE(transcript.status == 200);
  auto body = transcript.json_body();
  CHECK(body["status"] == "ended");
  CHECK(body["agent_id"] == agent_id);
  auto& msgs = body["messages"];
  REQUIRE(msgs.size() >= 4);
  for (std::size_t i = 0; i < msgs.size(); ++i) CHECK(msgs[i]["seq"] == i + 1); // gapless from 1
  auto text = http_call(server.port(), "GET", "/v1/conversations/" + conv + "/transcript.txt", {}, admin_token);
  CHECK(text.status == 200);
  CHECK(text.body.find("Visitor: Hi, what does it cost?") != std::string::npos);
  CHECK(text.body.find("Ann: It is free.") != std::string::npos);
}

TEST_CASE("a repeated client_msg_id is acked again with the same seq and stored once", "[e2e]") {
  daemon_process server;
  ws_client visitor;
  auto welcome = visitor_hello(visitor, server.port(), ws_client::mode::json);
  const std::string conv = welcome["conversation_id"];
  visitor.send({{"type", "say"}, {"client_msg_id", "same"}, {"text", "once"}});
  visitor.send({{"type", "say"}, {"client_msg_id", "same"}, {"text", "once"}}); // while the first is in flight
  auto a1 = visitor.receive_type("ack");
  auto a2 = visitor.receive_type("ack");
  REQUIRE(a1);
  REQUIRE(a2);
  CHECK((*a1)["seq"] == (*a2)["seq"]);
  visitor.send({{"type", "say"}, {"client_msg_id", "same"}, {"text", "once"}}); // after the commit
  auto a3 = visitor.receive_type("ack");
  REQUIRE(a3);
  CHECK((*a3)["seq"] == (*a1)["seq"]);
  auto body = http_call(server.port(), "GET", "/v1/conversations/" + conv, {}, admin_token).json_body();
  int copies = 0;
  for (auto& m : body["messages"]) copies += m["text"] == "once";
  CHECK(copies == 1);
}

TEST_CASE("with no agent available the visitor waits in a FIFO queue and is told so", "[e2e]") {
  daemon_process server;
  auto [agent_id, token] = create_agent(server.port(), "Solo", 1);
  ws_client first, second;
  auto w1 = visitor_hello(first, server.port(), ws_client::mode::json);
  auto notice = first.receive_type("message");
  REQUIRE(notice);
  CHECK((*notice)["from"] == "system");
  CHECK((*notice)["text"].get<std::string>().find("number 1 in line") != std::string::npos);
  auto w2 = visitor_hello(second, server.port(), ws_client::mode::json);
  auto notice2 = second.receive_type("message");
  REQUIRE(notice2);
  CHECK((*notice2)["text"].get<std::string>().find("number 2 in line") != std::string::npos);

  // The agent comes online: the oldest conversation is offered first, and only one (capacity 1).
  ws_client agent;
  login_agent(agent, server.port(), token, ws_client::mode::json);
  auto offer = agent.receive_type("offer");
  REQUIRE(offer);
  CHECK((*offer)["conversation_id"] == w1["conversation_id"]);
  agent.send({{"type", "accept"}, {"conversation_id", w1["conversation_id"]}});
  REQUIRE(agent.receive_type("chat"));
  CHECK_FALSE(agent.receive_type("offer", 500ms));
  // Ending the first chat frees capacity: the second is offered.
  agent.send({{"type", "end"}, {"conversation_id", w1["conversation_id"]}});
  auto offer2 = agent.receive_type("offer");
  REQUIRE(offer2);
  CHECK((*offer2)["conversation_id"] == w2["conversation_id"]);
}

TEST_CASE("offers go round robin and a missed offer moves to the next agent", "[e2e]") {
  daemon_process server({"--set", "chat.offer_timeout=1"});
  auto [id_a, token_a] = create_agent(server.port(), "A");
  auto [id_b, token_b] = create_agent(server.port(), "B");
  ws_client a, b;
  login_agent(a, server.port(), token_a, ws_client::mode::json);
  login_agent(b, server.port(), token_b, ws_client::mode::json);
  ws_client v1, v2;
  auto c1 = visitor_hello(v1, server.port(), ws_client::mode::json)["conversation_id"];
  auto offer_a = a.receive_type("offer");
  REQUIRE(offer_a);
  CHECK((*offer_a)["conversation_id"] == c1);
  a.send({{"type", "accept"}, {"conversation_id", c1}});
  REQUIRE(a.receive_type("chat"));
  auto c2 = visitor_hello(v2, server.port(), ws_client::mode::json)["conversation_id"];
  auto offer_b = b.receive_type("offer");
  REQUIRE(offer_b); // strict order: A took the last, so B is next
  CHECK((*offer_b)["conversation_id"] == c2);
  // B lets it lapse: withdrawn as missed, B goes away, and A gets it.
  auto withdrawn = b.receive_type("offer_withdrawn", 4s);
  REQUIRE(withdrawn);
  CHECK((*withdrawn)["reason"] == "missed");
  auto away = b.receive_type("status");
  REQUIRE(away);
  CHECK((*away)["status"] == "away");
  auto offer_a2 = a.receive_type("offer", 4s);
  REQUIRE(offer_a2);
  CHECK((*offer_a2)["conversation_id"] == c2);
  auto metrics = http_call(server.port(), "GET", "/metrics");
  CHECK(metrics.body.find("dynchat_offers_missed_total 1") != std::string::npos);
}

TEST_CASE("an agent who goes offline or disconnects keeps its open chats", "[e2e]") {
  daemon_process server;
  auto [agent_id, token] = create_agent(server.port(), "Ann");
  auto agent = std::make_unique<ws_client>();
  login_agent(*agent, server.port(), token);
  ws_client visitor;
  auto conv = start_live_chat(*agent, visitor, server.port())["conversation_id"];
  agent->send({{"type", "status"}, {"status", "offline"}});
  REQUIRE(agent->receive_type("status"));
  agent->close();
  agent = std::make_unique<ws_client>();
  REQUIRE(agent->connect(server.port(), "/v1/agent") == 0);
  agent->send({{"type", "hello"}, {"token", token}});
  auto welcome = agent->receive_type("welcome");
  REQUIRE(welcome);
  CHECK((*welcome)["status"] == "offline");
  REQUIRE((*welcome)["conversations"].size() == 1);
  CHECK((*welcome)["conversations"][0]["conversation_id"] == conv);
  agent->send({{"type", "say"}, {"conversation_id", conv}, {"client_msg_id", "back"}, {"text", "still here"}});
  REQUIRE(agent->receive_type("ack"));
  auto m = visitor.receive_type("message");
  while (m && (*m)["from"] != "agent") m = visitor.receive_type("message");
  REQUIRE(m);
  CHECK((*m)["text"] == "still here");
}

TEST_CASE("an agent's message is acked on the socket that sent it and delivered to its other sockets", "[e2e]") {
  daemon_process server;
  auto [agent_id, token] = create_agent(server.port(), "Ann");
  ws_client writer_tab, other_tab, visitor;
  login_agent(writer_tab, server.port(), token);
  login_agent(other_tab, server.port(), token);
  const std::string conv = start_live_chat(writer_tab, visitor, server.port())["conversation_id"];
  REQUIRE(other_tab.receive_type("chat"));

  writer_tab.send({{"type", "say"}, {"conversation_id", conv}, {"client_msg_id", "a-1"}, {"text", "from tab one"}});
  auto ack = writer_tab.receive_type("ack");
  REQUIRE(ack);
  const auto seq = (*ack)["seq"].get<std::uint64_t>();
  auto seen_by_other = other_tab.receive_type("message");
  while (seen_by_other && (*seen_by_other)["from"] != "agent") seen_by_other = other_tab.receive_type("message");
  REQUIRE(seen_by_other);
  CHECK((*seen_by_other)["seq"] == seq);
  CHECK((*seen_by_other)["text"] == "from tab one");

  // A resend after the ack (the console missed it) is answered with the same seq, stored once.
  writer_tab.send({{"type", "say"}, {"conversation_id", conv}, {"client_msg_id", "a-1"}, {"text", "from tab one"}});
  auto again = writer_tab.receive_type("ack");
  REQUIRE(again);
  CHECK((*again)["seq"] == seq);
  CHECK((*again)["client_msg_id"] == "a-1");

  // Deliveries are in seq order, so an echo to the writing tab would come before this.
  visitor.send({{"type", "say"}, {"client_msg_id", "v-1"}, {"text", "thanks"}});
  REQUIRE(visitor.receive_type("ack"));
  auto next = writer_tab.receive_type("message");
  while (next && (*next)["from"] == "system") next = writer_tab.receive_type("message");
  REQUIRE(next);
  CHECK((*next)["from"] == "visitor");
  CHECK((*next)["seq"] == seq + 1);
  auto next_on_other = other_tab.receive_type("message");
  while (next_on_other && (*next_on_other)["from"] == "system") next_on_other = other_tab.receive_type("message");
  REQUIRE(next_on_other);
  CHECK((*next_on_other)["seq"] == seq + 1); // the resend was not delivered again
}

// With one io thread a socket's handlers share that thread; with several, each socket
// has a strand. Pipelined traffic both ways checks the strand path keeps frames whole
// and in order while actors post to a socket that is also reading.
TEST_CASE("with two io threads pipelined chats are acked and delivered in order", "[e2e]") {
  daemon_process server{{"--io-threads", "2", "--set", "websocket.rate_per_second=1000", "--set",
                         "websocket.rate_burst=1000"}};
  auto [agent_id, token] = create_agent(server.port(), "Ann", 4);
  ws_client agent;
  login_agent(agent, server.port(), token);
  constexpr int chats = 4, per_side = 25;
  std::vector<std::unique_ptr<ws_client>> visitors;
  std::vector<std::string> convs;
  for (int c = 0; c < chats; ++c) {
    visitors.push_back(std::make_unique<ws_client>());
    convs.push_back(start_live_chat(agent, *visitors.back(), server.port())["conversation_id"]);
  }
  for (int i = 0; i < per_side; ++i)
    for (int c = 0; c < chats; ++c) {
      const auto n = std::to_string(i);
      visitors[c]->send({{"type", "say"}, {"client_msg_id", "v-" + n}, {"text", "visitor " + n}});
      agent.send({{"type", "say"}, {"conversation_id", convs[c]}, {"client_msg_id", "a-" + n}, {"text", "agent " + n}});
    }

  // Each visitor: its acks in send order, the agent's messages in send order, seqs rising.
  for (int c = 0; c < chats; ++c) {
    int acks = 0, replies = 0;
    std::uint64_t last_seq = 0;
    while (acks < per_side || replies < per_side) {
      auto f = visitors[c]->receive();
      REQUIRE(f);
      if ((*f)["type"] == "ack") {
        CHECK((*f)["client_msg_id"] == "v-" + std::to_string(acks++));
      } else if ((*f)["type"] == "message" && (*f)["from"] == "agent") {
        CHECK((*f)["text"] == "agent " + std::to_string(replies++));
        CHECK((*f)["seq"].get<std::uint64_t>() > last_seq);
        last_seq = (*f)["seq"];
      }
    }
  }
  // The agent: per conversation, its acks and the visitor's messages in order.
  std::map<std::string, int> agent_acks, visitor_messages;
  for (int counted = 0; counted < 2 * chats * per_side;) {
    auto f = agent.receive();
    REQUIRE(f);
    if ((*f)["type"] == "ack") {
      auto& n = agent_acks[(*f)["conversation_id"]];
      CHECK((*f)["client_msg_id"] == "a-" + std::to_string(n++));
      ++counted;
    } else if ((*f)["type"] == "message" && (*f)["from"] == "visitor") {
      auto& n = visitor_messages[(*f)["conversation_id"]];
      CHECK((*f)["text"] == "visitor " + std::to_string(n++));
      ++counted;
    }
  }
  CHECK(agent_acks.size() == chats);
}
