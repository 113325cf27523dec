// Leads (leads.md, lead-database.md) and activities (activities.md, paging-tokens.md).
#include <algorithm>
#include <charconv>
#include <cctype>
#include <set>
#include <variant>

#include "marketo_standin_impl.hpp"

namespace dynchat::testing {

using standin::clock;
using standin::json;
using outcome = marketo_standin::impl::outcome;

namespace {

constexpr std::size_t max_batch = 300;

std::optional<std::uint64_t> to_uint(std::string_view s) {
  std::uint64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

bool is_json_content(const served_request& r) {
  auto t = r.header("Content-Type");
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t.find("application/json") != std::string::npos;
}

// A field value as Sync Leads takes it: JSON strings, numbers, booleans; null is empty.
std::optional<std::string> text_of(const nlohmann::json& v) {
  if (v.is_null()) return std::string{};
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return std::string{v.get<bool>() ? "true" : "false"};
  if (v.is_number()) return v.dump();
  return std::nullopt;
}

json typed(const standin::field_def& f, const std::string& text) {
  using t = standin::field_type;
  if (text.empty()) return nullptr;
  switch (f.type) {
  case t::integer:
    if (const auto v = to_int(text)) return *v;
    break;
  case t::currency:
    try {
      return std::stod(text);
    } catch (...) {
    }
    break;
  case t::boolean: return text == "true";
  default: break;
  }
  return text;
}

// A value as an error message quotes it: a string's text, anything else as JSON.
std::string shown(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

int batch_size(const standin::request& q) {
  const auto b = q.param("batchSize");
  if (b.empty()) return static_cast<int>(max_batch);
  const auto v = to_uint(b);
  if (!v || *v == 0) return -1;
  return static_cast<int>(std::min<std::uint64_t>(*v, max_batch));
}

} // namespace

json marketo_standin::impl::lead_json(std::uint64_t id, const std::vector<int>& fields) const {
  json o = json::object();
  for (int f : fields) {
    const auto& def = catalog->at(f);
    o[def.name] = typed(def, leads.value(id, f));
  }
  return o;
}

outcome marketo_standin::impl::describe_leads(const request&) {
  json result = json::array();
  for (const auto& f : catalog->fields()) {
    json o = json::object();
    o["id"] = f.describe_id;
    o["displayName"] = f.display_name;
    o["dataType"] = std::string{standin::type_name(f.type)};
    if (f.length) o["length"] = f.length;
    o["rest"] = json{{"name", f.name}, {"readOnly", f.read_only}};
    if (!f.soap_name.empty()) o["soap"] = json{{"name", f.soap_name}, {"readOnly", f.read_only}};
    result.push_back(std::move(o));
  }
  return ok(std::move(result));
}

namespace {

// `fields` of a lead query: the documented default, or the fields named (all known).
std::variant<std::vector<int>, std::string> query_fields(const standin::field_catalog& c, const standin::request& q) {
  auto names = q.list("fields");
  if (names.empty()) names = {"id", "email", "updatedAt", "createdAt", "firstName", "lastName"};
  std::vector<int> out;
  for (const auto& n : names) {
    const int f = c.index_of(n);
    if (f < 0) return n;
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  }
  return out;
}

} // namespace

outcome marketo_standin::impl::get_leads(const request& q) {
  const auto type = q.param("filterType");
  if (type.empty()) return error(701, "filterType cannot be blank");
  const auto values = q.list("filterValues");
  if (values.empty()) return error(701, "filterValues cannot be blank");
  if (values.size() > max_batch) return error(1003, "Too many filterValues, at most 300");
  auto fields = query_fields(*catalog, q);
  if (auto* bad = std::get_if<std::string>(&fields)) return error(1006, "Field '" + *bad + "' not found");
  const int batch = batch_size(q);
  if (batch < 0) return error(1001, "Invalid value '" + q.param("batchSize") + "'. Required of type 'integer'");

  std::vector<std::uint64_t> ids;
  if (type == "id") {
    for (const auto& v : values) {
      const auto id = to_uint(v);
      if (!id) return error(1001, "Invalid value '" + v + "'. Required of type 'integer'");
      if (leads.exists(*id)) ids.push_back(*id);
    }
  } else if (type == "email") {
    for (const auto& v : values)
      for (auto id : leads.find_by_email(v)) ids.push_back(id);
  } else if (type == "cookies" || type == "cookie") {
    // The `_mkto_trk` value, id:…&token:… (leads.md, error-codes.md 1012).
    for (const auto& v : values) {
      const auto token = standin::token_of(v);
      if (!token || (v.starts_with("id:") && v.find("&token:") == std::string::npos))
        return error(1012, "Invalid cookie value '" + v + "'");
      if (v.starts_with("id:") && v.substr(3, v.find('&') - 3) != opt.munchkin_id) continue;
      if (const auto id = leads.find_by_token(*token)) ids.push_back(*id);
    }
  } else {
    const int f = catalog->index_of(type);
    if (f < 0) return error(1006, "Field '" + type + "' not found");
    if (catalog->at(f).kind != standin::field_kind::custom) return error(1011, "Field '" + type + "' not supported");
    const std::set<std::string> wanted(values.begin(), values.end());
    for (std::uint64_t id = 1; id <= leads.last_id(); ++id) {
      if (wanted.contains(leads.value(id, f))) ids.push_back(id);
      if (ids.size() > 1000) break;
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.size() > 1000) return error(1003, "Too many results match the filter");

  // Position-based paging (paging-tokens.md): the token is the offset reached.
  std::size_t from = 0;
  if (const auto token = q.param("nextPageToken"); !token.empty()) {
    const auto p = standin::decode_paging_token(token);
    if (!p || p->date != -1) return error(1003, "Invalid nextPageToken");
    from = static_cast<std::size_t>(p->id);
  }
  const auto& list = std::get<std::vector<int>>(fields);
  json result = json::array();
  const auto to = std::min(ids.size(), from + static_cast<std::size_t>(batch));
  for (auto i = from; i < to; ++i) result.push_back(lead_json(ids[i], list));
  json body = json::object();
  body["result"] = std::move(result);
  if (to < ids.size()) {
    body["moreResult"] = true;
    body["nextPageToken"] = standin::encode_paging_token({-1, to});
  }
  return ok_envelope(std::move(body));
}

outcome marketo_standin::impl::get_lead(const request& q, std::string_view id_text) {
  const auto id = to_uint(id_text);
  if (!id) return error(1001, "Invalid value '" + std::string{id_text} + "'. Required of type 'integer'");
  auto fields = query_fields(*catalog, q);
  if (auto* bad = std::get_if<std::string>(&fields)) return error(1006, "Field '" + *bad + "' not found");
  json result = json::array();
  if (leads.exists(*id)) result.push_back(lead_json(*id, std::get<std::vector<int>>(fields)));
  return ok(std::move(result));
}

outcome marketo_standin::impl::sync_leads(const request& q) {
  if (!is_json_content(q.raw)) return error(612);
  const auto body = nlohmann::json::parse(q.raw.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return error(609);
  const std::string action = body.value("action", "createOrUpdate");
  if (action != "createOrUpdate" && action != "createOnly" && action != "updateOnly" && action != "createDuplicate")
    return error(1003, "Invalid action '" + action + "'");
  const std::string lookup = body.value("lookupField", "email");
  if (lookup != "email" && lookup != "id") return error(1011, "Field '" + lookup + "' not supported");
  if (lookup == "id" && action != "updateOnly") return error(1003, "Lookup field 'id' requires action updateOnly");
  const auto input = body.find("input");
  if (input == body.end() || !input->is_array() || input->empty()) return error(701, "input cannot be blank");
  if (input->size() > max_batch) return error(1003, "Too many records in input, at most 300");

  const auto now = standin::to_unix(q.now);
  const int email_field = catalog->index_of("email");
  json result = json::array();
  auto skipped = [&](unsigned code, std::string message) {
    json r = json::object();
    r["status"] = "skipped";
    r["reasons"] = json::array({json{{"code", std::to_string(code)}, {"message", std::move(message)}}});
    result.push_back(std::move(r));
  };
  for (const auto& rec : *input) {
    leads_pushed.push_back(rec);
    if (!rec.is_object()) {
      skipped(1003, "Invalid data");
      continue;
    }
    standin::field_values values;
    std::optional<std::uint64_t> given_id;
    std::string problem;
    unsigned problem_code = 0;
    for (const auto& [key, v] : rec.items()) {
      if (key == "id") {
        if (!v.is_number_unsigned() && !(v.is_string() && to_uint(v.get<std::string>()))) {
          problem_code = 1001;
          problem = "Invalid value '" + shown(v) + "'. Required of type 'integer'";
          break;
        }
        given_id = v.is_string() ? *to_uint(v.get<std::string>()) : v.get<std::uint64_t>();
        continue;
      }
      const int f = catalog->index_of(key);
      if (f < 0) {
        problem_code = 1006;
        problem = "Field '" + key + "' not found";
        break;
      }
      if (catalog->at(f).read_only) continue; // createdAt, updatedAt: the system's
      const auto text = text_of(v);
      if (!text) {
        problem_code = 1001;
        problem = "Invalid value '" + shown(v) + "' for field '" + key + "'";
        break;
      }
      values.emplace_back(f, *text);
    }
    if (problem_code) {
      skipped(problem_code, problem);
      continue;
    }
    // `id` only as the key of an update (leads.md).
    if (given_id && lookup != "id") {
      skipped(1003, "Invalid data");
      continue;
    }
    std::vector<std::uint64_t> matches;
    if (lookup == "id") {
      if (!given_id) {
        skipped(1003, "Value for lookup field 'id' not specified");
        continue;
      }
      if (leads.exists(*given_id)) matches.push_back(*given_id);
    } else if (action != "createDuplicate") {
      const auto e = std::find_if(values.begin(), values.end(), [&](const auto& p) { return p.first == email_field; });
      if (e == values.end() || e->second.empty()) {
        if (action != "createOnly") {
          skipped(1003, "Value for lookup field 'email' not specified");
          continue;
        }
      } else {
        matches = leads.find_by_email(e->second);
      }
    }
    json r = json::object();
    if (action == "createDuplicate" || (matches.empty() && action != "updateOnly")) {
      if (action == "createOnly" && !matches.empty()) {
        skipped(1005, "Lead already exists");
        continue;
      }
      const auto id = leads.create(values, now);
      standin::activity a;
      a.lead_id = id;
      a.date = now;
      a.type_id = 12;
      a.attributes = {{"Source Type", "Web service API"}, {"Lead Source", "Web service API"}};
      activities.add(std::move(a));
      r["id"] = id;
      r["status"] = "created";
    } else if (matches.empty()) {
      skipped(1004, "Lead not found");
      continue;
    } else if (matches.size() > 1) {
      skipped(1007, "Multiple leads match the lookup criteria");
      continue;
    } else if (action == "createOnly") {
      skipped(1005, "Lead already exists");
      continue;
    } else {
      leads.update(matches.front(), values, now);
      r["id"] = matches.front();
      r["status"] = "updated";
    }
    result.push_back(std::move(r));
  }
  return ok(std::move(result));
}

// --- activities ---

json marketo_standin::impl::activity_json(const standin::activity& a) const {
  json o = json::object();
  o["id"] = a.id;
  o["marketoGUID"] = std::to_string(a.id);
  o["leadId"] = a.lead_id;
  o["activityDate"] = standin::format_time(a.date);
  o["activityTypeId"] = a.type_id;
  if (a.primary_value_id) o["primaryAttributeValueId"] = *a.primary_value_id;
  if (a.primary_value) o["primaryAttributeValue"] = *a.primary_value;
  json attrs = json::array();
  for (const auto& [name, value] : a.attributes) attrs.push_back(json{{"name", name}, {"value", value}});
  o["attributes"] = std::move(attrs);
  return o;
}

outcome marketo_standin::impl::paging_token(const request& q) {
  const auto since = q.param("sinceDatetime");
  if (since.empty()) return error(701, "sinceDatetime cannot be blank");
  const auto t = standin::parse_time(since);
  if (!t) return error(704, "Invalid date format: '" + since + "'");
  json body = json::object();
  body["nextPageToken"] = standin::encode_paging_token({*t, 0});
  return ok_envelope(std::move(body));
}

outcome marketo_standin::impl::get_activities(const request& q) {
  const auto token = q.param("nextPageToken");
  if (token.empty()) return error(701, "nextPageToken cannot be blank");
  const auto after = standin::decode_paging_token(token);
  if (!after || after->date == -1) return error(1003, "Invalid nextPageToken");
  const auto type_texts = q.list("activityTypeIds");
  if (type_texts.empty()) return error(701, "activityTypeIds cannot be blank");
  if (type_texts.size() > 10) return error(1003, "Too many activityTypeIds, at most 10");
  std::set<int> types;
  for (const auto& t : type_texts) {
    const auto v = to_int(t);
    if (!v) return error(1001, "Invalid value '" + t + "'. Required of type 'integer'");
    types.insert(static_cast<int>(*v));
  }
  if (q.has("listId")) return error(1013, "List not found");
  std::optional<std::vector<std::uint64_t>> lead_ids;
  if (const auto texts = q.list("leadIds"); !texts.empty()) {
    if (texts.size() > 30) return error(1003, "Too many leadIds, at most 30");
    lead_ids.emplace();
    for (const auto& t : texts) {
      const auto v = to_uint(t);
      if (!v) return error(1001, "Invalid value '" + t + "'. Required of type 'integer'");
      lead_ids->push_back(*v);
    }
  }
  const int batch = batch_size(q);
  if (batch < 0) return error(1001, "Invalid value '" + q.param("batchSize") + "'. Required of type 'integer'");

  const auto page = activities.list(*after, types, lead_ids ? &*lead_ids : nullptr, static_cast<std::size_t>(batch));
  json body = json::object();
  // Marketo leaves `result` out when nothing is new; nextPageToken is always there.
  if (!page.items.empty()) {
    json result = json::array();
    for (const auto& a : page.items) result.push_back(activity_json(a));
    body["result"] = std::move(result);
  }
  body["nextPageToken"] = standin::encode_paging_token(page.next);
  body["moreResult"] = page.more;
  return ok_envelope(std::move(body));
}

namespace {

json attribute_json(const standin::attribute_def& a, bool custom) {
  json o = json::object();
  if (custom) o["apiName"] = a.api_name;
  o["name"] = a.name;
  if (custom && !a.description.empty()) o["description"] = a.description;
  o["dataType"] = a.data_type;
  return o;
}

json custom_type_json(const standin::activity_type& t, std::int64_t at, bool with_attributes) {
  json o = json::object();
  o["id"] = t.id;
  o["apiName"] = t.api_name;
  o["name"] = t.name;
  o["description"] = t.description;
  o["triggerName"] = t.trigger_name;
  o["filterName"] = t.filter_name;
  o["createdAt"] = standin::format_time(at);
  o["updatedAt"] = standin::format_time(at);
  o["status"] = "approved";
  if (with_attributes) {
    if (t.primary) o["primaryAttribute"] = attribute_json(*t.primary, true);
    json attrs = json::array();
    for (const auto& a : t.attributes) attrs.push_back(attribute_json(a, true));
    o["attributes"] = std::move(attrs);
  }
  return o;
}

} // namespace

outcome marketo_standin::impl::activity_types(const request&) {
  json result = json::array();
  for (const auto& t : activities.types()) {
    json o = json::object();
    o["id"] = t.id;
    o["name"] = t.name;
    o["description"] = t.description;
    if (t.primary) o["primaryAttribute"] = json{{"name", t.primary->name}, {"dataType", t.primary->data_type}};
    json attrs = json::array();
    for (const auto& a : t.attributes) attrs.push_back(json{{"name", a.name}, {"dataType", a.data_type}});
    o["attributes"] = std::move(attrs);
    result.push_back(std::move(o));
  }
  return ok(std::move(result));
}

outcome marketo_standin::impl::custom_activity_types(const request&) {
  json result = json::array();
  for (const auto& t : activities.types())
    if (t.custom) result.push_back(custom_type_json(t, activities.types_created_at(), true));
  return ok(std::move(result));
}

outcome marketo_standin::impl::describe_custom_activity_type(const request&, std::string_view api_name) {
  const auto* t = activities.custom_type(api_name);
  if (!t) return error(1013, "Object not found");
  return ok(json::array({custom_type_json(*t, activities.types_created_at(), true)}));
}

outcome marketo_standin::impl::add_custom_activities(const request& q) {
  if (!is_json_content(q.raw)) return error(612);
  const auto body = nlohmann::json::parse(q.raw.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return error(609);
  const auto input = body.find("input");
  if (input == body.end() || !input->is_array() || input->empty()) return error(701, "input cannot be blank");
  if (input->size() > max_batch) return error(1003, "Too many records in input, at most 300");

  json result = json::array();
  for (const auto& rec : *input) {
    external_received.push_back(rec);
    // activities.md shows a skipped record's reasons as "errors", error-codes.md as
    // "reasons": both are given.
    auto skip = [&](unsigned code, std::string message) {
      json reasons = json::array({json{{"code", std::to_string(code)}, {"message", std::move(message)}}});
      json r = json::object();
      r["status"] = "skipped";
      r["reasons"] = reasons;
      r["errors"] = std::move(reasons);
      result.push_back(std::move(r));
    };
    auto missing = [&](const char* name) {
      skip(1002, std::string{"Missing value for the required parameter '"} + name + "'");
    };
    if (!rec.is_object()) {
      skip(1003, "Invalid data");
      continue;
    }
    const auto lead = rec.find("leadId");
    const auto date = rec.find("activityDate");
    const auto type = rec.find("activityTypeId");
    const auto primary = rec.find("primaryAttributeValue");
    const auto attrs = rec.find("attributes");
    if (lead == rec.end() || lead->is_null()) {
      missing("leadId");
      continue;
    }
    if (date == rec.end() || date->is_null()) {
      missing("activityDate");
      continue;
    }
    if (type == rec.end() || type->is_null()) {
      missing("activityTypeId");
      continue;
    }
    if (primary == rec.end() || primary->is_null()) {
      missing("primaryAttributeValue");
      continue;
    }
    if (attrs == rec.end() || !attrs->is_array()) {
      missing("attributes");
      continue;
    }
    if (!lead->is_number_integer()) {
      skip(1001, "Invalid value '" + shown(*lead) + "'. Required of type 'integer'");
      continue;
    }
    const auto when = date->is_string() ? standin::parse_time(date->get<std::string>()) : std::nullopt;
    if (!when) {
      skip(1001, "Invalid value '" + shown(*date) + "'. Required of type 'datetime'");
      continue;
    }
    if (!type->is_number_integer()) {
      skip(1001, "Invalid value '" + shown(*type) + "'. Required of type 'integer'");
      continue;
    }
    const auto* t = activities.type(type->get<int>());
    if (!t || !t->custom) {
      skip(1003, "Invalid activityTypeId '" + type->dump() + "'");
      continue;
    }
    const auto lead_id = lead->get<std::int64_t>();
    if (lead_id < 1 || !leads.exists(static_cast<std::uint64_t>(lead_id))) {
      skip(1004, "Lead not found");
      continue;
    }
    standin::activity a;
    a.lead_id = static_cast<std::uint64_t>(lead_id);
    a.date = *when;
    a.type_id = t->id;
    a.primary_value = primary->is_string() ? primary->get<std::string>() : primary->dump();
    std::string problem;
    for (const auto& at : *attrs) {
      const auto key = at.is_object() ? at.value("apiName", at.value("name", std::string{})) : std::string{};
      const auto* def = t->attribute(key);
      if (!def) {
        problem = "Field '" + key + "' not found";
        break;
      }
      a.attributes.emplace_back(def->name, at.contains("value") ? at["value"] : nlohmann::json{});
    }
    if (!problem.empty()) {
      skip(1006, problem);
      continue;
    }
    const auto id = activities.add(std::move(a));
    json r = json::object();
    r["id"] = id;
    r["marketoGUID"] = std::to_string(id);
    r["status"] = "added";
    result.push_back(std::move(r));
  }
  return ok(std::move(result));
}

} // namespace dynchat::testing
