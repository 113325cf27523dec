// MessagePack <-> nlohmann::json, through msgpack-cxx. Depth and sizes are bounded by
// msgpack's unpack_limit so hostile input cannot make us allocate or recurse deeply.
#include "dynchat/protocol/codec.hpp"

#include <cmath>

#include <msgpack.hpp>

namespace dynchat::protocol {
namespace {

using fail = failure<error_code>;

struct to_json_error {
  error_code code;
  const char* message;
};

json object_to_json(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL: return nullptr;
    case msgpack::type::BOOLEAN: return o.via.boolean;
    case msgpack::type::POSITIVE_INTEGER: return o.via.u64;
    case msgpack::type::NEGATIVE_INTEGER: return o.via.i64;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      // Both encodings must carry the same values, and JSON has no NaN or infinity.
      if (!std::isfinite(o.via.f64)) throw to_json_error{error_code::bad_frame, "NaN and infinite numbers are not accepted"};
      return o.via.f64;
    case msgpack::type::STR: {
      std::string_view s{o.via.str.ptr, o.via.str.size};
      if (!is_valid_utf8(s)) throw to_json_error{error_code::bad_utf8, "string is not valid UTF-8"};
      return std::string{s};
    }
    case msgpack::type::ARRAY: {
      json arr = json::array();
      for (std::uint32_t i = 0; i < o.via.array.size; ++i) arr.push_back(object_to_json(o.via.array.ptr[i]));
      return arr;
    }
    case msgpack::type::MAP: {
      json obj = json::object();
      for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR) throw to_json_error{error_code::bad_frame, "map keys must be strings"};
        std::string key{kv.key.via.str.ptr, kv.key.via.str.size};
        if (!is_valid_utf8(key)) throw to_json_error{error_code::bad_utf8, "map key is not valid UTF-8"};
        obj[std::move(key)] = object_to_json(kv.val);
      }
      return obj;
    }
    case msgpack::type::BIN:
    case msgpack::type::EXT: break;
  }
  throw to_json_error{error_code::wrong_type, "binary and extension values are not accepted"};
}

void pack_value(msgpack::packer<msgpack::sbuffer>& pk, const json& v) {
  switch (v.type()) {
    case json::value_t::null:
    case json::value_t::discarded: pk.pack_nil(); break;
    case json::value_t::boolean: v.get<bool>() ? pk.pack_true() : pk.pack_false(); break;
    case json::value_t::number_integer: pk.pack(v.get<std::int64_t>()); break;
    case json::value_t::number_unsigned: pk.pack(v.get<std::uint64_t>()); break;
    case json::value_t::number_float: pk.pack(v.get<double>()); break;
    case json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      pk.pack_str(static_cast<std::uint32_t>(s.size()));
      pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
      break;
    }
    case json::value_t::array:
      pk.pack_array(static_cast<std::uint32_t>(v.size()));
      for (const auto& e : v) pack_value(pk, e);
      break;
    case json::value_t::object:
      pk.pack_map(static_cast<std::uint32_t>(v.size()));
      for (auto it = v.begin(); it != v.end(); ++it) {
        pk.pack_str(static_cast<std::uint32_t>(it.key().size()));
        pk.pack_str_body(it.key().data(), static_cast<std::uint32_t>(it.key().size()));
        pack_value(pk, it.value());
      }
      break;
    case json::value_t::binary: pk.pack_nil(); break; // never produced by the server
  }
}

} // namespace

decode_result parse_msgpack(std::string_view bytes) {
  if (bytes.empty()) return fail{error_code::bad_frame, "empty frame"};
  // Every element takes at least one byte, so the frame size already bounds counts;
  // depth is the limit that matters for the recursive conversion below.
  const std::size_t n = bytes.size();
  msgpack::unpack_limit limit{n, n, n, n, n, max_nesting};
  try {
    std::size_t offset = 0;
    msgpack::object_handle handle = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, limit);
    if (offset != bytes.size()) return fail{error_code::bad_frame, "trailing bytes after the MessagePack value"};
    return object_to_json(handle.get());
  } catch (const to_json_error& e) {
    return fail{e.code, e.message};
  } catch (const msgpack::depth_size_overflow&) {
    return fail{error_code::too_deep, "nesting too deep"};
  } catch (const msgpack::insufficient_bytes&) {
    return fail{error_code::bad_frame, "truncated MessagePack: the frame ends inside a value"};
  } catch (const msgpack::size_overflow&) {
    // A header announcing more elements or bytes than the frame could hold.
    return fail{error_code::bad_frame, "malformed MessagePack: a length is larger than the frame"};
  } catch (const std::exception&) {
    return fail{error_code::bad_frame, "malformed MessagePack"};
  }
}

std::string to_msgpack(const json& value) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk{buffer};
  pack_value(pk, value);
  return std::string{buffer.data(), buffer.size()};
}

bool is_valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) { ++p; continue; }
    std::size_t len;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (static_cast<std::size_t>(end - p) < len) return false;
    for (std::size_t i = 1; i < len; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    p += len;
  }
  return true;
}

} // namespace dynchat::protocol
