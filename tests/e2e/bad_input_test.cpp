// Bad input gets an error frame with a stable code (or the right close code) and
// never disturbs anyone else.
#include "helpers.hpp"

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
