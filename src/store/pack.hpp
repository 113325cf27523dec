#pragma once
// How a record is stored: one schema byte, then a MessagePack array of its fields in
// order. Fields are only ever appended, so an older record reads with defaults.
#include <string>
#include <string_view>
#include <tuple>

#include <msgpack.hpp>

namespace dynchat::store::detail {

inline constexpr char schema_v1 = 1;

template <class... Fields>
std::string pack(const Fields&... fields) {
  msgpack::sbuffer buffer;
  buffer.write(&schema_v1, 1);
  msgpack::pack(buffer, std::forward_as_tuple(fields...));
  return std::string{buffer.data(), buffer.size()};
}

// Unpacks into the given fields; false on a wrong version or shape. The first
// `required` fields must be there; later ones were appended to the schema and take
// their defaults when an older record lacks them.
template <class... Fields>
bool unpack(std::string_view bytes, std::size_t required, Fields&... fields) {
  if (bytes.size() < 2 || bytes[0] != schema_v1) return false;
  try {
    auto handle = msgpack::unpack(bytes.data() + 1, bytes.size() - 1);
    const auto& o = handle.get();
    if (o.type != msgpack::type::ARRAY || o.via.array.size < required) return false;
    std::size_t i = 0;
    auto take = [&](auto& field) {
      if (i < o.via.array.size) o.via.array.ptr[i].convert(field);
      ++i;
    };
    (take(fields), ...);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace dynchat::store::detail
