// The rule book's JSON and CSV forms, read strictly: a field nobody reads is a problem,
// so a typo is caught when the rule is saved rather than routing leads nowhere.
#include "dynchat/routing/rule_book.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "dynchat/core/ids.hpp"
#include "dynchat/protocol/codec.hpp"
#include "dynchat/protocol/text_rules.hpp"

namespace dynchat::routing {
namespace {

using nlohmann::json;
using dialogue::problem;

constexpr std::size_t max_name_bytes = 200;

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Only the keys named; the others are problems.
bool only_keys(const json& j, std::initializer_list<const char*> keys, std::vector<problem>& out) {
  if (!j.is_object()) {
    out.push_back({"", "must be a JSON object"});
    return false;
  }
  for (const auto& item : j.items()) {
    const std::string& key = item.key();
    if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return key == k; }))
      out.push_back({key, "is not a field here"});
  }
  return true;
}

std::optional<std::string> text(const json& j, const char* key, bool required, std::size_t max_bytes,
                                std::vector<problem>& out) {
  if (!j.contains(key)) {
    if (required) out.push_back({key, "is required"});
    return std::nullopt;
  }
  const auto& v = j.at(key);
  if (!v.is_string()) {
    out.push_back({key, "must be a string"});
    return std::nullopt;
  }
  auto s = v.get<std::string>();
  if (s.size() > max_bytes) {
    out.push_back({key, "is longer than " + std::to_string(max_bytes) + " bytes"});
    return std::nullopt;
  }
  // Names show in lists, conflicts and logs: one line of text.
  if (std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
    out.push_back({key, "must not hold control characters or line breaks"});
    return std::nullopt;
  }
  if (required && protocol::is_blank(s)) {
    out.push_back({key, "must not be empty"});
    return std::nullopt;
  }
  return s;
}

// A list of agent ids, each once.
std::vector<std::string> agent_list(const json& j, const char* key, std::size_t max, std::vector<problem>& out) {
  std::vector<std::string> ids;
  const auto& v = j.at(key);
  if (!v.is_array()) {
    out.push_back({key, "must be a list of agent ids"});
    return ids;
  }
  if (v.size() > max) out.push_back({key, "holds more than " + std::to_string(max) + " agents"});
  for (std::size_t i = 0; i < v.size() && i < max; ++i) {
    const auto where = std::string{key} + "[" + std::to_string(i) + "]";
    if (!v[i].is_string() || !is_id(v[i].get<std::string>())) {
      out.push_back({where, "must be an agent id"});
      continue;
    }
    auto id = v[i].get<std::string>();
    if (std::find(ids.begin(), ids.end(), id) != ids.end()) out.push_back({where, "names the agent twice"});
    else ids.push_back(std::move(id));
  }
  return ids;
}

bool is_host_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'; }

// A CSV record's fields (RFC 4180): quoted fields may hold commas, line breaks and "".
// `at` moves past the record and its line break; false on an unclosed quote.
bool csv_record(std::string_view text, std::size_t& at, std::vector<std::string>& fields, std::size_t& lines) {
  fields.assign(1, {});
  bool quoted = false;
  while (at < text.size()) {
    const char c = text[at++];
    if (quoted) {
      if (c == '"' && at < text.size() && text[at] == '"') {
        fields.back() += '"';
        ++at;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++lines;
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c == '\n') {
      ++lines;
      break;
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return !quoted;
}

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

} // namespace

std::string account::key() const { return domain.empty() ? "company:" + company : "domain:" + domain; }

std::vector<account> one_per_key(const account& a) {
  std::vector<account> out;
  if (!a.domain.empty()) out.push_back({a.domain, {}, a.agent_id});
  if (!a.company.empty()) out.push_back({{}, a.company, a.agent_id});
  return out;
}

std::string normalize_domain(std::string_view text) {
  std::string s = lower(text);
  if (auto scheme = s.find("://"); scheme != std::string::npos) s.erase(0, scheme + 3);
  if (auto at = s.rfind('@'); at != std::string::npos) s.erase(0, at + 1); // an email's domain
  s = s.substr(0, s.find_first_of("/?#"));
  s = s.substr(0, s.find(':'));
  while (!s.empty() && (s.back() == '.' || s.back() == ' ')) s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  while (s.rfind("www.", 0) == 0) s.erase(0, 4);
  if (s.empty() || s.size() > 253 || s.find('.') == std::string::npos || s.front() == '.' ||
      s.find("..") != std::string::npos || !std::all_of(s.begin(), s.end(), is_host_char))
    return {};
  // Each label: letters, digits and inner hyphens; the last one not all digits (an address).
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto end = std::min(s.find('.', start), s.size());
    const auto label = std::string_view{s}.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return {};
    if (end == s.size() && std::all_of(label.begin(), label.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return {};
    start = end + 1;
  }
  return s;
}

std::string normalize_company(std::string_view text) {
  // Words, lower case, with punctuation as a break: "Acme, Inc." -> {acme, inc}. "&" is a
  // word of its own, so "AT&T" and "AT & T" read alike.
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u == 0xC3 && i + 1 < text.size()) { // Latin-1 letters: À..Þ (but ×) lower-cased
      auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9E && next != 0x97) next = static_cast<unsigned char>(next + 0x20);
      word += static_cast<char>(u);
      word += static_cast<char>(next);
      ++i;
    } else if (std::isalnum(u) || u >= 0x80) {
      word += static_cast<char>(std::tolower(u));
    } else if (u == '\'') {
      continue; // "McDonald's" and "McDonalds" are one
    } else if (u == '&') {
      flush();
      words.emplace_back("&");
    } else {
      flush();
    }
  }
  flush();
  // Dotted initials are one word: "B.V." is "bv", "S.A." is "sa".
  auto initial = [](const std::string& w) { return w.size() == 1 && std::isalpha(static_cast<unsigned char>(w[0])); };
  std::vector<std::string> joined;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (initial(words[i]) && i + 1 < words.size() && initial(words[i + 1])) {
      std::string run;
      while (i < words.size() && initial(words[i])) run += words[i++];
      joined.push_back(std::move(run));
      --i;
    } else {
      joined.push_back(std::move(words[i]));
    }
  }
  static const std::array<std::string_view, 28> legal_forms = {
    "inc", "incorporated", "llc", "llp", "lp", "ltd", "limited", "corp", "corporation", "co", "company", "gmbh", "ag", "kg",
    "sa", "sas", "sarl", "spa", "srl", "bv", "nv", "plc", "oy", "ab", "as", "pty", "pte", "&"};
  while (joined.size() > 1 && std::find(legal_forms.begin(), legal_forms.end(), joined.back()) != legal_forms.end())
    joined.pop_back();
  std::string out;
  for (std::size_t i = 0; i < joined.size(); ++i) {
    const bool tight = i > 0 && (joined[i] == "&" || joined[i - 1] == "&");
    if (i > 0 && !tight) out += ' ';
    out += joined[i];
  }
  return out;
}

std::string_view to_string(rule_scope s) noexcept {
  switch (s) {
    case rule_scope::meetings: return "meetings";
    case rule_scope::live_chat: return "live_chat";
    case rule_scope::both: break;
  }
  return "both";
}

rule_decoded decode_rule(const json& body, const rule_limits& lim) {
  rule_decoded out;
  auto& p = out.problems;
  if (!only_keys(body, {"name", "priority", "applies_to", "match", "conditions", "agents", "team"}, p)) return out;
  rule r;
  r.name = text(body, "name", true, max_name_bytes, p).value_or("");
  if (body.contains("priority")) {
    const auto& v = body.at("priority");
    if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > 1000)
      p.push_back({"priority", "must be a whole number from 1 (tried first) to 1000"});
    else
      r.priority = v.get<std::uint32_t>();
  }
  if (auto scope = text(body, "applies_to", false, 16, p)) {
    if (*scope == "meetings") r.scope = rule_scope::meetings;
    else if (*scope == "live_chat") r.scope = rule_scope::live_chat;
    else if (*scope != "both") p.push_back({"applies_to", "must be meetings, live_chat or both"});
  }
  if (auto match = text(body, "match", false, 8, p)) {
    if (*match == "any") r.match_all = false;
    else if (*match != "all") p.push_back({"match", "must be all or any"});
  }
  if (body.contains("conditions")) {
    const auto& list = body.at("conditions");
    if (!list.is_array()) {
      p.push_back({"conditions", "must be a list"});
    } else if (list.size() > lim.max_conditions) {
      p.push_back({"conditions", "holds more than " + std::to_string(lim.max_conditions) + " conditions"});
    } else {
      for (std::size_t i = 0; i < list.size(); ++i)
        r.conditions.push_back(dialogue::decode_condition(list[i], "conditions[" + std::to_string(i) + "]", p));
    }
  }
  const bool has_agents = body.contains("agents"), has_team = body.contains("team");
  if (has_agents == has_team) p.push_back({"agents", "give either agents (a list of agent ids) or team (a team id)"});
  if (has_agents) {
    r.agent_ids = agent_list(body, "agents", lim.max_members, p);
    if (r.agent_ids.empty() && body.at("agents").is_array()) p.push_back({"agents", "must name an agent"});
  }
  if (has_team) {
    auto team = text(body, "team", true, 64, p);
    if (team && !is_id(*team)) p.push_back({"team", "must be a team id"});
    else if (team) r.team_id = *team;
  }
  if (p.empty()) out.value = std::move(r);
  return out;
}

team_decoded decode_team(const json& body, const rule_limits& lim) {
  team_decoded out;
  auto& p = out.problems;
  if (!only_keys(body, {"name", "agents"}, p)) return out;
  team t;
  t.name = text(body, "name", true, max_name_bytes, p).value_or("");
  if (!body.contains("agents")) p.push_back({"agents", "is required"});
  else t.agent_ids = agent_list(body, "agents", lim.max_members, p);
  if (p.empty()) out.value = std::move(t);
  return out;
}

account_decoded decode_account(const json& body) {
  account_decoded out;
  auto& p = out.problems;
  if (!only_keys(body, {"domain", "company", "agent_id"}, p)) return out;
  account a;
  if (auto d = text(body, "domain", false, 253, p); d && !d->empty()) {
    a.domain = normalize_domain(*d);
    if (a.domain.empty()) p.push_back({"domain", "is not a domain name (acme.com)"});
  }
  if (auto c = text(body, "company", false, max_name_bytes, p); c && !c->empty()) {
    a.company = normalize_company(*c);
    if (a.company.empty()) p.push_back({"company", "holds no letters or digits"});
  }
  if (!body.contains("domain") && !body.contains("company")) p.push_back({"domain", "give a domain, a company or both"});
  if (auto id = text(body, "agent_id", true, 64, p); id && !is_id(*id)) p.push_back({"agent_id", "must be an agent id"});
  else if (id) a.agent_id = *id;
  if (p.empty() && a.domain.empty() && a.company.empty()) p.push_back({"domain", "give a domain, a company or both"});
  if (p.empty()) out.value = std::move(a);
  return out;
}

json to_json(const rule& r) {
  auto conditions = json::array();
  for (const auto& c : r.conditions) conditions.push_back(dialogue::to_json(c));
  json j{{"id", r.id},
         {"name", r.name},
         {"priority", r.priority},
         {"applies_to", to_string(r.scope)},
         {"match", r.match_all ? "all" : "any"},
         {"conditions", conditions}};
  if (r.team_id.empty()) j["agents"] = r.agent_ids;
  else j["team"] = r.team_id;
  return j;
}

json to_json(const team& t) { return json{{"id", t.id}, {"name", t.name}, {"agents", t.agent_ids}}; }

json to_json(const account& a) {
  return json{{"key", a.key()}, {"domain", a.domain}, {"company", a.company}, {"agent_id", a.agent_id}};
}

csv_accounts parse_accounts_csv(std::string_view text, std::size_t max_rows) {
  csv_accounts out;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3); // a spreadsheet's byte-order mark
  std::size_t at = 0, lines = 0;
  std::vector<std::string> fields;
  if (!csv_record(text, at, fields, lines)) {
    out.problems.push_back({"line 1", "a quote is not closed"});
    return out;
  }
  int domain_col = -1, company_col = -1, agent_col = -1;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto name = lower(trimmed(fields[i]));
    if (name == "domain" || name == "website") domain_col = static_cast<int>(i);
    else if (name == "company" || name == "account" || name == "company name") company_col = static_cast<int>(i);
    else if (name == "agent" || name == "owner" || name == "agent_id" || name == "owner email") agent_col = static_cast<int>(i);
  }
  if (agent_col < 0 || (domain_col < 0 && company_col < 0)) {
    out.problems.push_back({"line 1", "the header must name an agent column and a domain or company column "
                                      "(domain,company,agent)"});
    return out;
  }
  auto field = [&](int col) { return col >= 0 && static_cast<std::size_t>(col) < fields.size() ? trimmed(fields[col]) : ""; };
  while (at < text.size()) {
    const auto line = lines + 1;
    if (!csv_record(text, at, fields, lines)) {
      out.problems.push_back({"line " + std::to_string(line), "a quote is not closed"});
      break;
    }
    if (fields.size() == 1 && trimmed(fields[0]).empty()) continue; // a blank line
    if (out.rows.size() == max_rows) {
      out.problems.push_back({"line " + std::to_string(line), "more than " + std::to_string(max_rows) + " accounts"});
      break;
    }
    csv_account row{line, field(domain_col), field(company_col), field(agent_col)};
    if (!protocol::is_valid_utf8(row.domain) || !protocol::is_valid_utf8(row.company) || !protocol::is_valid_utf8(row.agent)) {
      out.problems.push_back({"line " + std::to_string(line), "is not UTF-8 text (save the CSV as UTF-8)"});
      continue;
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

} // namespace dynchat::routing
