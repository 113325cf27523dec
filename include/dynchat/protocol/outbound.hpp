#pragma once
// A frame on its way to clients, encoded at most once per encoding however many of a
// conversation's sockets receive it. `ack` and `message`, sent for every chat message,
// are flat and written straight to bytes; any other frame is encoded from its JSON
// document. Both routes give the same bytes (keys in the document's sorted order).
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dynchat/protocol/codec.hpp"
#include "dynchat/protocol/frames.hpp"

namespace dynchat::protocol {

/// The most bytes a `message` frame (or a transcript entry) of `m` takes, in either
/// encoding: JSON escapes can make a text six times its size. Computed without encoding.
std::size_t message_frame_size_bound(const message_view& m);

class outbound_frame {
public:
  /// Any frame built as a document. Implicit, so every make_* frame can be sent as is.
  outbound_frame(json frame) : content_(std::move(frame)) {}
  static outbound_frame ack(std::string_view conversation_id, const client_msg_id& id, std::uint64_t seq);
  static outbound_frame message(const message_view& m);

  /// The frame in `enc`, encoded on first use and shared by every socket that sends it.
  /// Not thread-safe: the actor that builds a frame hands it to its sockets.
  const std::shared_ptr<const std::string>& bytes(encoding enc) const;

  /// A flat frame's field: string, unsigned or signed integer.
  struct field {
    std::string_view key;
    std::variant<std::string, std::uint64_t, std::int64_t> value;
  };
  using fields = std::vector<field>; // keys in ascending order, as a document sorts them

private:
  explicit outbound_frame(fields flat) : content_(std::move(flat)) {}
  std::variant<json, fields> content_;
  mutable std::array<std::shared_ptr<const std::string>, 2> encoded_;
};

} // namespace dynchat::protocol
