// /v1/dialogues: marketers' dialogues. A save is validated (every problem listed, nothing
// stored when there is one) and answered with every path through the cards; publishing
// makes an immutable version; preview runs the draft through the engine, storing nothing.
// Every change runs one at a time (serially, key "dialogues"): priorities among published
// dialogues stay unique and version numbers gapless whatever clients send at once.
#include <spdlog/spdlog.h>

#include "actors/rest/handlers.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/dialogue/embed.hpp"
#include "dynchat/dialogue/library.hpp"
#include "dynchat/dialogue/validate.hpp"
#include "dynchat/rest/dialogue_preview.hpp"
#include "dynchat/rest/transcript_text.hpp"
#include "dynchat/store/writes.hpp"

namespace dynchat::rest_api {
namespace {

using protocol::error_code;
const std::string all_dialogues = "dialogues";

json summary(const store::dialogue_record& d) {
  json j{{"id", d.id},
         {"type", d.flow ? "flow" : "dialogue"},
         {"name", d.name},
         {"priority", d.flow ? json(nullptr) : json(d.priority)},
         {"status", store::to_string(d.status)},
         {"created", d.created_ms},
         {"updated", d.updated_ms}};
  j["published_version"] = d.published_version == 0 ? json(nullptr) : json(d.published_version);
  j["published_priority"] = d.published_version == 0 || d.flow ? json(nullptr) : json(d.published_priority);
  return j;
}

// The flow cards' problems a save can see: each must name a conversational flow that
// exists (it need not be published until this dialogue is).
std::vector<dialogue::problem> flow_refs(const call& c, const dialogue::definition& def) {
  std::vector<dialogue::problem> problems;
  const auto txn = c.ctx().db->read();
  for (std::size_t i = 0; i < def.cards.size(); ++i) {
    const auto& card = def.cards[i];
    if (card.kind != dialogue::card_kind::flow) continue;
    auto target = store::load_dialogue(txn, card.flow_id);
    if (!target || !target->flow)
      problems.push_back({"cards[" + std::to_string(i) + "].flow_id", "no conversational flow has the id '" + card.flow_id + "'"});
  }
  return problems;
}

// The body with its flows written in, as published now (dialogue::embed_flows), checked
// again as a whole; 400 with every problem when it does not hold.
std::optional<json> with_flows_embedded(const call& c, const json& body) {
  const auto txn = c.ctx().db->read();
  auto embedded = dialogue::embed_flows(body, [&](const std::string& id) -> std::optional<json> {
    auto f = store::load_dialogue(txn, id);
    if (!f || !f->flow || f->status != store::dialogue_status::published) return std::nullopt;
    auto text = store::load_dialogue_version(txn, f->id, f->published_version);
    if (!text) return std::nullopt;
    auto j = json::parse(*text, nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j;
  });
  if (!embedded.value) {
    c.reply(problems_response("the dialogue's flows", embedded.problems));
    return std::nullopt;
  }
  auto whole = dialogue::decode(*embedded.value);
  if (!whole.value) {
    for (auto& p : whole.problems) p.reason = "with its flows written in: " + p.reason;
    c.reply(problems_response("the dialogue", whole.problems));
    return std::nullopt;
  }
  return std::move(embedded.value);
}

// 400 with every problem, or the definition; the paths go in `paths` when it is one.
std::optional<dialogue::definition> validated(const call& c, const json& body, json& paths) {
  auto checked = dialogue::decode(body);
  if (checked.value) checked.problems = flow_refs(c, *checked.value);
  if (!checked.value || !checked.problems.empty()) {
    c.reply(problems_response("the dialogue", checked.problems));
    return std::nullopt;
  }
  auto list = dialogue::enumerate_paths(*checked.value, dialogue::limits{}.max_paths);
  paths = {{"paths", list.paths}, {"paths_truncated", list.truncated}};
  return std::move(checked.value);
}

std::optional<store::dialogue_record> dialogue_in_path(const call& c) {
  auto found = store::load_dialogue(c.ctx().db->read(), c.param("id"));
  if (!found) c.reply(error_response(404, error_code::not_found, "no such dialogue"));
  return found;
}

json with_paths(json j, const json& paths) {
  j.update(paths);
  return j;
}

} // namespace

void list_dialogues(call c) {
  if (!query_ok(c)) return;
  json out = json::array();
  for (const auto& d : store::load_dialogues(c.ctx().db->read())) out.push_back(summary(d));
  c.reply(json_response(200, json{{"dialogues", std::move(out)}}));
}

void get_dialogue(call c) {
  if (!query_ok(c)) return;
  auto d = dialogue_in_path(c);
  if (!d) return;
  auto j = summary(*d);
  auto draft = json::parse(d->draft, nullptr, false);
  j["dialogue"] = draft.is_discarded() ? json(nullptr) : std::move(draft);
  c.reply(json_response(200, j));
}

void create_dialogue(call c) {
  if (!query_ok(c)) return;
  auto body = parse_body(c);
  if (!body) return;
  json paths;
  auto def = validated(c, *body, paths);
  if (!def) return;
  // Created ones may still be in flight: counted by the store only, the bound is loose by
  // those few, which is no risk to it (a draft is at most one body).
  const auto limit = c.ctx().cfg->server.max_dialogues;
  if (c.ctx().db->read().entries(store::table::dialogues) >= limit)
    return c.reply(error_response(409, error_code::conflict,
                                  "there are " + std::to_string(limit) + " dialogues already (server.max_dialogues); delete one first"));
  store::dialogue_record d;
  d.id = new_id();
  d.name = def->name;
  d.priority = def->priority;
  d.flow = def->type == dialogue::definition_type::flow;
  d.draft = body->dump();
  d.created_ms = d.updated_ms = now_ms();
  store::write_batch batch;
  store::writes::put_dialogue(batch, d);
  write_then(c, std::move(batch), [reply = c.reply, d, paths] { reply(json_response(201, with_paths(summary(d), paths))); });
}

void update_dialogue(call c) {
  if (!query_ok(c)) return;
  serially(std::move(c), all_dialogues, [](call c, std::function<void()> done) {
    auto d = dialogue_in_path(c);
    auto body = d ? parse_body(c) : std::nullopt;
    json paths;
    auto def = body ? validated(c, *body, paths) : std::nullopt;
    if (!def) return done();
    if ((def->type == dialogue::definition_type::flow) != d->flow) {
      c.reply(error_response(409, error_code::conflict,
                             d->flow ? "this is a conversational flow; a dialogue is created on its own"
                                     : "this is a dialogue; a conversational flow is created on its own"));
      return done();
    }
    // The draft changes; a published version stays what visitors meet until the next publish.
    d->name = def->name;
    d->priority = def->priority;
    d->draft = body->dump();
    d->updated_ms = now_ms();
    store::write_batch batch;
    store::writes::put_dialogue(batch, *d);
    write_then(c, std::move(batch), [reply = c.reply, d = *d, paths] { reply(json_response(200, with_paths(summary(d), paths))); },
               done);
  });
}

void delete_dialogue(call c) {
  if (!query_ok(c)) return;
  serially(std::move(c), all_dialogues, [](call c, std::function<void()> done) {
    auto d = dialogue_in_path(c);
    if (!d) return done();
    if (d->status == store::dialogue_status::published) {
      c.reply(error_response(409, error_code::conflict, "the dialogue is published; unpublish it first"));
      return done();
    }
    if (d->flow) { // a dialogue's draft that embeds it would no longer publish
      std::string users;
      const std::string ref = "\"flow_id\":" + json(d->id).dump(); // drafts are stored compact
      for (const auto& other : store::load_dialogues(c.ctx().db->read()))
        if (other.id != d->id && other.draft.find(ref) != std::string::npos)
          users += (users.empty() ? "" : ", ") + other.id + " (" + rest::one_line(other.name) + ")";
      if (!users.empty()) {
        c.reply(error_response(409, error_code::conflict, "the flow is embedded by " + users + "; take its flow cards out first"));
        return done();
      }
    }
    store::write_batch batch;
    store::writes::erase_dialogue(batch, d->id);
    write_then(c, std::move(batch), [reply = c.reply] { reply(no_content()); }, done);
  });
}

// Committed: new visitors meet the published set as it is now. Answered either way: the
// change is stored, and the next reload (any publish, or a restart) serves it.
void visitors_meet_it_now(const call& c, const store::dialogue_record& d) {
  if (c.ctx().dialogues) {
    try {
      c.ctx().dialogues->reload();
    } catch (const store::store_error& e) {
      spdlog::error("dialogue {}: stored, but the published set could not be reloaded: {}", d.id, e.what());
    }
  }
  c.reply(json_response(200, summary(d)));
}

void publish_dialogue(call c) {
  if (!query_ok(c)) return;
  serially(std::move(c), all_dialogues, [](call c, std::function<void()> done) {
    auto d = dialogue_in_path(c);
    if (!d) return done();
    json paths;
    auto def = validated(c, json::parse(d->draft, nullptr, false), paths);
    if (!def) return done();
    auto version = with_flows_embedded(c, json::parse(d->draft, nullptr, false));
    if (!version) return done();
    const auto text = version->dump();
    if (d->status == store::dialogue_status::published &&
        store::load_dialogue_version(c.ctx().db->read(), d->id, d->published_version) == text) {
      c.reply(error_response(409, error_code::conflict,
                             "version " + std::to_string(d->published_version) + " is this draft already; nothing to publish"));
      return done();
    }
    // Against what the others have published: a draft's priority may differ from its version's.
    for (const auto& other : store::load_dialogues(c.ctx().db->read()))
      if (!d->flow && !other.flow && other.id != d->id && other.status == store::dialogue_status::published && other.published_priority == d->priority) {
        c.reply(error_response(409, error_code::conflict,
                               "priority " + std::to_string(d->priority) + " is taken by the published dialogue " +
                                 other.id + " (" + rest::one_line(other.name) + "); priorities of published dialogues are unique"));
        return done();
      }
    d->published_version += 1;
    d->published_priority = d->priority;
    d->status = store::dialogue_status::published;
    d->updated_ms = now_ms();
    store::write_batch batch;
    store::writes::put_dialogue_version(batch, d->id, d->published_version, text);
    store::writes::put_dialogue(batch, *d);
    write_then(c, std::move(batch), [c, d = *d] { visitors_meet_it_now(c, d); }, done);
  });
}

void unpublish_dialogue(call c) {
  if (!query_ok(c)) return;
  serially(std::move(c), all_dialogues, [](call c, std::function<void()> done) {
    auto d = dialogue_in_path(c);
    if (!d) return done();
    if (d->status != store::dialogue_status::published) {
      c.reply(error_response(409, error_code::conflict, "the dialogue is not published"));
      return done();
    }
    d->status = store::dialogue_status::unpublished;
    d->updated_ms = now_ms();
    store::write_batch batch;
    store::writes::put_dialogue(batch, *d);
    write_then(c, std::move(batch), [c, d = *d] { visitors_meet_it_now(c, d); }, done);
  });
}

void preview_dialogue(call c) {
  if (!query_ok(c)) return;
  auto d = dialogue_in_path(c);
  if (!d) return;
  auto body = parse_body(c);
  if (!body) return;
  auto request = rest::decode_preview_body(*body);
  if (!request) return c.reply(error_response(400, error_code::bad_value, request.error().message));
  json paths;
  auto def = validated(c, json::parse(d->draft, nullptr, false), paths); // 400 with its problems, as publish
  if (!def) return;
  // What a visitor would meet once it is published: its flows as they are published now.
  auto version = with_flows_embedded(c, json::parse(d->draft, nullptr, false));
  if (!version) return;
  def = dialogue::decode(*version).value;
  if (!def) return c.reply(error_response(500, error_code::internal, "the dialogue with its flows does not decode"));
  c.reply(json_response(200, rest::run_preview(*def, *request, {})));
}

} // namespace dynchat::rest_api
