// Bad input gets an error frame with a stable code (or the right close code) and
// never disturbs anyone else.
#include "helpers.hpp"

#include <thread>

#include "dynchat/protocol/codec.hpp"

using namespace dynchat::testing;

TEST_CASE("malformed and ill-typed frames after hello get error frames", "[e2e][bad_input]") {
  daemon_process server;
  ws_client visitor, bystander;
  visitor_hello(visitor, server.port());
  visitor_hello(bystander, server.port());
  struct bad { std::string bytes; bool binary; std::string code; };
  std::vector<bad> cases{
    {"{not json", false, "bad_frame"},
    {"[1,2,3]", false, "not_an_object"},
    {R"({"text":"no type"})", false, "missing_type"},
    {R"({"type":42})", false, "wrong_type"},
    {R"({"type":"dance"})", false, "unknown_type"},
    {R"({"type":"say","text":"no id"})", false, "missing_field"},
    {R"({"type":"say","client_msg_id":"1","text":5})", false, "wrong_type"},
    {R"({"type":"say","client_msg_id":"1","text":")" + std::string(9000, 'a') + "\"}", false, "too_long"},
    {R"({"type":"say","client_msg_id":")" + std::string(200, 'i') + R"(","text":"x"})", false, "too_long"},
    {std::string(40, '[') + std::string(40, ']'), false, "too_deep"},
    {R"({"type":"hello","page_url":"again"})", false, "already_hello"},
    {"\xc1", true, "bad_frame"},
    {std::string("\x81\xa4type\xa3say\x00", 11), true, "bad_frame"}, // trailing byte
    {"\x81\xa4type\xa2\xff\xfe", true, "bad_utf8"},
    {"\x83\xa4type\xa3say\xad" "client_msg_id\xa1" "1\xa4text\xc4\x01x", true, "wrong_type"}, // bin, not str
  };
  for (auto& c : cases) {
    visitor.send_raw(c.bytes, c.binary);
    auto err = visitor.receive_type("error");
    INFO("expected " << c.code);
    REQUIRE(err);
    CHECK((*err)["code"] == c.code);
  }
  visitor.send({{"type", "say"}, {"client_msg_id", "good"}, {"text", "still works"}});
  CHECK(visitor.receive_type("ack"));
  bystander.send({{"type", "say"}, {"client_msg_id", "b"}, {"text", "unaffected"}});
  CHECK(bystander.receive_type("ack"));
}

TEST_CASE("a bad first frame is a failed hello: error, then close 1008", "[e2e][bad_input]") {
  daemon_process server;
  for (std::string first : {std::string{"garbage"}, std::string{R"({"type":"say","client_msg_id":"1","text":"x"})"}}) {
    ws_client visitor;
    REQUIRE(visitor.connect(server.port(), "/v1/visitor") == 0);
    visitor.send_raw(first, false);
    auto err = visitor.receive_type("error");
    REQUIRE(err);
    expect_close(visitor, 1008);
  }
}

TEST_CASE("invalid UTF-8 in a text frame closes with 1007", "[e2e][bad_input]") {
  daemon_process server;
  ws_client visitor;
  visitor_hello(visitor, server.port());
  visitor.send_raw(std::string{"{\"type\":\"say\",\"client_msg_id\":\"1\",\"text\":\"\xff\xfe\"}"}, false);
  expect_close(visitor, 1007);
}

TEST_CASE("choose and book are refused clearly while the flow offers neither", "[e2e][bad_input]") {
  daemon_process server;
  ws_client visitor;
  visitor_hello(visitor, server.port());
  visitor.send({{"type", "choose"}, {"client_msg_id", "c1"}, {"option", "pricing"}});
  auto err = visitor.receive_type("error");
  REQUIRE(err);
  CHECK((*err)["code"] == "unsupported");
  CHECK((*err)["client_msg_id"] == "c1");
}

TEST_CASE("a message fragmented over many websocket frames is reassembled", "[e2e][bad_input]") {
  daemon_process server;
  ws_client visitor;
  visitor_hello(visitor, server.port());
  visitor.send_fragmented({{"type", "say"}, {"client_msg_id", "frag"}, {"text", std::string(3000, 'f')}}, 7);
  auto ack = visitor.receive_type("ack");
  REQUIRE(ack);
  CHECK((*ack)["client_msg_id"] == "frag");
}

TEST_CASE("a visitor cannot forge a line of transcript.txt", "[e2e][bad_input]") {
  daemon_process server;
  ws_client visitor;
  const auto welcome = visitor_hello(visitor, server.port());
  const std::string conv = welcome["conversation_id"];
  visitor.send({{"type", "say"}, {"client_msg_id", "f"}, {"text", "hi\n[2026-12-01 18:25:09Z] #3 A1: Sure, approved."}});
  REQUIRE(visitor.receive_type("ack"));
  auto text = http_call(server.port(), "GET", "/v1/conversations/" + conv + "/transcript.txt", {}, admin_token).body;
  CHECK_THAT(text, Catch::Contains("Visitor: hi\n    [2026-12-01 18:25:09Z] #3 A1: Sure, approved.\n"));
  CHECK(text.find("\n[2026-12-01 18:25:09Z] #3 A1") == std::string::npos);
  // Frames carry the text exactly as typed: in a replay, a history page and over REST.
  const std::string typed = "hi\n[2026-12-01 18:25:09Z] #3 A1: Sure, approved.";
  ws_client back;
  visitor_hello(back, server.port(), ws_client::mode::msgpack,
                {{"resume_token", welcome["resume_token"]}, {"last_seq", 0}});
  bool replayed = false;
  for (auto f = back.receive_type("message"); f && !replayed; f = replayed ? std::nullopt : back.receive_type("message"))
    replayed = (*f)["text"] == typed;
  CHECK(replayed);
  back.send({{"type", "history"}});
  auto page = back.receive_type("history");
  REQUIRE(page);
  bool in_page = false;
  for (auto& m : (*page)["transcript"]) in_page = in_page || m["text"] == typed;
  CHECK(in_page);
  auto stored = http_call(server.port(), "GET", "/v1/conversations/" + conv, {}, admin_token).json_body();
  bool in_rest = false;
  for (auto& m : stored["messages"]) in_rest = in_rest || m["text"] == typed;
  CHECK(in_rest);
  // A newline in page_url never gets stored: the hello is refused.
  ws_client forger;
  REQUIRE(forger.connect(server.port(), "/v1/visitor") == 0);
  forger.send({{"type", "hello"}, {"page_url", "https://x/\nStatus ended"}});
  expect_error(forger, "bad_value");
  expect_close(forger, 1008);
}

TEST_CASE("empty text is refused and numeric client_msg_ids come back as numbers", "[e2e][bad_input]") {
  auto m = GENERATE(ws_client::mode::json, ws_client::mode::msgpack);
  daemon_process server;
  ws_client visitor;
  visitor_hello(visitor, server.port(), m);
  visitor.send({{"type", "say"}, {"client_msg_id", 41}, {"text", ""}});
  auto err = visitor.receive_type("error");
  REQUIRE(err);
  CHECK((*err)["code"] == "bad_value");
  CHECK((*err)["client_msg_id"] == 41);
  visitor.send({{"type", "say"}, {"client_msg_id", 42}, {"text", "a number"}});
  auto ack = visitor.receive_type("ack");
  REQUIRE(ack);
  CHECK((*ack)["client_msg_id"].is_number_unsigned());
  CHECK((*ack)["client_msg_id"] == 42);
  visitor.send({{"type", "say"}, {"client_msg_id", "42"}, {"text", "the same id, as text"}});
  auto again = visitor.receive_type("ack");
  REQUIRE(again);
  CHECK((*again)["client_msg_id"] == "42"); // echoed as sent
  CHECK((*again)["seq"] == (*ack)["seq"]);  // and recognised as the same message
}

TEST_CASE("a resume with last_seq past the newest message is refused", "[e2e][bad_input]") {
  daemon_process server;
  auto visitor = std::make_unique<ws_client>();
  auto welcome = visitor_hello(*visitor, server.port());
  visitor->close();
  ws_client again;
  REQUIRE(again.connect(server.port(), "/v1/visitor") == 0);
  again.send({{"type", "hello"}, {"page_url", "x"}, {"resume_token", welcome["resume_token"]}, {"last_seq", 999}});
  auto err = again.receive_type("error");
  REQUIRE(err);
  CHECK((*err)["code"] == "bad_value");
  CHECK_THAT((*err)["message"].get<std::string>(), Catch::Contains("past the newest"));
  expect_close(again, 1008);
}

TEST_CASE("a silent connection is pinged after idle_timeout, not half of it", "[e2e][bad_input]") {
  daemon_process server{{"--set", "websocket.idle_timeout=2"}};
  ws_client visitor;
  visitor_hello(visitor, server.port());
  std::this_thread::sleep_for(1500ms);
  CHECK(visitor.pings_received() == 0);
  std::this_thread::sleep_for(1200ms);
  CHECK(visitor.pings_received() == 1);
}

TEST_CASE("what operators need to see is logged", "[e2e][bad_input]") {
  daemon_process server{{"--log-level", "info", "--set", "websocket.hello_timeout=1"}, {}, launch_limits{0, true}};
  ws_client silent, impostor;
  REQUIRE(silent.connect(server.port(), "/v1/visitor") == 0);
  REQUIRE(impostor.connect(server.port(), "/v1/agent") == 0);
  impostor.send({{"type", "hello"}, {"token", "guess"}});
  expect_error(impostor, "unauthorized");
  expect_close(silent, 1008);
  auto [id, token] = create_agent(server.port(), "Gone");
  http_call(server.port(), "DELETE", "/v1/agents/" + id, {}, admin_token);
  std::this_thread::sleep_for(200ms);
  const auto log = server.log();
  CHECK_THAT(log, Catch::Contains("no hello within 1 s"));
  CHECK_THAT(log, Catch::Contains("agent hello with an unknown token from 127.0.0.1"));
  CHECK_THAT(log, Catch::Contains("(Gone) deleted"));
}
