// The directory on the deterministic coordinator: what it does when it cannot read the
// store, and what becomes of the sessions and agents it started when it ends.
#include "fixture.hpp"
#include "recording_sink.hpp"

#include <set>

#include "actors/directory.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/site/config.hpp"
#include "dynchat/store/writes.hpp"

using namespace dynchat;
using namespace dynchat::testing;

namespace {

// A stored agent holding a stored live conversation: what a restart recovers.
struct stored_chat_fixture : actor_fixture {
  store::agent_record agent{new_id(), "Ann", "", sha256_hex("ann"), 5, 1};
  store::conversation_record conv;

  stored_chat_fixture() {
    conv.id = new_id();
    conv.visitor_id = new_id();
    conv.phase = store::conversation_phase::live;
    conv.agent_id = agent.id;
    conv.created_ms = conv.updated_ms = now_ms();
    store::write_batch b;
    store::writes::put_agent(b, agent);
    store::writes::put_conversation(b, conv);
    store::writes::set_open(b, conv.id, true);
    store::writes::set_agent_chat(b, agent.id, conv.id, true);
    auto txn = ctx.db->write();
    store::writes::apply(txn, b);
    txn.commit();
    ctx.router = spawn_router(sys, ctx);
    ctx.directory = spawn_directory(sys, ctx);
    run();
  }

  // What the directory answers to recover; nullopt when it did not answer at all.
  std::optional<caf::expected<std::uint64_t>> recover() {
    caf::scoped_actor self{sys};
    self->send(ctx.directory, msg::recover_atom::value);
    run();
    std::optional<caf::expected<std::uint64_t>> answer;
    self->receive([&](std::uint64_t n) { answer = n; }, [&](caf::error& e) { answer = std::move(e); },
                  caf::after(std::chrono::seconds{0}) >> [] {});
    return answer;
  }
};

} // namespace

TEST_CASE("a store that cannot be read during recovery is an error answer, and the directory goes on",
          "[actors][directory]") {
  stored_chat_fixture f;
  {
    // Every reader slot taken: the directory's next read transaction fails.
    std::vector<store::read_txn> readers;
    try {
      while (readers.size() < 10000) readers.push_back(f.ctx.db->read());
    } catch (const store::store_error&) {
    }
    REQUIRE(readers.size() < 10000);
    auto failed = f.recover();
    REQUIRE(failed);
    REQUIRE_FALSE(*failed);
    CHECK(from_caf_error(failed->error()) == protocol::error_code::store_failed);
  }
  // The directory still serves once the store can be read again.
  auto recovered = f.recover();
  REQUIRE((recovered && *recovered));
  CHECK(**recovered == 1);
}

TEST_CASE("the directory ending any way stops the sessions and agents it started", "[actors][directory]") {
  stored_chat_fixture f;
  auto recovered = f.recover();
  REQUIRE((recovered && *recovered && **recovered == 1));
  // The recovered session found its agent through the directory: both run now.
  caf::scoped_actor self{f.sys};
  session_actor session;
  agent_actor agent;
  self->send(f.ctx.directory, msg::session_atom::value, f.conv.id);
  self->send(f.ctx.directory, msg::agent_atom::value, f.agent.id);
  f.run();
  self->receive([&](session_actor s) { session = s; }, caf::after(std::chrono::seconds{0}) >> [] {});
  self->receive([&](agent_actor a) { agent = a; }, caf::after(std::chrono::seconds{0}) >> [] {});
  REQUIRE(session);
  REQUIRE(agent);
  f.own(session); // so a failure here ends the test instead of hanging it
  f.own(agent);
  self->monitor(session);
  self->monitor(agent);

  caf::anon_send_exit(f.ctx.directory, caf::exit_reason::kill); // as a bug inside it would end it
  f.run();
  std::set<caf::actor_addr> stopped;
  for (int i = 0; i < 2; ++i)
    self->receive([&](caf::down_msg& dm) { stopped.insert(dm.source); }, caf::after(std::chrono::seconds{0}) >> [] {});
  CHECK(stopped.count(session.address()) == 1);
  CHECK(stopped.count(agent.address()) == 1);
}

TEST_CASE("a console the agent cannot welcome for an unreadable store is told so and closed, and the next one works",
          "[actors][directory]") {
  stored_chat_fixture f;
  auto recovered = f.recover();
  REQUIRE((recovered && *recovered && **recovered == 1));
  auto hello = [&](std::uint64_t conn) {
    auto sink = std::make_shared<testing::recording_sink>(f.ctx.db, conn);
    caf::anon_send(f.ctx.directory, msg::ahello_atom::value, protocol::agent_hello{"ann", {}}, net::sink_ptr{sink},
                   msg::agent_bind{[](agent_actor) {}});
    return sink;
  };
  auto first = hello(1);
  // The directory finds the agent; then the store stops being readable before the agent
  // writes its welcome.
  REQUIRE(f.sched.prioritize(f.ctx.directory));
  f.sched.run_once();
  {
    std::vector<store::read_txn> readers;
    try {
      while (readers.size() < 10000) readers.push_back(f.ctx.db->read());
    } catch (const store::store_error&) {
    }
    REQUIRE(readers.size() < 10000);
    f.run();
  }
  CHECK(first->of_type("welcome").empty());
  auto errors = first->of_type("error");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0]["code"] == "store_failed");
  CHECK(first->closed_with == net::close_code::internal);
  auto second = hello(2);
  f.run();
  REQUIRE(second->of_type("welcome").size() == 1);
  auto chats = second->of_type("chat");
  REQUIRE(chats.size() == 1);
  CHECK(chats[0]["conversation_id"] == f.conv.id);
}

TEST_CASE("a hello from a site the configuration does not allow is refused, by its page or its Origin",
          "[actors][directory][site]") {
  actor_fixture f;
  f.ctx.router = spawn_router(f.sys, f.ctx);
  f.ctx.directory = spawn_directory(f.sys, f.ctx);
  site::config allowed;
  allowed.allowed_site_domains = {"example.com"};
  f.ctx.site->set(allowed);
  f.run();
  auto hello_from = [&](const std::string& page, const std::string& origin) {
    auto sink = std::make_shared<recording_sink>(f.ctx.db, 1);
    sink->origin_header = origin;
    protocol::visitor_hello h;
    h.page_url = page;
    msg::visitor_bind bind{[&f](session_actor s) { f.own(s); }};
    caf::anon_send(f.ctx.directory, msg::vhello_atom::value, h, net::sink_ptr{sink}, bind);
    f.run();
    return sink;
  };
  auto ok = hello_from("https://example.com/pricing", "https://example.com");
  CHECK(ok->of_type("welcome").size() == 1);
  auto no_origin = hello_from("https://example.com/pricing", ""); // not a browser: the page alone
  CHECK(no_origin->of_type("welcome").size() == 1);
  for (auto [page, origin] : {std::pair<std::string, std::string>{"https://evil.example/", ""},
                              {"https://example.com/pricing", "https://evil.example"}, // a page that lies
                              {"", ""},
                              {"https://example.com/", "null"}}) {
    INFO(page << " from " << origin);
    auto refused = hello_from(page, origin);
    CHECK(refused->of_type("welcome").empty());
    auto errors = refused->of_type("error");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0]["code"] == "forbidden");
    CHECK(refused->closed_with == net::close_code::policy);
  }
  // The chat switched off: nothing new starts.
  allowed.chat_enabled = false;
  f.ctx.site->set(allowed);
  auto off = hello_from("https://example.com/pricing", "");
  REQUIRE(off->of_type("error").size() == 1);
  CHECK(off->of_type("error")[0]["code"] == "unavailable");
}
