// Against a real LMDB file in a temporary folder.
#include <catch2/catch.hpp>

#include <random>

#include "dynchat/store/tables.hpp"

using namespace dynchat::store;

namespace {
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("dynchat-store-test-" + std::to_string(rd()));
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
};
const std::string conv = "0123456789abcdef0123456789abcdef";
} // namespace

TEST_CASE("tables keep what is committed, across a reopen", "[store]") {
  temp_dir dir;
  {
    auto db = database::open(dir.path, {});
    auto txn = db->write();
    txn.put(table::meta, "k", "v");
    txn.put(table::agents, "k", "other table");
    txn.commit();
    auto aborted = db->write();
    aborted.put(table::meta, "gone", "x");
    aborted.abort();
  }
  auto db = database::open(dir.path, {});
  auto txn = db->read();
  CHECK(txn.get(table::meta, "k") == std::optional<std::string_view>{"v"});
  CHECK(txn.get(table::agents, "k") == std::optional<std::string_view>{"other table"});
  CHECK_FALSE(txn.get(table::meta, "gone"));
}

TEST_CASE("message keys scan in seq order, forwards and backwards", "[store]") {
  temp_dir dir;
  auto db = database::open(dir.path, {});
  {
    auto txn = db->write();
    // Inserted out of order, including seqs past one byte so byte order matters.
    for (std::uint64_t seq : {300ull, 2ull, 1ull, 256ull, 3ull}) {
      message_record m{"visitor", "m" + std::to_string(seq), 1, {}, {}, {}};
      txn.put(table::messages, message_key(conv, seq), encode(m));
    }
    txn.put(table::messages, message_key("ffffffffffffffffffffffffffffffff", 1), encode(message_record{}));
    txn.commit();
  }
  auto txn = db->read();
  auto all = load_messages(txn, conv, 0, 100);
  std::vector<std::uint64_t> seqs;
  for (auto& [s, m] : all) seqs.push_back(s);
  CHECK(seqs == std::vector<std::uint64_t>{1, 2, 3, 256, 300});
  CHECK(all[3].second.text == "m256");
  auto after = load_messages(txn, conv, 3, 1);
  REQUIRE(after.size() == 1);
  CHECK(after[0].first == 256);
  CHECK(last_seq(txn, conv) == 300);
  CHECK(last_seq(txn, "00000000000000000000000000000000") == 0);
}

TEST_CASE("be64 round trips and sorts like the number", "[store]") {
  for (std::uint64_t v : {0ull, 1ull, 255ull, 256ull, 1ull << 40, ~0ull}) CHECK(from_be64(be64(v)) == v);
  CHECK(be64(255) < be64(256));
  CHECK(be64(1ull << 40) < be64(~0ull));
}

TEST_CASE("client ids and agent chats have their own key spaces", "[store]") {
  temp_dir dir;
  auto db = database::open(dir.path, {});
  {
    auto txn = db->write();
    txn.put(table::client_ids, client_id_key(conv, "visitor", "m1"), be64(5));
    txn.put(table::agent_chats, agent_chat_key("a", conv), "");
    txn.commit();
  }
  auto txn = db->read();
  CHECK(find_client_msg(txn, conv, "visitor", "m1") == std::optional<std::uint64_t>{5});
  CHECK_FALSE(find_client_msg(txn, conv, "agent", "m1")); // a visitor's id never matches an agent's
  CHECK(load_agent_chats(txn, "a") == std::vector<std::string>{conv});
}

TEST_CASE("the map size limit surfaces as a store_error, not a crash", "[store]") {
  temp_dir dir;
  auto db = database::open(dir.path, {1 << 20, false}); // 1 MiB
  std::string big(100000, 'x');
  REQUIRE_THROWS_AS(([&] {
                      auto txn = db->write();
                      for (int i = 0; i < 100; ++i) txn.put(table::meta, "k" + std::to_string(i), big);
                      txn.commit();
                    }()),
                    store_error);
  // The environment is still usable afterwards.
  auto txn = db->write();
  txn.put(table::meta, "small", "ok");
  txn.commit();
  CHECK(db->read().get(table::meta, "small"));
}
