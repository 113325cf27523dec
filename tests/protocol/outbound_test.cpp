#include <catch2/catch.hpp>

#include <limits>

#include "dynchat/protocol/outbound.hpp"

using namespace dynchat::protocol;

namespace {

// The bytes a frame must have: its document as the general encoder writes it.
void check_encodes_as(const outbound_frame& frame, const json& expected) {
  CHECK(*frame.bytes(encoding::json) == serialize(expected, encoding::json));
  CHECK(*frame.bytes(encoding::msgpack) == serialize(expected, encoding::msgpack));
  for (auto enc : {encoding::json, encoding::msgpack}) {
    auto back = parse(*frame.bytes(enc), enc);
    REQUIRE(back);
    CHECK(*back == expected);
  }
}

} // namespace

TEST_CASE("ack and message frames are written as their documents would be", "[protocol]") {
  const std::string awkward = "quote \" backslash \\ slash / tab \t newline \n nul " + std::string(1, '\0') +
                              " bell \x07 del \x7f unit \x1f é 中 🙂";
  // Escapes first, last and back to back, between plain runs of every length.
  const std::string edges = "\n\"" + std::string(1, '\0') + "\\a\t\tbc\x01\x1f\"";
  const std::string long8(200, 'x'), long16(70'000, 'y'), empty;
  const std::uint64_t max_u = std::numeric_limits<std::uint64_t>::max();
  for (std::uint64_t seq : std::initializer_list<std::uint64_t>{0, 1, 127, 128, 255, 256, 65'535, 65'536,
                                                               4'294'967'295, 4'294'967'296, max_u}) {
    CAPTURE(seq);
    check_encodes_as(outbound_frame::ack("c1", {"m-1"}, seq),
                     {{"type", "ack"}, {"conversation_id", "c1"}, {"client_msg_id", "m-1"}, {"seq", seq}});
    // An id sent as a number comes back as one.
    check_encodes_as(outbound_frame::ack("c1", {"4242", true}, seq),
                     {{"type", "ack"}, {"conversation_id", "c1"}, {"client_msg_id", 4242}, {"seq", seq}});
  }
  for (const std::string* text : {&awkward, &edges, &long8, &long16, &empty}) {
    check_encodes_as(outbound_frame::message({"c1", 42, "agent", *text, 1'700'000'000'123, "Ann"}),
                     {{"type", "message"}, {"conversation_id", "c1"}, {"seq", 42}, {"from", "agent"},
                      {"text", *text}, {"ts", 1'700'000'000'123}, {"agent", "Ann"}});
  }
  // No agent name, no `agent` key; a negative timestamp still round-trips.
  check_encodes_as(outbound_frame::message({"c2", 7, "visitor", "hi", -5, ""}),
                   {{"type", "message"}, {"conversation_id", "c2"}, {"seq", 7}, {"from", "visitor"},
                    {"text", "hi"}, {"ts", -5}});
}

TEST_CASE("invalid UTF-8 in a flat frame is replaced as the document encoder does", "[protocol]") {
  const std::string bad = "ok \xff\xfe end";
  auto frame = outbound_frame::message({"c", 1, "visitor", bad, 1, ""});
  json doc{{"type", "message"}, {"conversation_id", "c"}, {"seq", 1}, {"from", "visitor"}, {"text", bad}, {"ts", 1}};
  CHECK(*frame.bytes(encoding::json) == serialize(doc, encoding::json));
  CHECK(is_valid_utf8(*frame.bytes(encoding::json)));
}

TEST_CASE("a frame is encoded once per encoding and shared by every socket", "[protocol]") {
  outbound_frame frame = json{{"type", "typing"}, {"from", "agent"}};
  auto first = frame.bytes(encoding::json);
  CHECK(frame.bytes(encoding::json) == first); // the same buffer, not an equal copy
  CHECK(frame.bytes(encoding::msgpack) != first);
  CHECK(*first == R"({"from":"agent","type":"typing"})");
}

TEST_CASE("the size bound of a message frame holds in both encodings, escapes included", "[protocol]") {
  const std::string controls(8192, '\x01'), quotes(3000, '"'), plain(8192, 'p'), mixed = "a\n\"\\\t\x7f\x1f é";
  for (const std::string* text : {&controls, &quotes, &plain, &mixed}) {
    const message_view m{"0123456789abcdef0123456789abcdef", 18446744073709551615ull, "visitor", *text,
                         -9223372036854775807ll, "Agent \"Smith\"\n"};
    const auto bound = message_frame_size_bound(m);
    CHECK(outbound_frame::message(m).bytes(encoding::json)->size() <= bound);
    CHECK(outbound_frame::message(m).bytes(encoding::msgpack)->size() <= bound);
  }
}

TEST_CASE("a bot message with a prompt carries it, in both encodings, within its size bound", "[protocol]") {
  bot_prompt prompt;
  prompt.options = {{"Search \"Engine\" Optimization", "SEO"}, {"Ads", "ads"}};
  prompt.input = "email";
  prompt.placeholder = "you@company.com";
  const message_view m{"c1", 7, "bot", "What brings you here?", 99, "", &prompt};
  json expected{{"type", "message"}, {"conversation_id", "c1"}, {"seq", 7}, {"from", "bot"},
                {"text", "What brings you here?"}, {"ts", 99},
                {"prompt", {{"options", {{{"label", "Search \"Engine\" Optimization"}, {"value", "SEO"}},
                                         {{"label", "Ads"}, {"value", "ads"}}}},
                            {"input", "email"}, {"placeholder", "you@company.com"}}}};
  check_encodes_as(outbound_frame::message(m), expected);
  for (auto enc : {encoding::json, encoding::msgpack})
    CHECK(outbound_frame::message(m).bytes(enc)->size() <= message_frame_size_bound(m));
  // An empty prompt is no prompt: the flat frame.
  const bot_prompt none;
  const message_view plain{"c1", 8, "bot", "Hi", 99, "", &none};
  CHECK(json::parse(*outbound_frame::message(plain).bytes(encoding::json)).count("prompt") == 0);
}
