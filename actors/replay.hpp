#pragma once
// A conversation's stored messages sent to one socket a page at a time, never more than
// its outbound queue can hold: a visitor resuming after a long absence, an agent's
// console reconnecting, a transcript page. Used by visitor_session and agent; the
// ordering rules are delivery_cursor's (src/core).
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dynchat/core/delivery_cursor.hpp"
#include "dynchat/core/settings.hpp"
#include "dynchat/net/frame_sink.hpp"
#include "dynchat/store/lmdb.hpp"

namespace dynchat {

struct page_budget {
  std::size_t messages;
  std::size_t bytes;
};

/// A quarter of the socket's outbound limits, so a page never fills its queue.
page_budget replay_budget(const settings& cfg, net::endpoint kind);

/// Sends the stored messages after cursor.sent() as `message` frames, one page, and
/// moves the cursor on. True when it caught up: the store held nothing more, or it
/// could not be read (then the socket is sent store_failed and closed).
bool send_next_page(const store::database& db, const net::sink_ptr& sink, const std::string& conversation_id,
                    delivery_cursor& cursor, page_budget budget);

/// An offer, chat or history frame: the messages before `before` (0: the newest), at
/// most `limit` and within the budget, with has_more. `newest`: the last seq it holds.
/// When the store could not be read, the page is empty with has_more, and read_failed.
struct page_frame {
  nlohmann::json frame;
  std::uint64_t newest = 0;
  bool read_failed = false;
};
page_frame build_page(const store::database& db, std::string_view type, const std::string& conversation_id,
                      std::uint64_t before, std::uint32_t limit, page_budget budget);

} // namespace dynchat
