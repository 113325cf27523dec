// Random schedules of visitors in a published dialogue, on the deterministic coordinator:
// actors take their messages in a random order, time jumps, visitors press buttons (offered
// or not, and again after a reconnect), type answers, the page triggers a conversational
// flow (or one that does not exist), and their sessions are killed and come back from the
// store. Whatever the order, afterwards:
// - nothing is acked before it is stored, and one client_msg_id is one stored message;
// - every visitor met the dialogue once: one visit row, whose facts match the cursor;
// - a conversation that waits at a question has that question as its newest message;
// - a conversation a flow leads has that flow run's row, whose facts match the cursor.
#include "fixture.hpp"
#include "recording_sink.hpp"

#include <limits>
#include <map>

#include "actors/directory.hpp"
#include "dynchat/dialogue/library.hpp"
#include "dynchat/dialogue/validate.hpp"
#include "dynchat/engine/cursor.hpp"
#include "dynchat/engine/step.hpp"
#include "dynchat/site/config.hpp"
#include "dynchat/store/writes.hpp"

using namespace dynchat;
using namespace dynchat::testing;

namespace {

const char* const dialogue_json = R"({
  "name": "Schedule", "priority": 1, "start": "greet",
  "cards": [
    {"id": "greet", "kind": "message", "text": "Hello", "next": "ask"},
    {"id": "ask", "kind": "question", "text": "Which?", "answers": [
      {"label": "Email me", "value": "email", "next": "email"},
      {"label": "A plan", "value": "plan", "next": "plan"},
      {"label": "Nothing", "value": "none", "next": "bye"}]},
    {"id": "email", "kind": "capture", "text": "Your email?", "capture": "email", "next": "goal"},
    {"id": "plan", "kind": "capture", "text": "Which plan?", "capture": "attribute", "attribute": "plan",
     "picklist": ["gold", "silver"], "next": "ask"},
    {"id": "goal", "kind": "goal", "name": "Acquired", "next": "bye"},
    {"id": "bye", "kind": "end", "text": "Bye"}]})";

const char* const flow_json = R"({
  "type": "flow", "name": "Side", "start": "fq",
  "cards": [
    {"id": "fq", "kind": "question", "text": "Side?", "answers": [
      {"label": "Email me", "value": "email", "next": "fe"},
      {"label": "Nothing", "value": "none"}]},
    {"id": "fe", "kind": "capture", "text": "Mail?", "capture": "email", "next": "fg"},
    {"id": "fg", "kind": "goal", "name": "Side goal"}]})";

struct visitor {
  std::shared_ptr<recording_sink> sink;
  session_actor session;
  std::string conversation_id, resume_token;
  std::size_t seen = 0; // frames read
  std::map<std::string, std::uint64_t> acked; // client_msg_id -> seq
  std::string tab_of; // the visitor id this one shares, when it is another tab
  std::string visitor_id;
};

struct schedule_fixture : actor_fixture {
  std::mt19937 rng;
  std::vector<visitor> visitors;
  std::uint64_t next_conn = 1;
  int next_id = 0;
  dialogue::definition def;
  dialogue::definition flow_def;

  explicit schedule_fixture(unsigned seed) : rng(seed) {
    site::config site;
    site.response_delay_ms = rng() % 2 ? 0 : 5;
    ctx.site->set(site);
    auto checked = dialogue::decode(nlohmann::json::parse(dialogue_json));
    REQUIRE(checked.value);
    def = *checked.value;
    auto flow_checked = dialogue::decode(nlohmann::json::parse(flow_json));
    REQUIRE(flow_checked.value);
    flow_def = *flow_checked.value;
    store::write_batch b;
    store::writes::put_dialogue_version(b, "d1", 1, dialogue_json);
    store::writes::put_dialogue(b, {"d1", "Schedule", 1, store::dialogue_status::published, dialogue_json, 1, 1, 1, 1});
    store::writes::put_dialogue_version(b, "f1", 1, flow_json);
    store::writes::put_dialogue(b, {"f1", "Side", 0, store::dialogue_status::published, flow_json, 1, 1, 1, 0, true});
    auto txn = ctx.db->write();
    store::writes::apply(txn, b);
    txn.commit();
    ctx.dialogues->reload();
    ctx.router = spawn_router(sys, ctx);
    ctx.directory = spawn_directory(sys, ctx);
    run();
  }

  bool step_one_actor() {
    if (sched.jobs.empty()) return false;
    std::swap(sched.jobs.front(), sched.jobs[rng() % sched.jobs.size()]);
    sched.run_once();
    return true;
  }

  void hello(std::size_t i) {
    auto& v = visitors[i];
    v.sink = std::make_shared<recording_sink>(ctx.db, next_conn++);
    v.seen = 0;
    protocol::visitor_hello h;
    h.page_url = "https://example.com/pricing";
    h.resume_token = v.resume_token;
    h.visitor_id = v.tab_of; // a second tab of an earlier visitor: the same visitor id
    msg::visitor_bind bind{[this, i](session_actor s) {
      visitors[i].session = s;
      own(s);
    }};
    caf::anon_send(ctx.directory, msg::vhello_atom::value, h, net::sink_ptr{v.sink}, bind);
  }

  void arrive() {
    visitors.push_back({});
    // Now and then the same visitor in another tab, often before the first one's rows commit.
    if (visitors.size() > 1 && rng() % 3 == 0) {
      const auto& first = visitors[rng() % (visitors.size() - 1)];
      if (!first.visitor_id.empty()) visitors.back().tab_of = first.visitor_id;
    }
    hello(visitors.size() - 1);
  }

  // What a visitor's socket showed: its welcome, its acks.
  void read(visitor& v) {
    for (; v.seen < v.sink->frames.size(); ++v.seen) {
      const auto& f = v.sink->frames[v.seen];
      if (f["type"] == "welcome") {
        v.conversation_id = f["conversation_id"];
        v.resume_token = f["resume_token"];
        v.visitor_id = f["visitor_id"];
      } else if (f["type"] == "ack") {
        const std::string id = f["client_msg_id"];
        auto [it, fresh] = v.acked.emplace(id, f["seq"].get<std::uint64_t>());
        CHECK(it->second == f["seq"].get<std::uint64_t>()); // one id, one seq
      }
    }
  }

  std::string client_id(visitor& v) {
    // Now and then an id already used: a resend after a lost ack.
    if (!v.acked.empty() && rng() % 4 == 0) return std::next(v.acked.begin(), rng() % v.acked.size())->first;
    return "m" + std::to_string(next_id++);
  }

  void act(visitor& v) {
    if (!v.session) return;
    const auto conn = v.sink->id();
    static const std::vector<std::string> options{"email", "plan", "none", "bogus", "gold", "silver"};
    static const std::vector<std::string> texts{"not an email", "ann@acme.example", "Email me", "gold", "hello"};
    if (rng() % 8 == 0) { // the page starts the flow (now and then one nobody published)
      caf::anon_send(v.session, msg::trigger_atom::value, conn, std::string{rng() % 5 ? "f1" : "f9"});
    } else if (rng() % 2) {
      caf::anon_send(v.session, msg::choose_atom::value, conn, protocol::client_msg_id{client_id(v), false},
                     options[rng() % options.size()]);
    } else {
      caf::anon_send(v.session, msg::say_atom::value, conn,
                     protocol::visitor_say{{client_id(v), false}, texts[rng() % texts.size()]});
    }
  }

  void crash(visitor& v) {
    if (!v.session) return;
    caf::anon_send_exit(v.session, caf::exit_reason::kill);
    v.session = session_actor{};
  }

  void settle() {
    for (int i = 0; i < 20; ++i) {
      run();
      sched.advance_time(std::chrono::milliseconds{50});
    }
    run();
  }
};

} // namespace

TEST_CASE("random schedules of dialogue visitors keep acks, visits and prompts true", "[actors][schedule][dialogue]") {
  int flow_led = 0; // conversations a flow leads at the end: the schedules do reach them
  for (unsigned seed = 1; seed <= 40; ++seed) {
    INFO("seed " << seed);
    schedule_fixture f{seed};
    for (int step = 0; step < 400; ++step) {
      const auto roll = f.rng() % 100;
      if (roll < 8 && f.visitors.size() < 6) f.arrive();
      else if (roll < 55) f.step_one_actor();
      else if (roll < 62) f.sched.advance_time(std::chrono::milliseconds{f.rng() % 10});
      else if (!f.visitors.empty()) {
        auto& v = f.visitors[f.rng() % f.visitors.size()];
        f.read(v);
        if (roll < 95) f.act(v);
        else if (roll < 98) f.crash(v);
        else if (!v.session && !v.resume_token.empty()) f.hello(static_cast<std::size_t>(&v - f.visitors.data()));
      }
    }
    // Everyone killed comes back, so a lost question is asked again.
    f.settle();
    for (std::size_t i = 0; i < f.visitors.size(); ++i)
      if (!f.visitors[i].session && !f.visitors[i].resume_token.empty()) f.hello(i);
    f.settle();

    auto txn = f.ctx.db->read();
    for (auto& v : f.visitors) {
      f.read(v);
      CHECK(v.sink->acked_before_commit == 0);
      if (v.conversation_id.empty()) continue; // never welcomed: nothing was stored for it
      auto conv = store::load_conversation(txn, v.conversation_id);
      REQUIRE(conv);
      // Each acked id is the stored message at its seq.
      for (const auto& [id, seq] : v.acked) {
        auto bytes = txn.get(store::table::messages, store::message_key(v.conversation_id, seq));
        REQUIRE(bytes);
        CHECK(store::decode_message(*bytes)->client_msg_id == id);
      }
      auto cursor = engine::decode_cursor(conv->flow_cursor);
      REQUIRE(cursor);
      // A visitor meets the dialogue once, however many tabs say hello at once.
      int rows = 0;
      store::scan_dialogue_visits(txn, "d1", 0, std::numeric_limits<std::int64_t>::max(), [&](const store::dialogue_visit& dv) {
        rows += dv.visitor_id == conv->visitor_id;
        return true;
      });
      CHECK(rows == 1);
      engine::context ctx;
      ctx.dialogue = &f.def;
      if (cursor->flow == engine::flow_kind::conversational_flow) {
        REQUIRE(cursor->flow_id == "f1");
        ++flow_led;
        ctx.dialogue = &f.flow_def;
        const auto run_ms = std::stoll(cursor->answers.at("run:triggered_ms"));
        std::optional<store::dialogue_visit> run;
        store::scan_dialogue_visits(txn, "f1", run_ms, run_ms + 1, [&](const store::dialogue_visit& dv) {
          if (dv.conversation_id == v.conversation_id) run = dv;
          return true;
        });
        REQUIRE(run);
        CHECK((run->engaged_ms != 0) == cursor->engaged);
        CHECK((run->completed_ms != 0) == cursor->completed);
        CHECK(run->acquired == (cursor->answers.count("acquired:email") == 1));
      }
      if (cursor->flow == engine::flow_kind::dialogue) {
        auto visits = store::load_visitor_dialogues(txn, conv->visitor_id);
        REQUIRE(visits.size() == 1);
        const auto& visit = visits[0];
        CHECK(visit.conversation_id == v.conversation_id);
        CHECK((visit.engaged_ms != 0) == cursor->engaged);
        CHECK((visit.completed_ms != 0) == cursor->completed);
        CHECK(visit.acquired == (cursor->answers.count("acquired:email") == 1));
      }
      if (cursor->flow == engine::flow_kind::live_chat) continue; // a later tab: a live chat
      if (conv->phase == store::conversation_phase::bot && engine::waits_for_answer(*cursor, ctx)) {
        auto last = store::load_page_before(txn, v.conversation_id, 0, 1, ~std::size_t{0});
        REQUIRE(last.messages.size() == 1);
        CHECK(last.messages[0].second.from == "bot");
        CHECK_FALSE(last.messages[0].second.prompt.empty());
      }
    }
  }
  CHECK(flow_led > 10);
}
