#include <catch2/catch.hpp>

#include "dynchat/protocol/frames.hpp"

using namespace dynchat::protocol;

namespace {
const decode_limits limits{};
template <class T>
T visitor_as(const json& j) {
  auto r = decode_visitor(j, limits);
  REQUIRE(r);
  REQUIRE(std::holds_alternative<T>(*r));
  return std::get<T>(*r);
}
error_code visitor_error(const json& j) {
  auto r = decode_visitor(j, limits);
  REQUIRE_FALSE(r);
  return r.error().code;
}
error_code agent_error(const json& j) {
  auto r = decode_agent(j, limits);
  REQUIRE_FALSE(r);
  return r.error().code;
}
} // namespace

TEST_CASE("visitor hello carries every optional field", "[protocol]") {
  auto h = visitor_as<visitor_hello>({{"type", "hello"}, {"page_url", "https://a/b"}, {"resume_token", "t"},
                                      {"last_seq", 7}, {"email", "e@x"}, {"visitor_id", "v"}});
  CHECK(h.page_url == "https://a/b");
  CHECK(h.resume_token == "t");
  CHECK(h.last_seq == 7);
  CHECK(h.email == "e@x");
  auto bare = visitor_as<visitor_hello>({{"type", "hello"}});
  CHECK(bare.last_seq == 0);
  CHECK(bare.resume_token.empty());
}

TEST_CASE("client_msg_id may be a string or an unsigned integer", "[protocol]") {
  auto text_id = visitor_as<visitor_say>({{"type", "say"}, {"client_msg_id", "abc"}, {"text", "x"}}).id;
  CHECK(text_id.text == "abc");
  CHECK_FALSE(text_id.numeric);
  auto number_id = visitor_as<visitor_say>({{"type", "say"}, {"client_msg_id", 17}, {"text", "x"}}).id;
  CHECK(number_id.text == "17");
  CHECK(number_id.numeric);
  // Errors echo the id in the type the client used.
  CHECK(make_error(error_code::busy, "x", number_id)["client_msg_id"] == 17);
  CHECK(make_error(error_code::busy, "x", text_id)["client_msg_id"] == "abc");
  CHECK(visitor_error({{"type", "say"}, {"client_msg_id", ""}, {"text", "x"}}) == error_code::bad_value);
  CHECK(visitor_error({{"type", "say"}, {"client_msg_id", -1}, {"text", "x"}}) == error_code::wrong_type);
}

TEST_CASE("visitor frames are checked field by field", "[protocol]") {
  CHECK(visitor_error(json::array()) == error_code::not_an_object);
  CHECK(visitor_error({{"text", "x"}}) == error_code::missing_type);
  CHECK(visitor_error({{"type", 1}}) == error_code::wrong_type);
  CHECK(visitor_error({{"type", "nope"}}) == error_code::unknown_type);
  CHECK(visitor_error({{"type", "say"}, {"client_msg_id", "1"}}) == error_code::missing_field);
  CHECK(visitor_error({{"type", "say"}, {"client_msg_id", "1"}, {"text", json::array()}}) == error_code::wrong_type);
  CHECK(visitor_error({{"type", "say"}, {"client_msg_id", "1"}, {"text", std::string(8193, 'x')}}) == error_code::too_long);
  CHECK(visitor_error({{"type", "hello"}, {"last_seq", "3"}}) == error_code::wrong_type);
  CHECK(visitor_error({{"type", "hello"}, {"page_url", std::string(2049, 'u')}}) == error_code::too_long);
  CHECK(visitor_error({{"type", "hello"}, {"last_seq", -3}}) == error_code::wrong_type);
  CHECK(visitor_error({{"type", "choose"}, {"client_msg_id", "1"}}) == error_code::missing_field);
}

TEST_CASE("agent frames", "[protocol]") {
  auto s = decode_agent({{"type", "say"}, {"conversation_id", "c"}, {"client_msg_id", "1"}, {"text", "t"}}, limits);
  REQUIRE(s);
  CHECK(std::get<agent_say>(*s).conversation_id == "c");
  CHECK(agent_error({{"type", "say"}, {"client_msg_id", "1"}, {"text", "t"}}) == error_code::missing_field);
  CHECK(agent_error({{"type", "status"}, {"status", "sleeping"}}) == error_code::bad_value);
  CHECK(agent_error({{"type", "hello"}}) == error_code::missing_field);
  auto st = decode_agent({{"type", "status"}, {"status", "away"}}, limits);
  REQUIRE(st);
  CHECK(std::get<agent_status>(*st).status == "away");
}

TEST_CASE("server frames have the documented shape", "[protocol]") {
  auto err = make_error(error_code::rate_limited, "slow down", {"m2"});
  CHECK(err["code"] == "rate_limited");
  CHECK(err["client_msg_id"] == "m2");
  CHECK(make_error(error_code::internal, "x").count("client_msg_id") == 0);
}

TEST_CASE("message text must say something, one-line fields refuse control characters", "[protocol]") {
  CHECK(visitor_error({{"type", "say"}, {"client_msg_id", "1"}, {"text", ""}}) == error_code::bad_value);
  CHECK(visitor_error({{"type", "say"}, {"client_msg_id", "1"}, {"text", " \n\t "}}) == error_code::bad_value);
  CHECK(visitor_error({{"type", "say"}, {"client_msg_id", "1"}, {"text", "\u00a0\u3000\u200b"}}) == error_code::bad_value);
  CHECK(visitor_as<visitor_say>({{"type", "say"}, {"client_msg_id", "1"}, {"text", "two\nlines"}}).text == "two\nlines");
  CHECK(visitor_error({{"type", "hello"}, {"page_url", "https://x/\n[2026-12-01 18:25:09Z] #3 A1: forged"}}) ==
        error_code::bad_value);
  CHECK(visitor_error({{"type", "hello"}, {"referrer", std::string{"a\rb"}}}) == error_code::bad_value);
  CHECK(visitor_error({{"type", "say"}, {"client_msg_id", "a\nb"}, {"text", "x"}}) == error_code::bad_value);
  CHECK(agent_error({{"type", "say"}, {"conversation_id", "c"}, {"client_msg_id", "1"}, {"text", ""}}) == error_code::bad_value);
}

TEST_CASE("history asks for a page before a seq", "[protocol]") {
  auto h = visitor_as<visitor_history>({{"type", "history"}, {"before_seq", 40}, {"limit", 20}});
  CHECK(h.page.before_seq == 40);
  CHECK(h.page.limit == 20);
  auto newest = visitor_as<visitor_history>({{"type", "history"}});
  CHECK(newest.page.before_seq == 0);
  CHECK(newest.page.limit == 0);
  CHECK(visitor_error({{"type", "history"}, {"limit", 201}}) == error_code::bad_value);
  auto a = decode_agent({{"type", "history"}, {"conversation_id", "c"}, {"before_seq", 3}}, limits);
  REQUIRE(a);
  CHECK(std::get<agent_history>(*a).conversation_id == "c");
  CHECK(agent_error({{"type", "history"}}) == error_code::missing_field);
}

TEST_CASE("an agent's hello may say where its console left each chat", "[protocol]") {
  auto h = decode_agent({{"type", "hello"}, {"token", "t"}, {"last_seq", {{"c1", 5}, {"c2", 0}}}}, limits);
  REQUIRE(h);
  auto resume = std::get<agent_hello>(*h).resume;
  REQUIRE(resume.size() == 2);
  CHECK(resume[0] == std::pair<std::string, std::uint64_t>{"c1", 5});
  CHECK(agent_error({{"type", "hello"}, {"token", "t"}, {"last_seq", 5}}) == error_code::wrong_type);
  CHECK(agent_error({{"type", "hello"}, {"token", "t"}, {"last_seq", {{"c1", -1}}}}) == error_code::bad_value);
  CHECK(agent_error({{"type", "hello"}, {"token", "t"}, {"last_seq", {{"c1", "5"}}}}) == error_code::bad_value);
  json many = json::object();
  for (int i = 0; i <= 100; ++i) many["c" + std::to_string(i)] = 1;
  CHECK(agent_error({{"type", "hello"}, {"token", "t"}, {"last_seq", many}}) == error_code::too_long);
}

TEST_CASE("a hello may say the page just loaded, and a choice may name any answer value", "[protocol]") {
  CHECK(visitor_as<visitor_hello>({{"type", "hello"}, {"page_load", true}}).page_load);
  CHECK_FALSE(visitor_as<visitor_hello>({{"type", "hello"}}).page_load);
  CHECK(visitor_error({{"type", "hello"}, {"page_load", "yes"}}) == error_code::wrong_type);
  // A dialogue stores answer values of up to 255 bytes; the choice naming one fits.
  const std::string value(max_option_bytes, 'v');
  CHECK(visitor_as<visitor_choose>({{"type", "choose"}, {"client_msg_id", "c"}, {"option", value}}).option == value);
  CHECK(visitor_error({{"type", "choose"}, {"client_msg_id", "c"}, {"option", value + "v"}}) == error_code::too_long);
}
