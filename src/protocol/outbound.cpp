#include "dynchat/protocol/outbound.hpp"

#include <msgpack.hpp>

namespace dynchat::protocol {
namespace {

using fields = outbound_frame::fields;

// As nlohmann's dump escapes (without ensure_ascii): quote, backslash and control
// characters; everything else, UTF-8 included, is copied.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t plain = 0; // start of the run of characters copied as they are
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xF];
    }
  }
  out.append(s.data() + plain, s.size() - plain);
  out += '"';
}

std::string flat_json(const fields& f) {
  std::string out;
  out.reserve(64 + 48 * f.size());
  out += '{';
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, f[i].key);
    out += ':';
    if (auto* s = std::get_if<std::string>(&f[i].value)) append_json_string(out, *s);
    else if (auto* u = std::get_if<std::uint64_t>(&f[i].value)) out += std::to_string(*u);
    else out += std::to_string(std::get<std::int64_t>(f[i].value));
  }
  out += '}';
  return out;
}

std::string flat_msgpack(const fields& f) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk{buffer};
  pk.pack_map(static_cast<std::uint32_t>(f.size()));
  for (const auto& [key, value] : f) {
    pk.pack_str(static_cast<std::uint32_t>(key.size()));
    pk.pack_str_body(key.data(), static_cast<std::uint32_t>(key.size()));
    if (auto* s = std::get_if<std::string>(&value)) {
      pk.pack_str(static_cast<std::uint32_t>(s->size()));
      pk.pack_str_body(s->data(), static_cast<std::uint32_t>(s->size()));
    } else if (auto* u = std::get_if<std::uint64_t>(&value)) {
      pk.pack(*u);
    } else {
      pk.pack(std::get<std::int64_t>(value));
    }
  }
  return std::string{buffer.data(), buffer.size()};
}

json to_document(const fields& f) {
  json doc = json::object();
  for (const auto& [key, value] : f) std::visit([&, k = key](const auto& v) { doc[std::string{k}] = v; }, value);
  return doc;
}

bool all_valid_utf8(const fields& f) {
  for (const auto& [key, value] : f)
    if (auto* s = std::get_if<std::string>(&value); s && !is_valid_utf8(*s)) return false;
  return true;
}

// What append_json_string writes for s.
std::size_t json_string_size(std::string_view s) {
  std::size_t n = 2;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') n += 2;
    else if (c < 0x20) n += 6;
    else n += 1;
  }
  return n;
}

} // namespace

std::size_t message_frame_size_bound(const message_view& m) {
  // Keys, punctuation, a 20-digit seq and ts: well under 128 bytes. MessagePack never
  // takes more than JSON for the same fields.
  std::size_t prompt = 0;
  if (m.prompt) {
    prompt = 64 + json_string_size(m.prompt->input) + json_string_size(m.prompt->placeholder) +
             json_string_size(m.prompt->link);
    for (const auto& o : m.prompt->options) prompt += 24 + json_string_size(o.label) + json_string_size(o.value);
  }
  return 128 + json_string_size(m.conversation_id) + json_string_size(m.from) + json_string_size(m.text) +
         json_string_size(m.agent_name) + prompt;
}

outbound_frame outbound_frame::ack(std::string_view conversation_id, const client_msg_id& id, std::uint64_t seq) {
  field echoed{"client_msg_id", id.text};
  if (id.numeric) echoed.value = client_msg_id_json(id).get<std::uint64_t>(); // as the client sent it
  return outbound_frame{fields{std::move(echoed),
                               {"conversation_id", std::string{conversation_id}},
                               {"seq", seq},
                               {"type", std::string{"ack"}}}};
}

outbound_frame outbound_frame::message(const message_view& m) {
  if (m.prompt && !m.prompt->empty()) { // a bot's card: rare next to chat lines, so the document route
    json frame = transcript_entry(m);
    frame["type"] = "message";
    frame["conversation_id"] = m.conversation_id;
    return outbound_frame{std::move(frame)};
  }
  fields f;
  f.reserve(7);
  if (!m.agent_name.empty()) f.push_back({"agent", std::string{m.agent_name}});
  f.push_back({"conversation_id", std::string{m.conversation_id}});
  f.push_back({"from", std::string{m.from}});
  f.push_back({"seq", m.seq});
  f.push_back({"text", std::string{m.text}});
  f.push_back({"ts", static_cast<std::int64_t>(m.ts_ms)});
  f.push_back({"type", std::string{"message"}});
  return outbound_frame{std::move(f)};
}

const std::shared_ptr<const std::string>& outbound_frame::bytes(encoding enc) const {
  auto& slot = encoded_[static_cast<std::size_t>(enc)];
  if (slot) return slot;
  if (const auto* doc = std::get_if<json>(&content_)) {
    slot = std::make_shared<const std::string>(serialize(*doc, enc));
  } else {
    const auto& flat = std::get<fields>(content_);
    // Invalid UTF-8 never reaches the store, but if it did the document route replaces it.
    if (!all_valid_utf8(flat)) slot = std::make_shared<const std::string>(serialize(to_document(flat), enc));
    else slot = std::make_shared<const std::string>(enc == encoding::json ? flat_json(flat) : flat_msgpack(flat));
  }
  return slot;
}

} // namespace dynchat::protocol
