#include <catch2/catch.hpp>

#include <msgpack.hpp>

#include "dynchat/store/records.hpp"

using namespace dynchat::store;

TEST_CASE("records round trip through their versioned encoding", "[store]") {
  conversation_record c;
  c.id = "c";
  c.visitor_id = "v";
  c.phase = conversation_phase::live;
  c.agent_id = "a";
  c.created_ms = 1;
  c.requested_ms = 2;
  c.end_reason = "r";
  c.page_url = "https://x";
  c.email = "e@x";
  auto back = decode_conversation(encode(c));
  REQUIRE(back);
  CHECK(back->phase == conversation_phase::live);
  CHECK(back->agent_id == "a");
  CHECK(back->requested_ms == 2);
  CHECK(back->email == "e@x");

  message_record m{"agent", "hello", 5, "cm", "a", "Ann", {}};
  auto mb = decode_message(encode(m));
  REQUIRE(mb);
  CHECK(mb->agent_name == "Ann");
  CHECK(mb->ts_ms == 5);

  agent_record a{"id", "Ann", "ann@x", "hash", 7, 9};
  auto ab = decode_agent(encode(a));
  REQUIRE(ab);
  CHECK(ab->max_chats == 7);
  CHECK(ab->token_hash == "hash");
}

TEST_CASE("corrupt or unknown-version values decode to nothing", "[store]") {
  auto bytes = encode(message_record{"visitor", "x", 1, {}, {}, {}, {}});
  CHECK_FALSE(decode_message(""));
  CHECK_FALSE(decode_message(bytes.substr(0, bytes.size() - 2)));
  bytes[0] = 99; // a future schema version
  CHECK_FALSE(decode_message(bytes));
  CHECK_FALSE(decode_agent(encode(message_record{}))); // wrong shape
}

TEST_CASE("phases have stable names", "[store]") {
  CHECK(to_string(conversation_phase::waiting) == "waiting");
  CHECK(phase_from_string("ended") == conversation_phase::ended);
  CHECK_FALSE(phase_from_string("deleted"));
}

TEST_CASE("a record written before fields were appended decodes with their defaults", "[store]") {
  // The conversation layout of the first release: 12 fields, no visitor_left_ms or queue_notice.
  msgpack::sbuffer buffer;
  const char version = 1;
  buffer.write(&version, 1);
  msgpack::pack(buffer, std::make_tuple(std::string{"c"}, std::string{"v"}, std::uint8_t{1}, std::string{}, 10, 11, 12, 0,
                                        std::string{}, std::string{"https://x"}, std::string{}, std::string{}));
  auto old = decode_conversation(std::string_view{buffer.data(), buffer.size()});
  REQUIRE(old);
  CHECK(old->phase == conversation_phase::waiting);
  CHECK(old->requested_ms == 12);
  CHECK(old->page_url == "https://x");
  CHECK(old->visitor_left_ms == 0);
  CHECK(old->queue_notice == 0);
  CHECK(old->flow_cursor.empty());

  conversation_record now;
  now.id = "c";
  now.visitor_left_ms = 77;
  now.queue_notice = 3;
  now.flow_cursor = std::string{"\x01\x90", 2};
  auto back = decode_conversation(encode(now));
  REQUIRE(back);
  CHECK(back->visitor_left_ms == 77);
  CHECK(back->queue_notice == 3);
  CHECK(back->flow_cursor == now.flow_cursor);
  // Fewer fields than the first release had is corrupt, not old.
  msgpack::sbuffer short_buffer;
  short_buffer.write(&version, 1);
  msgpack::pack(short_buffer, std::make_tuple(std::string{"c"}, std::string{"v"}));
  CHECK_FALSE(decode_conversation(std::string_view{short_buffer.data(), short_buffer.size()}));
}

TEST_CASE("a conversation remembers every agent that held it, and old records their last one", "[store]") {
  conversation_record c;
  c.id = "c";
  assign_agent(c, "ann");
  assign_agent(c, "bob");
  assign_agent(c, "ann"); // back to Ann: listed once
  CHECK(c.agent_id == "ann");
  CHECK(c.held_by == std::vector<std::string>{"ann", "bob"});
  auto back = decode_conversation(encode(c));
  REQUIRE(back);
  CHECK(back->held_by == c.held_by);
  CHECK(was_held_by(*back, "bob"));
  CHECK_FALSE(was_held_by(*back, "cid"));
  CHECK_FALSE(was_held_by(*back, ""));

  // A record from before held_by: its one agent is all it knows, and is kept when another takes over.
  msgpack::sbuffer buffer;
  const char version = 1;
  buffer.write(&version, 1);
  msgpack::pack(buffer, std::make_tuple(std::string{"c"}, std::string{"v"}, std::uint8_t{2}, std::string{"ann"}, 10, 11,
                                        12, 0, std::string{}, std::string{}, std::string{}, std::string{}, 0, 0,
                                        std::string{}));
  auto old = decode_conversation(std::string_view{buffer.data(), buffer.size()});
  REQUIRE(old);
  CHECK(old->held_by.empty());
  CHECK(was_held_by(*old, "ann"));
  assign_agent(*old, "bob");
  CHECK(old->held_by == std::vector<std::string>{"ann", "bob"});
  CHECK(was_held_by(*old, "ann"));
}

TEST_CASE("a dialogue record round trips, and a status this build does not know is refused", "[store]") {
  dialogue_record d{"d1", "Welcome", 3, dialogue_status::published, R"({"name":"Welcome"})", 4, 10, 20};
  auto back = decode_dialogue(encode(d));
  REQUIRE(back);
  CHECK(back->name == "Welcome");
  CHECK(back->priority == 3);
  CHECK(back->status == dialogue_status::published);
  CHECK(back->draft == d.draft);
  CHECK(back->published_version == 4);
  CHECK(back->updated_ms == 20);
  CHECK(to_string(dialogue_status::unpublished) == "unpublished");
  msgpack::sbuffer buffer;
  buffer.write("\x01", 1);
  msgpack::pack(buffer, std::make_tuple(std::string{"d"}, std::string{"n"}, 1u, std::uint8_t{9}, std::string{}, 0u,
                                        std::int64_t{0}, std::int64_t{0}));
  CHECK_FALSE(decode_dialogue(std::string_view{buffer.data(), buffer.size()}));
}

TEST_CASE("a dialogue record stored before published_priority takes its priority as that", "[store]") {
  msgpack::sbuffer buffer;
  buffer.write("\x01", 1);
  msgpack::pack(buffer, std::make_tuple(std::string{"d"}, std::string{"n"}, 4u, std::uint8_t{1}, std::string{"{}"}, 2u,
                                        std::int64_t{1}, std::int64_t{2}));
  auto d = decode_dialogue(std::string_view{buffer.data(), buffer.size()});
  REQUIRE(d);
  CHECK(d->published_priority == 4);
}

TEST_CASE("a flow's record says it is one, and a record stored before the field is a dialogue", "[store]") {
  dialogue_record flow{"f", "Plans", 0, dialogue_status::published, "{}", 3, 1, 2, 0, true};
  auto back = decode_dialogue(encode(flow));
  REQUIRE(back);
  CHECK(*back == flow);
  msgpack::sbuffer buffer;
  buffer.write("\x01", 1);
  msgpack::pack(buffer, std::make_tuple(std::string{"d"}, std::string{"n"}, 4u, std::uint8_t{1}, std::string{"{}"}, 2u,
                                        std::int64_t{1}, std::int64_t{2}, 4u));
  auto old = decode_dialogue(std::string_view{buffer.data(), buffer.size()});
  REQUIRE(old);
  CHECK_FALSE(old->flow);
}

TEST_CASE("a bot message keeps its prompt, and a chat line stores none of its fields", "[store]") {
  message_record bot{"bot", "Pick one", 5, {}, {}, {}, {}};
  bot.prompt.options = {{"Search Engine Optimization", "SEO"}, {"Ads", "Ads"}};
  bot.prompt.input = "picklist";
  bot.prompt.placeholder = "choose";
  bot.prompt.link = "https://example.com/guide.pdf";
  auto back = decode_message(encode(bot));
  REQUIRE(back);
  CHECK(back->prompt == bot.prompt);
  message_record line{"visitor", "hi", 6, "c1", {}, {}, {}};
  CHECK(encode(line).size() < encode(bot).size());
  auto line_back = decode_message(encode(line));
  REQUIRE(line_back);
  CHECK(line_back->prompt.empty());
}

TEST_CASE("a dialogue visit round trips", "[store]") {
  dialogue_visit v{"d", 3, "c", "v", 10, 20, 30, true, true, 2, 1, false};
  auto back = decode_dialogue_visit(encode(v));
  REQUIRE(back);
  CHECK(*back == v);
  CHECK_FALSE(decode_dialogue_visit("\x01\x90"));
}
