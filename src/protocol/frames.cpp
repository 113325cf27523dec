#include "dynchat/protocol/frames.hpp"

#include <charconv>

namespace dynchat::protocol {
namespace {

using fail = failure<error_code>;

// Reads typed fields from one frame object; the first problem wins.
class field_reader {
public:
  field_reader(const json& obj, const decode_limits& limits) : obj_(obj), limits_(limits) {}

  bool ok() const { return !error_; }
  fail take_error() { return std::move(*error_); }

  std::string text(const char* name, std::size_t max, bool required) {
    auto it = obj_.find(name);
    if (it == obj_.end() || it->is_null()) {
      if (required) set(error_code::missing_field, std::string{"missing field '"} + name + "'");
      return {};
    }
    if (!it->is_string()) {
      set(error_code::wrong_type, std::string{"field '"} + name + "' must be a string");
      return {};
    }
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > max) {
      set(error_code::too_long, std::string{"field '"} + name + "' is longer than " + std::to_string(max) + " bytes");
      return {};
    }
    return s;
  }

  // Client message ids may be strings or non-negative integers (kept as their decimal text).
  std::string client_msg_id() {
    auto it = obj_.find("client_msg_id");
    if (it != obj_.end() && it->is_number_integer() && (it->is_number_unsigned() || it->get<std::int64_t>() >= 0))
      return std::to_string(it->get<std::uint64_t>());
    auto id = text("client_msg_id", limits_.max_id_bytes, true);
    if (ok() && id.empty()) set(error_code::bad_value, "field 'client_msg_id' must not be empty");
    return id;
  }

  std::uint64_t unsigned_number(const char* name) {
    auto it = obj_.find(name);
    if (it == obj_.end() || it->is_null()) return 0;
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<std::int64_t>() >= 0)) {
      set(error_code::wrong_type, std::string{"field '"} + name + "' must be a non-negative integer");
      return 0;
    }
    return it->get<std::uint64_t>();
  }

  const decode_limits& limits() const { return limits_; }

private:
  void set(error_code code, std::string message) {
    if (!error_) error_ = fail{code, std::move(message)};
  }
  const json& obj_;
  const decode_limits& limits_;
  std::optional<fail> error_;
};

result<std::string, error_code> frame_type(const json& frame) {
  if (!frame.is_object()) return fail{error_code::not_an_object, "a frame must be an object"};
  auto it = frame.find("type");
  if (it == frame.end()) return fail{error_code::missing_type, "missing field 'type'"};
  if (!it->is_string()) return fail{error_code::wrong_type, "field 'type' must be a string"};
  return it->get<std::string>();
}

template <class Variant, class Frame>
result<Variant, error_code> finish(field_reader& r, Frame frame) {
  if (!r.ok()) return r.take_error();
  return Variant{std::move(frame)};
}

} // namespace

visitor_decode decode_visitor(const json& frame, const decode_limits& limits) {
  auto type = frame_type(frame);
  if (!type) return type.error();
  field_reader r{frame, limits};
  const std::string& t = *type;
  if (t == "hello") {
    visitor_hello h;
    h.page_url = r.text("page_url", limits.max_url_bytes, false);
    h.visitor_id = r.text("visitor_id", limits.max_id_bytes, false);
    h.resume_token = r.text("resume_token", limits.max_id_bytes, false);
    h.last_seq = r.unsigned_number("last_seq");
    h.email = r.text("email", 254, false);
    h.mkto_trk = r.text("mkto_trk", limits.max_url_bytes, false);
    h.referrer = r.text("referrer", limits.max_url_bytes, false);
    return finish<visitor_frame>(r, std::move(h));
  }
  if (t == "say") {
    visitor_say s;
    s.client_msg_id = r.client_msg_id();
    s.text = r.text("text", limits.max_text_bytes, true);
    return finish<visitor_frame>(r, std::move(s));
  }
  if (t == "choose") {
    visitor_choose c;
    c.client_msg_id = r.client_msg_id();
    c.option = r.text("option", limits.max_id_bytes, true);
    return finish<visitor_frame>(r, std::move(c));
  }
  if (t == "book") {
    visitor_book b;
    b.client_msg_id = r.client_msg_id();
    b.slot = r.text("slot", limits.max_id_bytes, true);
    return finish<visitor_frame>(r, std::move(b));
  }
  if (t == "typing") return visitor_frame{visitor_typing{}};
  return fail{error_code::unknown_type, "unknown frame type '" + t.substr(0, 64) + "'"};
}

agent_decode decode_agent(const json& frame, const decode_limits& limits) {
  auto type = frame_type(frame);
  if (!type) return type.error();
  field_reader r{frame, limits};
  const std::string& t = *type;
  auto conversation = [&] { return r.text("conversation_id", limits.max_id_bytes, true); };
  if (t == "hello") return finish<agent_frame>(r, agent_hello{r.text("token", limits.max_id_bytes, true)});
  if (t == "status") {
    agent_status s{r.text("status", 32, true)};
    if (r.ok() && !is_agent_status(s.status)) return fail{error_code::bad_value, "status must be available, away or offline"};
    return finish<agent_frame>(r, std::move(s));
  }
  if (t == "accept") return finish<agent_frame>(r, agent_accept{conversation()});
  if (t == "decline") return finish<agent_frame>(r, agent_decline{conversation()});
  if (t == "say") {
    agent_say s;
    s.conversation_id = conversation();
    s.client_msg_id = r.client_msg_id();
    s.text = r.text("text", limits.max_text_bytes, true);
    return finish<agent_frame>(r, std::move(s));
  }
  if (t == "typing") return finish<agent_frame>(r, agent_typing{conversation()});
  if (t == "end") return finish<agent_frame>(r, agent_end{conversation()});
  return fail{error_code::unknown_type, "unknown frame type '" + t.substr(0, 64) + "'"};
}

bool is_agent_status(std::string_view s) noexcept {
  return s == "available" || s == "away" || s == "offline";
}

json make_error(error_code code, std::string_view message, std::string_view client_msg_id) {
  json j{{"type", "error"}, {"code", to_string(code)}, {"message", message}};
  if (!client_msg_id.empty()) j["client_msg_id"] = client_msg_id;
  return j;
}

json make_typing(std::string_view conversation_id, std::string_view from) {
  return json{{"type", "typing"}, {"conversation_id", conversation_id}, {"from", from}};
}

} // namespace dynchat::protocol
