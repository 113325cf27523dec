// The JSON form of a dialogue (docs/dialogues.md), read strictly: a field nobody reads is
// a problem too, so a typo ("nxet") is caught at save instead of silently ending a branch.
#include <algorithm>
#include <set>

#include "dynchat/dialogue/validate.hpp"

#include <charconv>

#include "dynchat/targeting/url_pattern.hpp"

namespace dynchat::dialogue {
namespace {

using nlohmann::json;

bool is_card_id(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-' || c == '.'; });
}

// Marketo's REST field names: a letter, then letters, digits and underscores.
bool is_attribute_name(const std::string& s) {
  if (s.empty() || s.size() > 64 || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

bool is_number(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc{} && end == s.data() + s.size();
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\n") - first + 1);
}

bool has_control(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f; });
}

class reader {
public:
  reader(std::vector<problem>& out, const limits& lim) : out_(out), lim_(lim) {}
  const limits& lim() const { return lim_; }

  void fail(const std::string& path, std::string reason) { out_.push_back({path, std::move(reason)}); }

  // An object with only the keys named; false (and the problem noted) when it is not one.
  bool object(const json& j, const std::string& path, std::initializer_list<const char*> keys) {
    if (!j.is_object()) {
      fail(path, "must be an object");
      return false;
    }
    for (const auto& item : j.items()) {
      const std::string& key = item.key(); // (clang 14 cannot capture a structured binding)
      if (std::none_of(keys.begin(), keys.end(), [&](const char* known) { return key == known; }))
        fail(join(path, key), "is not a field here");
    }
    return true;
  }

  // A string field; nullopt when absent (a problem if required) or wrong.
  std::optional<std::string> text(const json& obj, const char* key, const std::string& path, bool required,
                                  std::size_t max_bytes) {
    const auto where = join(path, key);
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) fail(where, "is missing");
      return std::nullopt;
    }
    if (!it->is_string()) {
      fail(where, "must be a string");
      return std::nullopt;
    }
    auto s = it->get<std::string>();
    if (required && s.find_first_not_of(" \t\n") == std::string::npos) {
      fail(where, "must not be empty");
      return std::nullopt;
    }
    if (s.size() > max_bytes) {
      fail(where, "is longer than " + std::to_string(max_bytes) + " bytes");
      return std::nullopt;
    }
    if (has_control(s)) {
      fail(where, "holds a control character");
      return std::nullopt;
    }
    if (!required && s.find_first_not_of(" \t\n") == std::string::npos) return std::string{}; // blank is none
    return s;
  }

  std::string card_ref(const json& obj, const char* key, const std::string& path, bool required) {
    auto s = text(obj, key, path, required, 64);
    if (!s) return {};
    if (!is_card_id(*s)) {
      fail(join(path, key), "is not a card id (1-64 letters, digits, '_', '-' or '.')");
      return {};
    }
    return *s;
  }

  std::string attribute(const json& obj, const char* key, const std::string& path, bool required) {
    auto s = text(obj, key, path, required, 64);
    if (!s) return {};
    if (!is_attribute_name(*s)) {
      fail(join(path, key), "is not a field name (a letter, then letters, digits or '_')");
      return {};
    }
    return *s;
  }

  std::optional<bool> boolean(const json& obj, const char* key, const std::string& path) {
    auto it = obj.find(key);
    if (it == obj.end()) return std::nullopt;
    if (!it->is_boolean()) {
      fail(join(path, key), "must be true or false");
      return std::nullopt;
    }
    return it->get<bool>();
  }

  // An array field of at most `max` entries; nullptr when absent or wrong.
  const json* array(const json& obj, const char* key, const std::string& path, bool required, std::size_t max,
                    const char* what) {
    const auto where = join(path, key);
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) fail(where, "is missing");
      return nullptr;
    }
    if (!it->is_array()) {
      fail(where, "must be an array");
      return nullptr;
    }
    if (it->size() > max) {
      fail(where, "holds " + std::to_string(it->size()) + " " + what + "; at most " + std::to_string(max));
      return nullptr;
    }
    return &*it;
  }

  // "all" or "any" (all when absent).
  bool match(const json& obj, const std::string& path) {
    auto s = text(obj, "match", path, false, 8);
    if (!s) return true;
    if (*s != "all" && *s != "any") fail(join(path, "match"), "must be \"all\" or \"any\"");
    return *s != "any";
  }

  static std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
  static std::string index(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

private:
  std::vector<problem>& out_;
  const limits& lim_;
};

condition read_condition(reader& r, const json& j, const std::string& path) {
  condition c;
  if (!r.object(j, path, {"attribute", "op", "value"})) return c;
  c.attribute = r.attribute(j, "attribute", path, true);
  auto name = r.text(j, "op", path, true, 16);
  if (name) {
    if (auto o = op_from_string(*name)) c.op = *o;
    else
      r.fail(reader::join(path, "op"), "is not an operator: is, is_not, contains, starts_with, greater_than, "
                                       "less_than, is_empty, is_not_empty");
  }
  const bool unary = c.op == op::is_empty || c.op == op::is_not_empty;
  if (unary) {
    if (j.contains("value")) r.fail(reader::join(path, "value"), "is not taken by " + std::string{to_string(c.op)});
  } else if (auto v = r.text(j, "value", path, true, r.lim().max_text_bytes)) {
    c.value = *v;
    if ((c.op == op::greater_than || c.op == op::less_than) && !is_number(*v))
      r.fail(reader::join(path, "value"), "must be a number for " + std::string{to_string(c.op)});
  }
  return c;
}

condition_group read_group(reader& r, const json& j, const std::string& path) {
  condition_group g;
  if (!r.object(j, path, {"match", "conditions"})) return g;
  g.all = r.match(j, path);
  if (auto list = r.array(j, "conditions", path, true, r.lim().max_conditions, "conditions")) {
    if (list->empty()) r.fail(reader::join(path, "conditions"), "must hold a condition");
    for (std::size_t i = 0; i < list->size(); ++i)
      g.conditions.push_back(read_condition(r, (*list)[i], reader::index(reader::join(path, "conditions"), i)));
  }
  return g;
}

std::vector<std::string> read_patterns(reader& r, const json& obj, const char* key, const std::string& path) {
  std::vector<std::string> out;
  auto list = r.array(obj, key, path, false, r.lim().max_urls, "URL patterns");
  if (!list) return out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto where = reader::index(reader::join(path, key), i);
    const auto& p = (*list)[i];
    if (!p.is_string() || p.get<std::string>().empty()) {
      r.fail(where, "must be a URL pattern");
      continue;
    }
    auto s = p.get<std::string>();
    if (s.size() > 500) // the matcher is linear in practice but pattern x page at worst
      r.fail(where, "is longer than 500 bytes");
    else if (has_control(s) || s.find(' ') != std::string::npos)
      r.fail(where, "holds a space or a control character");
    else if (!targeting::url_pattern::compile(s))
      r.fail(where, "must be scheme://host[/path] with the scheme http, https or * (and a host)");
    else
      out.push_back(std::move(s));
  }
  return out;
}

audience read_audience(reader& r, const json& body) {
  audience a;
  auto it = body.find("audience");
  if (it == body.end()) return a; // every page, every visitor
  const std::string path = "audience";
  if (!r.object(*it, path, {"urls", "exclude", "visitors", "match", "groups", "events"})) return a;
  if (auto ev = it->find("events"); ev != it->end()) {
    const std::string where = "audience.events";
    if (r.object(*ev, where, {"time_on_page_s", "time_on_site_s", "scroll_pct"})) {
      auto threshold = [&](const char* key, std::uint32_t max, std::uint32_t& out) {
        auto v = ev->find(key);
        if (v == ev->end()) return;
        if (!v->is_number_integer() || v->get<std::int64_t>() < 1 || v->get<std::int64_t>() > max)
          return r.fail(reader::join(where, key), "must be a whole number from 1 to " + std::to_string(max));
        out = v->get<std::uint32_t>();
      };
      threshold("time_on_page_s", 3600, a.events.time_on_page_s);
      threshold("time_on_site_s", 86400, a.events.time_on_site_s);
      threshold("scroll_pct", 100, a.events.scroll_pct);
    }
  }
  a.urls = read_patterns(r, *it, "urls", path);
  a.excluded = read_patterns(r, *it, "exclude", path);
  if (auto v = r.text(*it, "visitors", path, false, 16)) {
    if (*v == "known") a.visitors = visitor_kind::known;
    else if (*v == "anonymous") a.visitors = visitor_kind::anonymous;
    else if (*v != "any") r.fail("audience.visitors", "must be \"any\", \"known\" or \"anonymous\"");
  }
  a.all_groups = r.match(*it, path);
  if (auto groups = r.array(*it, "groups", path, false, r.lim().max_groups, "groups"))
    for (std::size_t i = 0; i < groups->size(); ++i)
      a.groups.push_back(read_group(r, (*groups)[i], reader::index("audience.groups", i)));
  return a;
}

void read_answers(reader& r, const json& j, const std::string& path, card& c) {
  auto list = r.array(j, "answers", path, true, r.lim().max_answers, "answers");
  if (!list) return;
  if (list->empty()) r.fail(reader::join(path, "answers"), "must hold an answer");
  std::set<std::string> labels, values;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto where = reader::index(reader::join(path, "answers"), i);
    const auto& a = (*list)[i];
    if (!r.object(a, where, {"label", "value", "next", "attribute"})) continue;
    answer out;
    out.label = r.text(a, "label", where, true, 100).value_or("");
    out.value = r.text(a, "value", where, false, 255).value_or(out.label);
    out.next = r.card_ref(a, "next", where, false);
    out.attribute = r.attribute(a, "attribute", where, false);
    if (!out.label.empty() && !labels.insert(out.label).second) r.fail(reader::join(where, "label"), "is the label of another answer");
    else if (!out.value.empty() && !values.insert(out.value).second)
      r.fail(reader::join(where, a.contains("value") ? "value" : "label"), "is the value of another answer");
    if (out.attribute == "email") r.fail(reader::join(where, "attribute"), "the email field is written only by an email capture");
    c.answers.push_back(std::move(out));
  }
}

void read_capture(reader& r, const json& j, const std::string& path, card& c) {
  auto kind = r.text(j, "capture", path, true, 16);
  if (kind) {
    if (*kind == "email") c.capture.kind = capture_kind::email;
    else if (*kind == "phone") c.capture.kind = capture_kind::phone;
    else if (*kind == "text") c.capture.kind = capture_kind::text;
    else if (*kind == "attribute") c.capture.kind = capture_kind::attribute;
    else r.fail(reader::join(path, "capture"), "must be email, phone, text or attribute");
  }
  // Text and attribute captures name the field they write; an email capture writes
  // `email` (and only it does: that is where the checks are); a phone capture `phone`
  // unless it names another field.
  const bool named = c.capture.kind == capture_kind::attribute || c.capture.kind == capture_kind::text;
  c.capture.attribute = r.attribute(j, "attribute", path, named && kind.has_value());
  if (c.capture.kind == capture_kind::email) {
    if (!c.capture.attribute.empty() && c.capture.attribute != "email")
      r.fail(reader::join(path, "attribute"), "an email capture writes the email field");
    c.capture.attribute = "email";
  } else if (c.capture.attribute == "email") {
    r.fail(reader::join(path, "attribute"), "the email field is written only by an email capture");
  }
  if (c.capture.kind == capture_kind::phone && c.capture.attribute.empty()) c.capture.attribute = "phone";
  c.capture.placeholder = r.text(j, "placeholder", path, false, 100).value_or("");
  if (auto list = r.array(j, "picklist", path, false, r.lim().max_picklist, "choices")) {
    if (c.capture.kind == capture_kind::email || c.capture.kind == capture_kind::phone)
      r.fail(reader::join(path, "picklist"), "goes with a text or attribute capture");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto& v = (*list)[i];
      const auto choice = v.is_string() ? trim(v.get<std::string>()) : std::string{}; // answers are trimmed too
      if (choice.empty() || choice.size() > 255 || has_control(choice))
        r.fail(reader::index(reader::join(path, "picklist"), i), "must be a choice (1-255 bytes)");
      else if (!seen.insert(choice).second)
        r.fail(reader::index(reader::join(path, "picklist"), i), "is another choice's too");
      else c.capture.picklist.push_back(choice);
    }
  }
  if (auto w = r.text(j, "when_known", path, false, 16)) {
    if (*w == "skip") c.capture.when_known = when_known::skip;
    else if (*w != "overwrite") r.fail(reader::join(path, "when_known"), "must be \"overwrite\" or \"skip\"");
  }
}

void read_rules(reader& r, const json& j, const std::string& path, card& c) {
  auto list = r.array(j, "rules", path, true, r.lim().max_rules, "rules");
  if (!list) return;
  if (list->empty()) r.fail(reader::join(path, "rules"), "must hold a rule");
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto where = reader::index(reader::join(path, "rules"), i);
    const auto& rule = (*list)[i];
    if (!r.object(rule, where, {"known", "agents_available", "match", "conditions", "next"})) continue;
    branch_rule out;
    out.known = r.boolean(rule, "known", where);
    out.agents_available = r.boolean(rule, "agents_available", where);
    if (rule.contains("conditions")) {
      condition_group g;
      g.all = r.match(rule, where);
      if (auto conds = r.array(rule, "conditions", where, true, r.lim().max_conditions, "conditions"))
        for (std::size_t k = 0; k < conds->size(); ++k)
          g.conditions.push_back(read_condition(r, (*conds)[k], reader::index(reader::join(where, "conditions"), k)));
      if (!g.conditions.empty()) out.attributes = std::move(g);
    } else if (rule.contains("match")) {
      r.fail(reader::join(where, "match"), "goes with conditions");
    }
    if (!out.known && !out.agents_available && !out.attributes)
      r.fail(where, "must test something: known, agents_available or conditions");
    out.next = r.card_ref(rule, "next", where, true);
    c.rules.push_back(std::move(out));
  }
}

card read_card(reader& r, const json& j, const std::string& path) {
  card c;
  if (!j.is_object()) {
    r.fail(path, "must be an object");
    return c;
  }
  c.id = r.card_ref(j, "id", path, true);
  auto kind_name = r.text(j, "kind", path, true, 16);
  if (!kind_name) return c;
  auto kind = card_kind_from_string(*kind_name);
  if (!kind) {
    r.fail(reader::join(path, "kind"), "is not a card kind: message, question, capture, branch, action, goal, "
                                       "document, meeting, live_chat, flow, end");
    return c;
  }
  c.kind = *kind;
  const auto max_text = r.lim().max_text_bytes;
  switch (c.kind) {
    case card_kind::message:
      r.object(j, path, {"id", "kind", "text", "next"});
      c.text = r.text(j, "text", path, true, max_text).value_or("");
      break;
    case card_kind::question:
      r.object(j, path, {"id", "kind", "text", "answers"});
      c.text = r.text(j, "text", path, true, max_text).value_or("");
      read_answers(r, j, path, c);
      break;
    case card_kind::capture:
      r.object(j, path, {"id", "kind", "text", "capture", "attribute", "placeholder", "picklist", "when_known", "next"});
      c.text = r.text(j, "text", path, true, max_text).value_or("");
      read_capture(r, j, path, c);
      break;
    case card_kind::branch:
      r.object(j, path, {"id", "kind", "rules", "default"});
      read_rules(r, j, path, c);
      c.next = r.card_ref(j, "default", path, true);
      break;
    case card_kind::action: {
      r.object(j, path, {"id", "kind", "set", "next"});
      const auto where = reader::join(path, "set");
      auto it = j.find("set");
      if (it == j.end()) r.fail(where, "is missing");
      else if (!it->is_object() || it->empty()) r.fail(where, "must be an object of field names to values");
      else if (it->size() > r.lim().max_set)
        r.fail(where, "sets " + std::to_string(it->size()) + " fields; at most " + std::to_string(r.lim().max_set));
      else
        for (auto& [name, value] : it->items()) {
          if (!is_attribute_name(name)) r.fail(reader::join(where, name), "is not a field name");
          else if (name == "email") r.fail(reader::join(where, name), "the email field is written only by an email capture");
          else if (!value.is_string() || value.get<std::string>().size() > 255)
            r.fail(reader::join(where, name), "must be a string of at most 255 bytes (a literal or a token)");
          else c.set.emplace(name, value.get<std::string>());
        }
      break;
    }
    case card_kind::goal: {
      r.object(j, path, {"id", "kind", "name", "score", "next"});
      c.goal = r.text(j, "name", path, true, 100).value_or("");
      if (auto it = j.find("score"); it != j.end()) {
        if (!it->is_number_integer() || it->get<std::int64_t>() < 0 || it->get<std::int64_t>() > 3)
          r.fail(reader::join(path, "score"), "must be 0, 1, 2 or 3");
        else c.score = static_cast<std::uint8_t>(it->get<std::int64_t>());
      }
      break;
    }
    case card_kind::document: {
      r.object(j, path, {"id", "kind", "text", "url", "next"});
      c.text = r.text(j, "text", path, true, max_text).value_or("");
      c.url = r.text(j, "url", path, true, 2000).value_or("");
      if (!c.url.empty() && c.url.rfind("https://", 0) != 0 && c.url.rfind("http://", 0) != 0) {
        r.fail(reader::join(path, "url"), "must be an http:// or https:// address");
        c.url.clear();
      }
      break;
    }
    case card_kind::meeting: {
      r.object(j, path, {"id", "kind", "text", "routing", "agent_id", "next", "fallback", "agent_fields"});
      c.text = r.text(j, "text", path, true, max_text).value_or("");
      if (auto routing = r.text(j, "routing", path, false, 16)) {
        if (*routing == "agent") c.routing = meeting_routing::agent;
        else if (*routing == "rule") c.routing = meeting_routing::rule;
        else if (*routing != "round_robin") r.fail(reader::join(path, "routing"), "must be round_robin, agent or rule");
      }
      if (c.routing == meeting_routing::agent) c.agent_id = r.text(j, "agent_id", path, true, 64).value_or("");
      else if (j.contains("agent_id")) r.fail(reader::join(path, "agent_id"), "goes with \"routing\": \"agent\"");
      c.fallback = r.card_ref(j, "fallback", path, true);
      // Where the booked agent goes in the lead: {"name": "salesRep", "email": "salesRepEmail"}.
      if (auto it = j.find("agent_fields"); it != j.end()) {
        const auto where = reader::join(path, "agent_fields");
        if (r.object(*it, where, {"name", "email"})) {
          c.agent_name_attribute = r.attribute(*it, "name", where, false);
          c.agent_email_attribute = r.attribute(*it, "email", where, false);
          for (const auto* a : {&c.agent_name_attribute, &c.agent_email_attribute})
            if (*a == "email") r.fail(where, "the email field is the visitor's: it is written only by an email capture");
        }
      }
      break;
    }
    case card_kind::live_chat: {
      r.object(j, path, {"id", "kind", "text", "next", "fallback"});
      c.text = r.text(j, "text", path, false, max_text).value_or("");
      const auto where = reader::join(path, "fallback");
      auto it = j.find("fallback");
      if (it == j.end()) r.fail(where, "is missing: what the visitor reads when nobody can take the chat");
      else if (r.object(*it, where, {"text", "offer_meeting", "next"})) {
        c.nobody.text = r.text(*it, "text", where, true, max_text).value_or("");
        c.nobody.offer_meeting = r.boolean(*it, "offer_meeting", where).value_or(false);
        c.nobody.next = r.card_ref(*it, "next", where, false);
      }
      break;
    }
    case card_kind::flow:
      r.object(j, path, {"id", "kind", "flow_id", "next"});
      c.flow_id = r.text(j, "flow_id", path, true, 64).value_or("");
      break;
    case card_kind::end:
      r.object(j, path, {"id", "kind", "text"});
      c.text = r.text(j, "text", path, false, max_text).value_or("");
      break;
  }
  // `next` is read for the kinds that take it (branch reads `default` instead); the
  // others refused it above as a field that is not theirs, live_chat apart: it is read
  // so that the graph check can say why it must be last.
  if (c.kind != card_kind::branch && c.kind != card_kind::question && c.kind != card_kind::end)
    c.next = r.card_ref(j, "next", path, false);
  return c;
}

} // namespace

condition decode_condition(const nlohmann::json& j, const std::string& path, std::vector<problem>& problems,
                           const limits& lim) {
  reader r{problems, lim};
  return read_condition(r, j, path);
}

nlohmann::json to_json(const condition& c) {
  nlohmann::json j{{"attribute", c.attribute}, {"op", to_string(c.op)}};
  if (c.op != op::is_empty && c.op != op::is_not_empty) j["value"] = c.value;
  return j;
}

checked decode(const nlohmann::json& body, const limits& lim) {
  checked out;
  reader r{out.problems, lim};
  if (!r.object(body, "", {"type", "name", "description", "priority", "audience", "start", "cards"})) return out;
  definition d;
  if (auto type = r.text(body, "type", "", false, 16)) {
    if (*type == "flow") d.type = definition_type::flow;
    else if (!type->empty() && *type != "dialogue") r.fail("type", "must be dialogue or flow");
  }
  d.name = r.text(body, "name", "", true, 200).value_or("");
  d.description = r.text(body, "description", "", false, 2000).value_or("");
  if (d.type == definition_type::flow) {
    // The page starts a flow, or a dialogue embeds it: nothing to target, nothing to rank.
    d.priority = 0;
    if (body.contains("priority")) r.fail("priority", "a flow has no priority: the page starts it");
    if (body.contains("audience")) r.fail("audience", "a flow has no audience: the page starts it with a trigger frame");
  } else {
    if (auto it = body.find("priority"); it == body.end()) r.fail("priority", "is missing");
    else if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 1000000)
      r.fail("priority", "must be a whole number from 1 (the highest)");
    else d.priority = static_cast<std::uint32_t>(it->get<std::int64_t>());
    d.audience = read_audience(r, body);
  }
  d.start = r.card_ref(body, "start", "", true);
  if (auto cards = r.array(body, "cards", "", true, lim.max_cards, "cards")) {
    if (cards->empty()) r.fail("cards", "must hold a card");
    for (std::size_t i = 0; i < cards->size(); ++i) d.cards.push_back(read_card(r, (*cards)[i], reader::index("cards", i)));
  }
  if (!out.problems.empty()) return out; // the graph of a dialogue that did not decode says little more
  out.problems = check_graph(d);
  if (out.problems.empty()) out.value = std::move(d);
  return out;
}

} // namespace dynchat::dialogue
