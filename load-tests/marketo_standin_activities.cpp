#include "marketo_standin_activities.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace dynchat::testing::standin {
namespace {

using json = nlohmann::json;

// The generated activities of every lead: kind k has id 4n + k and comes `offset` seconds
// after the lead was created.
struct generated_kind {
  int type_id;
  std::int64_t offset;
};
constexpr std::array<generated_kind, 4> kinds{{{0, 0}, {12, 0}, {1, 600}, {2, 1200}}}; // index 0 unused

constexpr char base32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string base32(std::string_view in) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += base32_alphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += base32_alphabet[(buffer << (5 - bits)) & 31];
  while (out.size() % 8) out += '=';
  return out;
}

std::optional<std::string> unbase32(std::string_view in) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= '2' && c <= '7') v = c - '2' + 26;
    if (v < 0) return std::nullopt;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return out;
}

attribute_def attr(std::string api, std::string name, std::string type = "string", std::string description = {}) {
  return attribute_def{std::move(api), std::move(name), std::move(description), std::move(type)};
}

std::vector<activity_type> make_types() {
  std::vector<activity_type> t;
  t.push_back({1, false, "", "Visit Webpage", "User visits a web page", "", "", attr("", "Webpage ID", "integer"),
               {attr("", "Client IP Address"), attr("", "Query Parameters"), attr("", "Referrer URL"),
                attr("", "User Agent"), attr("", "Webpage URL")}});
  t.push_back({2, false, "", "Fill Out Form", "User fills out and submits form on web page", "", "",
               attr("", "Webform ID", "integer"),
               {attr("", "Client IP Address"), attr("", "Form Fields", "text"), attr("", "Query Parameters"),
                attr("", "Referrer URL"), attr("", "User Agent"), attr("", "Webpage ID", "integer")}});
  t.push_back({12, false, "", "New Lead", "New person", "", "", std::nullopt,
               {attr("", "Source Type"), attr("", "Lead Source")}});
  // The custom types dynchat writes (Marketo numbers custom types from 100000).
  auto custom = [&](int id, std::string api, std::string name, std::string desc, std::string trigger,
                    std::string filter, attribute_def primary, std::vector<attribute_def> attributes) {
    // What every dynchat type carries (docs/marketo.md): the delivery's id, the
    // conversation's status and score.
    attributes.insert(attributes.begin(), {attr("dynchatId", "Dynchat ID"), attr("status", "Status"), attr("score", "Score")});
    t.push_back({id, true, std::move(api), std::move(name), std::move(desc), std::move(trigger), std::move(filter),
                 std::move(primary), std::move(attributes)});
  };
  custom(100001, "dynchat_dialogue_engaged", "Engage Dynchat Dialogue", "The visitor answered a dialogue",
         "Engages Dynchat Dialogue", "Engaged Dynchat Dialogue",
         attr("dialogueName", "Dialogue Name", "string", "Name of the dialogue"),
         {attr("conversationId", "Conversation ID"), attr("pageUrl", "Page URL"), attr("channel", "Channel")});
  custom(100002, "dynchat_goal_reached", "Reach Dynchat Goal", "The visitor reached a dialogue's goal",
         "Reaches Dynchat Goal", "Reached Dynchat Goal", attr("goalName", "Goal Name", "string", "Name of the goal"),
         {attr("dialogueName", "Dialogue Name"), attr("conversationId", "Conversation ID"),
          attr("pageUrl", "Page URL")});
  custom(100003, "dynchat_document_opened", "Open Dynchat Document", "The visitor opened a document offered",
         "Opens Dynchat Document", "Opened Dynchat Document",
         attr("documentName", "Document Name", "string", "Name of the document"),
         {attr("documentUrl", "Document URL"), attr("conversationId", "Conversation ID"),
          attr("dialogueName", "Dialogue Name")});
  custom(100004, "dynchat_agent_engaged", "Engage Dynchat Agent", "The visitor talked with an agent",
         "Engages Dynchat Agent", "Engaged Dynchat Agent",
         attr("agentName", "Agent Name", "string", "Name of the agent"),
         {attr("agentEmail", "Agent Email"), attr("conversationId", "Conversation ID"), attr("pageUrl", "Page URL")});
  custom(100005, "dynchat_meeting_scheduled", "Schedule Dynchat Meeting", "The visitor booked a meeting",
         "Schedules Dynchat Meeting", "Scheduled Dynchat Meeting",
         attr("meetingTitle", "Meeting Title", "string", "Title of the meeting"),
         {attr("agentEmail", "Agent Email"), attr("meetingStart", "Meeting Start"),
          attr("conversationId", "Conversation ID"), attr("timeZone", "Time Zone")});
  return t;
}

} // namespace

const attribute_def* activity_type::attribute(std::string_view key) const {
  for (const auto& a : attributes)
    if ((!a.api_name.empty() && a.api_name == key) || a.name == key) return &a;
  return nullptr;
}

std::string encode_paging_token(activity_position p) {
  return base32(std::to_string(p.date) + ":" + std::to_string(p.id));
}

std::optional<activity_position> decode_paging_token(std::string_view token) {
  const auto text = unbase32(token);
  if (!text) return std::nullopt;
  const auto colon = text->find(':');
  if (colon == std::string::npos) return std::nullopt;
  activity_position p;
  const char* b = text->data();
  const char* e = b + text->size();
  if (std::from_chars(b, b + colon, p.date).ptr != b + colon) return std::nullopt;
  if (std::from_chars(b + colon + 1, e, p.id).ptr != e || colon + 1 == text->size()) return std::nullopt;
  return p;
}

activity_log::activity_log(lead_generator gen, std::int64_t types_created_at)
  : gen_(std::move(gen)), types_(make_types()), types_created_at_(types_created_at), next_id_(4 * gen_.count + 4) {}

const activity_type* activity_log::type(int id) const {
  for (const auto& t : types_)
    if (t.id == id) return &t;
  return nullptr;
}

const activity_type* activity_log::custom_type(std::string_view api_name) const {
  for (const auto& t : types_)
    if (t.custom && t.api_name == api_name) return &t;
  return nullptr;
}

std::uint64_t activity_log::add(activity a) {
  a.id = next_id_++;
  const activity_position key{a.date, a.id};
  added_by_lead_.emplace(a.lead_id, key);
  added_.emplace(key, std::move(a));
  return key.id;
}

activity activity_log::generated(std::uint64_t n, unsigned kind) const {
  activity a;
  a.id = 4 * n + kind;
  a.lead_id = n;
  a.type_id = kinds[kind].type_id;
  a.date = gen_.created_at(n) + kinds[kind].offset;
  const auto site = "example" + std::to_string(n % 97) + ".com";
  const auto ip = "10." + std::to_string((n >> 16) & 255) + "." + std::to_string((n >> 8) & 255) + "." +
                  std::to_string(n & 255);
  const std::string agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0";
  switch (kind) {
  case 1:
    a.attributes = {{"Source Type", "Web form fillout"}, {"Lead Source", "Website"}};
    break;
  case 2: {
    const auto page = n % 20;
    a.primary_value_id = static_cast<std::int64_t>(100 + page);
    a.primary_value = site + "/page" + std::to_string(page) + ".html";
    a.attributes = {{"Client IP Address", ip},
                    {"Query Parameters", ""},
                    {"Referrer URL", "https://www.google.com/"},
                    {"User Agent", agent},
                    {"Webpage URL", "/page" + std::to_string(page) + ".html"}};
    break;
  }
  default: {
    const auto form = static_cast<std::int64_t>(1000 + n % 7);
    a.primary_value_id = form;
    a.primary_value = "Contact Us " + std::to_string(form);
    a.attributes = {{"Client IP Address", ip},
                    {"Form Fields", json{{"Email", gen_.email(n)}}.dump()},
                    {"Query Parameters", ""},
                    {"Referrer URL", "https://" + site + "/"},
                    {"User Agent", agent},
                    {"Webpage ID", static_cast<std::int64_t>(100 + n % 20)}};
    break;
  }
  }
  return a;
}

std::uint64_t activity_log::first_after(unsigned kind, activity_position p) const {
  std::uint64_t lo = 1, hi = gen_.count + 1;
  while (lo < hi) {
    const auto mid = lo + (hi - lo) / 2;
    const activity_position at{gen_.created_at(mid) + kinds[kind].offset, 4 * mid + kind};
    if (at <= p)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

activity_log::page activity_log::list(activity_position after, const std::set<int>& types,
                                      const std::vector<std::uint64_t>* leads, std::size_t batch) const {
  page out;
  out.next = after;
  auto wanted = [&](int type_id) { return types.contains(type_id); };
  auto generated_exists = [&](std::uint64_t n, unsigned kind) {
    return n >= 1 && n <= gen_.count && gen_.created_at(n) + kinds[kind].offset <= gen_.now;
  };

  if (leads) {
    std::vector<activity> found;
    std::set<std::uint64_t> seen;
    for (auto id : *leads) {
      if (!seen.insert(id).second) continue;
      for (unsigned k = 1; k < kinds.size(); ++k) {
        if (!wanted(kinds[k].type_id) || !generated_exists(id, k)) continue;
        auto a = generated(id, k);
        if (activity_position{a.date, a.id} > after) found.push_back(std::move(a));
      }
      const auto [b, e] = added_by_lead_.equal_range(id);
      for (auto it = b; it != e; ++it) {
        const auto& a = added_.at(it->second);
        if (wanted(a.type_id) && it->second > after) found.push_back(a);
      }
    }
    std::sort(found.begin(), found.end(),
              [](const activity& x, const activity& y) { return std::pair{x.date, x.id} < std::pair{y.date, y.id}; });
    out.more = found.size() > batch;
    if (out.more) found.resize(batch);
    out.items = std::move(found);
  } else {
    // Merge the generated kinds and the added activities, in (date, id) order.
    struct stream {
      unsigned kind;
      std::uint64_t n;
    };
    std::vector<stream> streams;
    for (unsigned k = 1; k < kinds.size(); ++k)
      if (wanted(kinds[k].type_id)) streams.push_back({k, first_after(k, after)});
    auto added = added_.upper_bound(after);
    auto skip_unwanted = [&] {
      while (added != added_.end() && !wanted(added->second.type_id)) ++added;
    };
    skip_unwanted();
    for (;;) {
      std::optional<activity_position> best;
      stream* best_stream = nullptr;
      for (auto& s : streams) {
        if (!generated_exists(s.n, s.kind)) continue;
        const activity_position at{gen_.created_at(s.n) + kinds[s.kind].offset, 4 * s.n + s.kind};
        if (!best || at < *best) {
          best = at;
          best_stream = &s;
        }
      }
      if (added != added_.end() && (!best || added->first < *best)) {
        best = added->first;
        best_stream = nullptr;
      }
      if (!best) break;
      if (out.items.size() == batch) {
        out.more = true;
        break;
      }
      if (best_stream) {
        out.items.push_back(generated(best_stream->n, best_stream->kind));
        ++best_stream->n;
      } else {
        out.items.push_back(added->second);
        ++added;
        skip_unwanted();
      }
    }
  }
  if (!out.items.empty()) out.next = {out.items.back().date, out.items.back().id};
  return out;
}

} // namespace dynchat::testing::standin
