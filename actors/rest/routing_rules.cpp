// /v1/routing/rules, /v1/routing/teams, /v1/routing/accounts: the rule book that says who
// gets a meeting or a live chat before round robin does (docs/meetings.md, "Routing").
// Every change runs one at a time (serially, key "routing"), checks what it names against
// the store, commits, and then tells the scheduler and the router to read that part again.
#include <limits>

#include <caf/all.hpp>

#include "actors/meeting_messages.hpp"
#include "actors/messages.hpp"
#include "actors/rest/handlers.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/rest/transcript_text.hpp"
#include "dynchat/routing/stored_rules.hpp"

namespace dynchat::rest_api {
namespace {

using protocol::error_code;
using dialogue::problem;

const std::string routing_key = "routing";

routing::rule_limits limits_of(const call& c) {
  const auto& r = c.ctx().cfg->routing;
  return {r.max_rules, r.max_teams, r.max_members, 10, r.max_accounts};
}

// Committed: whoever routes reads the changed part again.
void announce(const call& c, const std::string& part) {
  if (c.ctx().scheduler) c.self->send(c.ctx().scheduler, msg::rules_atom::value, part);
  if (c.ctx().router) c.self->send(c.ctx().router, msg::rules_atom::value, part);
}

void agents_exist(const store::read_txn& txn, const std::vector<std::string>& ids, const std::string& field,
                  std::vector<problem>& out) {
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (!store::load_agent(txn, ids[i])) out.push_back({field + "[" + std::to_string(i) + "]", "no such agent"});
}

std::vector<routing::rule> sorted_rules(const store::read_txn& txn) {
  auto rules = routing::load_rule_book(txn).rules;
  std::stable_sort(rules.begin(), rules.end(), [](const auto& a, const auto& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.id < b.id;
  });
  return rules;
}

// The id in the path, checked: an id or the 404 sent.
bool path_id(const call& c) {
  if (is_id(c.param("id"))) return true;
  c.reply(error_response(404, error_code::not_found, "no such id"));
  return false;
}

// The body; on a PUT an "id" the same as the path's is allowed (what a GET gave, sent back).
std::optional<json> body_of(const call& c) {
  auto body = parse_body(c);
  if (body && c.params.count("id") && body->is_object() && body->contains("id") && (*body)["id"] == c.param("id"))
    body->erase("id");
  return body;
}

// A rule from its body, with the agents or the team it names checked; nullopt (and the
// 400 sent) when it has problems.
std::optional<routing::rule> checked_rule(const call& c, const store::read_txn& txn) {
  auto body = body_of(c);
  if (!body) return std::nullopt;
  auto decoded = routing::decode_rule(*body, limits_of(c));
  if (decoded.value) {
    agents_exist(txn, decoded.value->agent_ids, "agents", decoded.problems);
    if (!decoded.value->team_id.empty() && !routing::load_team(txn, decoded.value->team_id))
      decoded.problems.push_back({"team", "no such team"});
  }
  if (!decoded.problems.empty()) {
    c.reply(problems_response("the rule", decoded.problems));
    return std::nullopt;
  }
  return decoded.value;
}

std::optional<routing::team> checked_team(const call& c, const store::read_txn& txn) {
  auto body = body_of(c);
  if (!body) return std::nullopt;
  auto decoded = routing::decode_team(*body, limits_of(c));
  if (decoded.value) agents_exist(txn, decoded.value->agent_ids, "agents", decoded.problems);
  if (!decoded.problems.empty()) {
    c.reply(problems_response("the team", decoded.problems));
    return std::nullopt;
  }
  return decoded.value;
}

void store_rule(call c, routing::rule r, unsigned status, std::function<void()> done) {
  store::write_batch batch;
  routing::put_rule(batch, r);
  write_then(c, std::move(batch), [c, r, status] {
    announce(c, "rules");
    c.reply(json_response(status, routing::to_json(r)));
  }, done);
}

void store_team(call c, routing::team t, unsigned status, std::function<void()> done) {
  store::write_batch batch;
  routing::put_team(batch, t);
  write_then(c, std::move(batch), [c, t, status] {
    announce(c, "teams");
    c.reply(json_response(status, routing::to_json(t)));
  }, done);
}

// Writes `accounts` (one row per key), after erasing every stored one when `replace`;
// refuses past routing.max_accounts.
void store_accounts(call c, std::vector<routing::account> accounts, bool replace, std::function<void()> done) {
  auto txn = c.ctx().db->read();
  store::write_batch batch;
  std::set<std::string> keys;
  std::size_t fresh = 0;
  if (replace) {
    txn.scan_prefix(store::table::routing_accounts, "", "", [&](std::string_view key, std::string_view) {
      routing::erase_account(batch, key);
      return true;
    });
  }
  for (const auto& a : accounts) {
    if (!keys.insert(a.key()).second) continue; // the last row of a key wins
    if (replace || !routing::load_account(txn, a.key())) ++fresh;
  }
  const auto total = (replace ? 0 : txn.entries(store::table::routing_accounts)) + fresh;
  if (total > c.ctx().cfg->routing.max_accounts) {
    c.reply(error_response(409, error_code::conflict,
                           "account routing holds at most " + std::to_string(c.ctx().cfg->routing.max_accounts) +
                             " accounts (routing.max_accounts); this would make " + std::to_string(total)));
    return done();
  }
  for (const auto& a : accounts) routing::put_account(batch, a); // in order: a later row of a key overwrites
  write_then(c, std::move(batch), [c, count = keys.size(), total, replace] {
    announce(c, "accounts");
    c.reply(json_response(200, json{{"stored", count}, {"replaced", replace}, {"accounts", total}}));
  }, done);
}

} // namespace

// ---- rules ----

void list_rules(call c) {
  if (!query_ok(c)) return;
  auto list = json::array();
  for (const auto& r : sorted_rules(c.ctx().db->read())) list.push_back(routing::to_json(r));
  c.reply(json_response(200, json{{"rules", list}}));
}

void create_rule(call c) {
  if (!query_ok(c)) return;
  serially(std::move(c), routing_key, [](call c, std::function<void()> done) {
    auto txn = c.ctx().db->read();
    auto r = checked_rule(c, txn);
    if (!r) return done();
    if (txn.entries(store::table::routing_rules) >= c.ctx().cfg->routing.max_rules) {
      c.reply(error_response(409, error_code::conflict, "there are routing.max_rules rules already"));
      return done();
    }
    r->id = new_id();
    store_rule(std::move(c), std::move(*r), 201, done);
  });
}

void get_rule(call c) {
  if (!query_ok(c) || !path_id(c)) return;
  auto r = routing::load_rule(c.ctx().db->read(), c.param("id"));
  if (!r) return c.reply(error_response(404, error_code::not_found, "no such rule"));
  c.reply(json_response(200, routing::to_json(*r)));
}

void update_rule(call c) {
  if (!query_ok(c) || !path_id(c)) return;
  serially(std::move(c), routing_key, [](call c, std::function<void()> done) {
    auto txn = c.ctx().db->read();
    if (!routing::load_rule(txn, c.param("id"))) {
      c.reply(error_response(404, error_code::not_found, "no such rule"));
      return done();
    }
    auto r = checked_rule(c, txn);
    if (!r) return done();
    r->id = c.param("id");
    store_rule(std::move(c), std::move(*r), 200, done);
  });
}

void delete_rule(call c) {
  if (!query_ok(c) || !path_id(c)) return;
  serially(std::move(c), routing_key, [](call c, std::function<void()> done) {
    if (!routing::load_rule(c.ctx().db->read(), c.param("id"))) {
      c.reply(error_response(404, error_code::not_found, "no such rule"));
      return done();
    }
    store::write_batch batch;
    routing::erase_rule(batch, c.param("id"));
    batch.push_back({store::table::meta, routing::rule_turn_key(c.param("id")), {}, true});
    write_then(c, std::move(batch), [c] {
      announce(c, "rules");
      c.reply(no_content());
    }, done);
  });
}

// ---- teams ----

void list_teams(call c) {
  if (!query_ok(c)) return;
  auto list = json::array();
  for (const auto& t : routing::load_rule_book(c.ctx().db->read()).teams) list.push_back(routing::to_json(t));
  c.reply(json_response(200, json{{"teams", list}}));
}

void create_team(call c) {
  if (!query_ok(c)) return;
  serially(std::move(c), routing_key, [](call c, std::function<void()> done) {
    auto txn = c.ctx().db->read();
    auto t = checked_team(c, txn);
    if (!t) return done();
    if (txn.entries(store::table::routing_teams) >= c.ctx().cfg->routing.max_teams) {
      c.reply(error_response(409, error_code::conflict, "there are routing.max_teams teams already"));
      return done();
    }
    t->id = new_id();
    store_team(std::move(c), std::move(*t), 201, done);
  });
}

void get_team(call c) {
  if (!query_ok(c) || !path_id(c)) return;
  auto t = routing::load_team(c.ctx().db->read(), c.param("id"));
  if (!t) return c.reply(error_response(404, error_code::not_found, "no such team"));
  c.reply(json_response(200, routing::to_json(*t)));
}

void update_team(call c) {
  if (!query_ok(c) || !path_id(c)) return;
  serially(std::move(c), routing_key, [](call c, std::function<void()> done) {
    auto txn = c.ctx().db->read();
    if (!routing::load_team(txn, c.param("id"))) {
      c.reply(error_response(404, error_code::not_found, "no such team"));
      return done();
    }
    auto t = checked_team(c, txn);
    if (!t) return done();
    t->id = c.param("id");
    store_team(std::move(c), std::move(*t), 200, done);
  });
}

void delete_team(call c) {
  if (!query_ok(c) || !path_id(c)) return;
  serially(std::move(c), routing_key, [](call c, std::function<void()> done) {
    auto txn = c.ctx().db->read();
    const auto& id = c.param("id");
    if (!routing::load_team(txn, id)) {
      c.reply(error_response(404, error_code::not_found, "no such team"));
      return done();
    }
    std::string users;
    for (const auto& r : sorted_rules(txn))
      if (r.team_id == id) users += (users.empty() ? "" : ", ") + r.id + " (" + rest::one_line(r.name) + ")";
    if (!users.empty()) {
      c.reply(error_response(409, error_code::conflict, "the team is used by rule " + users + "; change those rules first"));
      return done();
    }
    store::write_batch batch;
    routing::erase_team(batch, id);
    write_then(c, std::move(batch), [c] {
      announce(c, "teams");
      c.reply(no_content());
    }, done);
  });
}

// ---- accounts ----

void list_accounts(call c) {
  const auto after = c.query.text("after");
  const auto limit = static_cast<std::size_t>(c.query.integer("limit", 100, 1, 1000));
  if (!query_ok(c)) return;
  auto txn = c.ctx().db->read();
  auto page = routing::load_accounts(txn, after, limit + 1);
  const bool more = page.size() > limit;
  if (more) page.pop_back();
  auto list = json::array();
  for (const auto& a : page) list.push_back(routing::to_json(a));
  c.reply(json_response(200, json{{"accounts", list},
                                  {"next", more ? json(page.back().key()) : json(nullptr)},
                                  {"total", txn.entries(store::table::routing_accounts)}}));
}

// One account, by its domain, its company name or both (a row for each).
void create_account(call c) {
  if (!query_ok(c)) return;
  serially(std::move(c), routing_key, [](call c, std::function<void()> done) {
    auto body = parse_body(c);
    if (!body) return done();
    auto decoded = routing::decode_account(*body);
    if (decoded.value && !store::load_agent(c.ctx().db->read(), decoded.value->agent_id))
      decoded.problems.push_back({"agent_id", "no such agent"});
    if (!decoded.problems.empty()) {
      c.reply(problems_response("the account", decoded.problems));
      return done();
    }
    store_accounts(std::move(c), routing::one_per_key(*decoded.value), false, done);
  });
}

void delete_account(call c) {
  if (!query_ok(c)) return;
  serially(std::move(c), routing_key, [](call c, std::function<void()> done) {
    const auto& key = c.param("key");
    if (!routing::load_account(c.ctx().db->read(), key)) {
      c.reply(error_response(404, error_code::not_found, "no such account (keys look like domain:acme.com or company:acme)"));
      return done();
    }
    store::write_batch batch;
    routing::erase_account(batch, key);
    write_then(c, std::move(batch), [c] {
      announce(c, "accounts");
      c.reply(no_content());
    }, done);
  });
}

// A CSV export of a CRM's accounts: domain and/or company, and the owner by agent id or
// email. Every bad line is listed and nothing is stored; ?replace=true drops the accounts
// stored before.
void import_accounts(call c) {
  const bool replace = c.query.text("replace", {"true", "false"}) == "true";
  if (!query_ok(c)) return;
  serially(std::move(c), routing_key, [replace](call c, std::function<void()> done) {
    // Rows past routing.max_accounts are refused by the count of keys (409), not here:
    // the body limit already bounds how many lines there are.
    auto csv = routing::parse_accounts_csv(c.body, std::numeric_limits<std::size_t>::max());
    auto txn = c.ctx().db->read();
    auto lower = [](std::string s) {
      for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      return s;
    };
    std::map<std::string, std::vector<std::string>> by_email; // several agents may share one
    for (const auto& a : store::load_agents(txn))
      if (!a.email.empty()) by_email[lower(a.email)].push_back(a.id);
    std::vector<routing::account> accounts;
    std::map<std::string, std::pair<std::string, std::size_t>> owner_of; // key -> agent, line
    for (const auto& row : csv.rows) {
      const auto where = "line " + std::to_string(row.line);
      const auto agent = lower(row.agent);
      std::string agent_id;
      if (auto it = by_email.find(agent); it != by_email.end() && it->second.size() == 1) agent_id = it->second.front();
      else if (it != by_email.end()) csv.problems.push_back({where, "several agents have the email '" + row.agent.substr(0, 80) + "'; give the agent id"});
      else if (is_id(agent) && store::load_agent(txn, agent)) agent_id = agent;
      else csv.problems.push_back({where, "no agent has the id or email '" + row.agent.substr(0, 80) + "'"});
      routing::account a{routing::normalize_domain(row.domain), routing::normalize_company(row.company), agent_id};
      if (!row.domain.empty() && a.domain.empty())
        csv.problems.push_back({where, "'" + row.domain.substr(0, 80) + "' is not a domain name"});
      if (row.domain.empty() && a.company.empty()) csv.problems.push_back({where, "gives neither a domain nor a company"});
      for (auto& one : routing::one_per_key(a)) {
        auto [seen, fresh] = owner_of.try_emplace(one.key(), one.agent_id, row.line);
        if (!fresh && seen->second.first != one.agent_id && !one.agent_id.empty())
          csv.problems.push_back({where, one.key() + " is given to another owner on line " + std::to_string(seen->second.second)});
        accounts.push_back(std::move(one));
      }
    }
    if (!csv.problems.empty()) {
      c.reply(problems_response("the CSV", csv.problems));
      return done();
    }
    store_accounts(std::move(c), std::move(accounts), replace, done);
  });
}

} // namespace dynchat::rest_api
