#include "fixture.hpp"

using namespace dynchat;
using namespace dynchat::testing;

namespace {
caf::behavior one_write(caf::event_based_actor* self, store_writer_actor writer, int i, std::shared_ptr<std::vector<std::uint64_t>> done) {
  store::write_batch batch{{store::table::meta, "k" + std::to_string(i), "v", false}};
  self->request(writer, caf::infinite, msg::write_atom::value, std::move(batch)).then([=](std::uint64_t commit) {
    done->push_back(commit);
    self->quit();
  });
  return {[](int) {}};
}
} // namespace

TEST_CASE("writes that arrive together share one durable commit", "[actors][store]") {
  actor_fixture f{true};
  auto done = std::make_shared<std::vector<std::uint64_t>>();
  for (int i = 0; i < 50; ++i) f.sys.spawn(one_write, f.ctx.writer, i, done);
  f.run();
  REQUIRE(done->size() == 50);
  CHECK(f.stats.store_commits == 1);
  for (auto c : *done) CHECK(c == 1);
  auto txn = f.ctx.db->read();
  CHECK(txn.entries(store::table::meta) == 50);
}

TEST_CASE("without group commit every write request is its own commit", "[actors][store]") {
  actor_fixture f{false};
  auto done = std::make_shared<std::vector<std::uint64_t>>();
  for (int i = 0; i < 20; ++i) f.sys.spawn(one_write, f.ctx.writer, i, done);
  f.run();
  REQUIRE(done->size() == 20);
  CHECK(f.stats.store_commits == 20);
}

TEST_CASE("a failed commit answers every request in it with store_failed", "[actors][store]") {
  actor_fixture f;
  f.ctx.db = store::database::open(f.dir / "tiny", {1 << 20, false});
  auto writer = spawn_store_writer(f.sys, f.ctx, false);
  caf::scoped_actor self{f.sys};
  store::write_batch huge;
  for (int i = 0; i < 50; ++i) huge.push_back({store::table::meta, "k" + std::to_string(i), std::string(100000, 'x'), false});
  self->send(writer, msg::write_atom::value, std::move(huge));
  f.run();
  bool failed = false;
  self->receive([](std::uint64_t) {}, [&](caf::error& e) { failed = from_caf_error(e) == protocol::error_code::store_failed; });
  CHECK(failed);
  CHECK(f.stats.store_failures == 1);
  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
}
