#include "dynchat/protocol/frames.hpp"
#include "dynchat/protocol/text_rules.hpp"

#include <algorithm>
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

  // A one-line field (ids, urls, addresses): control characters are refused, so no field
  // can start a new line in a log or a transcript.
  std::string line(const char* name, std::size_t max, bool required) {
    auto s = text(name, max, required);
    if (ok() && std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
      set(error_code::bad_value, std::string{"field '"} + name + "' must not contain control characters");
      return {};
    }
    return s;
  }

  // Message text: may span lines, must say something.
  std::string message_text() {
    auto s = text("text", limits_.max_text_bytes, true);
    if (ok() && is_blank(s))
      set(error_code::bad_value, "field 'text' must not be empty or blank");
    return s;
  }

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
  protocol::client_msg_id client_msg_id() {
    auto it = obj_.find("client_msg_id");
    if (it != obj_.end() && it->is_number_integer() && (it->is_number_unsigned() || it->get<std::int64_t>() >= 0))
      return {std::to_string(it->get<std::uint64_t>()), true};
    auto id = line("client_msg_id", limits_.max_id_bytes, true);
    if (ok() && id.empty()) set(error_code::bad_value, "field 'client_msg_id' must not be empty");
    return {std::move(id), false};
  }

  history_request history() {
    history_request h;
    h.before_seq = unsigned_number("before_seq");
    const auto limit = unsigned_number("limit");
    if (ok() && limit > max_history_limit)
      set(error_code::bad_value, "field 'limit' must be 1 to " + std::to_string(max_history_limit));
    h.limit = static_cast<std::uint32_t>(limit);
    return h;
  }

  // {"<conversation id>": seq, ...}: where an agent's console left each chat.
  std::vector<std::pair<std::string, std::uint64_t>> resume_map(const char* name) {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    auto it = obj_.find(name);
    if (it == obj_.end() || it->is_null()) return out;
    if (!it->is_object()) {
      set(error_code::wrong_type, std::string{"field '"} + name + "' must be an object of conversation id to seq");
      return out;
    }
    if (it->size() > max_resume_entries) {
      set(error_code::too_long, std::string{"field '"} + name + "' names more than " +
                                  std::to_string(max_resume_entries) + " conversations");
      return out;
    }
    for (auto e = it->begin(); e != it->end(); ++e) {
      const auto& v = e.value();
      if (e.key().size() > limits_.max_id_bytes || !(v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0))) {
        set(error_code::bad_value, std::string{"field '"} + name + "' must map conversation ids to non-negative seqs");
        return {};
      }
      out.emplace_back(e.key(), v.get<std::uint64_t>());
    }
    return out;
  }

  bool boolean(const char* name) {
    auto it = obj_.find(name);
    if (it == obj_.end() || it->is_null()) return false;
    if (!it->is_boolean()) {
      set(error_code::wrong_type, std::string{"field '"} + name + "' must be true or false");
      return false;
    }
    return it->get<bool>();
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
    h.page_url = r.line("page_url", limits.max_url_bytes, false);
    h.visitor_id = r.line("visitor_id", limits.max_id_bytes, false);
    h.resume_token = r.line("resume_token", limits.max_id_bytes, false);
    h.last_seq = r.unsigned_number("last_seq");
    h.email = r.line("email", 254, false);
    h.mkto_trk = r.line("mkto_trk", limits.max_url_bytes, false);
    h.referrer = r.line("referrer", limits.max_url_bytes, false);
    h.page_load = r.boolean("page_load");
    return finish<visitor_frame>(r, std::move(h));
  }
  if (t == "say") {
    visitor_say s;
    s.id = r.client_msg_id();
    s.text = r.message_text();
    return finish<visitor_frame>(r, std::move(s));
  }
  if (t == "choose") {
    visitor_choose c;
    c.id = r.client_msg_id();
    c.option = r.line("option", max_option_bytes, true);
    return finish<visitor_frame>(r, std::move(c));
  }
  if (t == "book") {
    visitor_book b;
    b.id = r.client_msg_id();
    b.slot = r.line("slot", limits.max_id_bytes, true); // "<agent id>:<start ms>"
    b.time_zone = r.line("time_zone", 64, false);
    return finish<visitor_frame>(r, std::move(b));
  }
  if (t == "typing") return visitor_frame{visitor_typing{}};
  if (t == "history") return finish<visitor_frame>(r, visitor_history{r.history()});
  if (t == "opened") return finish<visitor_frame>(r, visitor_opened{r.line("link", limits.max_url_bytes, true)});
  if (t == "trigger") return finish<visitor_frame>(r, visitor_trigger{r.line("flow", 64, true)});
  if (t == "event") {
    visitor_event e;
    e.kind = r.line("kind", 32, true);
    e.value = static_cast<std::int64_t>(std::min<std::uint64_t>(r.unsigned_number("value"), 1'000'000'000));
    return finish<visitor_frame>(r, std::move(e));
  }
  return fail{error_code::unknown_type, "unknown frame type '" + t.substr(0, 64) + "'"};
}

agent_decode decode_agent(const json& frame, const decode_limits& limits) {
  auto type = frame_type(frame);
  if (!type) return type.error();
  field_reader r{frame, limits};
  const std::string& t = *type;
  auto conversation = [&] { return r.line("conversation_id", limits.max_id_bytes, true); };
  if (t == "hello") {
    agent_hello h;
    h.token = r.line("token", limits.max_id_bytes, true);
    h.resume = r.resume_map("last_seq");
    return finish<agent_frame>(r, std::move(h));
  }
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
    s.id = r.client_msg_id();
    s.text = r.message_text();
    return finish<agent_frame>(r, std::move(s));
  }
  if (t == "typing") return finish<agent_frame>(r, agent_typing{conversation()});
  if (t == "end") return finish<agent_frame>(r, agent_end{conversation()});
  if (t == "share_calendar") {
    agent_share_calendar s;
    s.conversation_id = conversation();
    s.agent_id = r.line("agent_id", limits.max_id_bytes, false);
    return finish<agent_frame>(r, std::move(s));
  }
  if (t == "history") {
    agent_history h;
    h.conversation_id = conversation();
    h.page = r.history();
    return finish<agent_frame>(r, std::move(h));
  }
  return fail{error_code::unknown_type, "unknown frame type '" + t.substr(0, 64) + "'"};
}

bool is_agent_status(std::string_view s) noexcept {
  return s == "available" || s == "away" || s == "offline";
}

json client_msg_id_json(const client_msg_id& id) {
  if (id.numeric) {
    std::uint64_t v = 0;
    std::from_chars(id.text.data(), id.text.data() + id.text.size(), v);
    return v;
  }
  return id.text;
}

json make_error(error_code code, std::string_view message, const client_msg_id& id) {
  json j{{"type", "error"}, {"code", to_string(code)}, {"message", message}};
  if (!id.empty()) j["client_msg_id"] = client_msg_id_json(id);
  return j;
}

json prompt_json(const bot_prompt& p) {
  json j = json::object();
  if (!p.options.empty()) {
    json options = json::array();
    for (const auto& o : p.options) options.push_back({{"label", o.label}, {"value", o.value}});
    j["options"] = std::move(options);
  }
  if (!p.input.empty()) j["input"] = p.input;
  if (!p.placeholder.empty()) j["placeholder"] = p.placeholder;
  if (!p.link.empty()) j["link"] = p.link;
  if (!p.slots.empty()) {
    json slots = json::array();
    for (const auto& s : p.slots) slots.push_back({{"id", s.id}, {"start_ms", s.start_ms}, {"end_ms", s.end_ms}});
    j["slots"] = std::move(slots);
  }
  if (!p.slots_agent.empty()) j["slots_agent"] = p.slots_agent;
  return j;
}

json transcript_entry(const message_view& m) {
  json j{{"seq", m.seq}, {"from", m.from}, {"text", m.text}, {"ts", m.ts_ms}};
  if (!m.agent_name.empty()) j["agent"] = m.agent_name;
  if (m.prompt && !m.prompt->empty()) j["prompt"] = prompt_json(*m.prompt);
  return j;
}

json make_page(std::string_view type, std::string_view conversation_id, json transcript, bool has_more) {
  return json{{"type", type}, {"conversation_id", conversation_id}, {"transcript", std::move(transcript)},
              {"has_more", has_more}};
}

json make_typing(std::string_view conversation_id, std::string_view from) {
  return json{{"type", "typing"}, {"conversation_id", conversation_id}, {"from", from}};
}

} // namespace dynchat::protocol
