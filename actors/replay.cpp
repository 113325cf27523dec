#include "actors/replay.hpp"

#include <spdlog/spdlog.h>

#include "dynchat/protocol/frames.hpp"
#include "dynchat/protocol/outbound.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat {

page_budget replay_budget(const settings& cfg, net::endpoint kind) {
  const auto& ws = cfg.websocket;
  const bool agent = kind == net::endpoint::agent;
  const auto frames = agent ? ws.agent_max_outbound_frames : ws.max_outbound_frames;
  const auto bytes = agent ? ws.agent_max_outbound_bytes : ws.max_outbound_bytes;
  return {std::max<std::size_t>(1, frames / 4), std::max<std::size_t>(1, bytes / 4)};
}

namespace {

// A page is measured in the bytes its frames take on the wire, not in stored bytes.
store::message_cost wire_cost(const std::string& conversation_id) {
  return [&conversation_id](const store::message_record& m) {
    return protocol::message_frame_size_bound({conversation_id, 0, m.from, m.text, m.ts_ms, m.agent_name, &m.prompt});
  };
}

} // namespace

bool send_next_page(const store::database& db, const net::sink_ptr& sink, const std::string& conversation_id,
                    delivery_cursor& cursor, page_budget budget) {
  store::message_page page;
  try {
    auto txn = db.read();
    page = store::load_page_after(txn, conversation_id, cursor.sent(), budget.messages, budget.bytes,
                                  wire_cost(conversation_id));
  } catch (const store::store_error& e) {
    // The socket cannot be caught up from here: it is closed, and the client resumes
    // from its last seq when it reconnects.
    spdlog::error("conversation {}: replay could not read the store: {}", conversation_id, e.what());
    sink->send(protocol::make_error(protocol::error_code::store_failed, "the conversation could not be read; reconnect"));
    sink->close(net::close_code::internal, "store failed");
    return true;
  }
  for (auto& [seq, m] : page.messages)
    sink->send(protocol::outbound_frame::message({conversation_id, seq, m.from, m.text, m.ts_ms, m.agent_name, &m.prompt}));
  cursor.on_page(page.messages.empty() ? 0 : page.messages.back().first, page.more);
  return cursor.live();
}

page_frame build_page(const store::database& db, std::string_view type, const std::string& conversation_id,
                      std::uint64_t before, std::uint32_t limit, page_budget budget) {
  store::message_page page;
  try {
    auto txn = db.read();
    page = store::load_page_before(txn, conversation_id, before, limit, budget.bytes, wire_cost(conversation_id));
  } catch (const store::store_error& e) {
    spdlog::error("conversation {}: a {} page could not read the store: {}", conversation_id, type, e.what());
    page_frame failed{protocol::make_page(type, conversation_id, nlohmann::json::array(), true), 0};
    failed.read_failed = true;
    return failed;
  }
  nlohmann::json transcript = nlohmann::json::array();
  for (auto& [seq, m] : page.messages)
    transcript.push_back(protocol::transcript_entry({conversation_id, seq, m.from, m.text, m.ts_ms, m.agent_name, &m.prompt}));
  page_frame out{protocol::make_page(type, conversation_id, std::move(transcript), page.more),
                 page.messages.empty() ? 0 : page.messages.back().first};
  return out;
}

} // namespace dynchat
