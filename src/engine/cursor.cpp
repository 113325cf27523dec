#include "dynchat/engine/cursor.hpp"

#include <msgpack.hpp>

namespace dynchat::engine {
namespace {

constexpr char cursor_v1 = 1;

// Timers travel as [name, due] pairs.
using timer_row = std::tuple<std::string, std::int64_t>;

} // namespace

std::string encode(const cursor& c) {
  std::vector<timer_row> timers;
  for (const auto& t : c.timers) timers.emplace_back(t.name, t.due_ms);
  msgpack::sbuffer buffer;
  buffer.write(&cursor_v1, 1);
  msgpack::pack(buffer, std::forward_as_tuple(static_cast<std::uint8_t>(c.flow), c.flow_id, c.flow_version, c.card,
                                              c.answers, timers, c.engaged, c.completed, c.handed_over, c.finished,
                                              c.start_asked, c.started_shown));
  return std::string{buffer.data(), buffer.size()};
}

std::optional<cursor> decode_cursor(std::string_view bytes) {
  if (bytes.empty()) return cursor{};
  if (bytes.size() < 2 || bytes[0] != cursor_v1) return std::nullopt;
  try {
    auto handle = msgpack::unpack(bytes.data() + 1, bytes.size() - 1);
    const auto& o = handle.get();
    if (o.type != msgpack::type::ARRAY || o.via.array.size < 9) return std::nullopt;
    const auto* f = o.via.array.ptr;
    cursor c;
    const auto flow = f[0].as<std::uint8_t>();
    if (flow > static_cast<std::uint8_t>(flow_kind::conversational_flow)) return std::nullopt;
    c.flow = static_cast<flow_kind>(flow);
    f[1].convert(c.flow_id);
    f[2].convert(c.flow_version);
    f[3].convert(c.card);
    f[4].convert(c.answers);
    for (const auto& [name, due] : f[5].as<std::vector<timer_row>>()) c.timers.push_back({name, due});
    f[6].convert(c.engaged);
    f[7].convert(c.completed);
    f[8].convert(c.handed_over);
    // Appended: older cursors have none.
    if (o.via.array.size > 9) f[9].convert(c.finished);
    if (o.via.array.size > 10) f[10].convert(c.start_asked);
    if (o.via.array.size > 11) f[11].convert(c.started_shown);
    return c;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

} // namespace dynchat::engine
