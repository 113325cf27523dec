#include <algorithm>
// Against a real LMDB file in a temporary folder.
#include <catch2/catch.hpp>

#include <cctype>
#include <fstream>
#include <random>

#include <unistd.h>

#include "dynchat/store/leads.hpp"
#include "dynchat/store/tables.hpp"
#include "dynchat/store/writes.hpp"

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
      message_record m{"visitor", "m" + std::to_string(seq), 1, {}, {}, {}, {}};
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

TEST_CASE("a conversation's client ids are listed with their senders, and only its own", "[store]") {
  temp_dir dir;
  auto db = database::open(dir.path, {});
  const std::string other = "ffffffffffffffffffffffffffffffff";
  {
    auto txn = db->write();
    txn.put(table::client_ids, client_id_key(conv, "visitor", "m1"), be64(1));
    txn.put(table::client_ids, client_id_key(conv, "agent", "a1"), be64(2));
    txn.put(table::client_ids, client_id_key(other, "visitor", "x"), be64(1));
    txn.commit();
  }
  auto txn = db->read();
  auto ids = load_client_msg_ids(txn, conv);
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::pair<std::string, std::string>>{{"agent", "a1"}, {"visitor", "m1"}});
  CHECK(load_client_msg_ids(txn, "00000000000000000000000000000000").empty());
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

TEST_CASE("a data folder is opened by one process at a time", "[store]") {
  temp_dir dir;
  auto db = database::open(dir.path, {64ull << 20, false});
  try {
    database::open(dir.path, {64ull << 20, false});
    FAIL("a second open of the same folder succeeded");
  } catch (const store_error& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Contains(dir.path.string()) && Catch::Contains("in use") &&
                       Catch::Contains("pid " + std::to_string(::getpid())));
  }
  db.reset(); // closing releases the lock
  CHECK(database::open(dir.path, {64ull << 20, false}));
}

TEST_CASE("a data folder that cannot be created is named in the error", "[store]") {
  temp_dir dir;
  std::filesystem::create_directories(dir.path);
  std::ofstream{dir.path / "a-file"} << "x";
  const auto bad = dir.path / "a-file" / "data";
  CHECK_THROWS_WITH(database::open(bad, {}), Catch::Contains(bad.string()));
}

TEST_CASE("pages stop at a message count or a text size, and say whether more remain", "[store]") {
  temp_dir dir;
  auto db = database::open(dir.path, {64ull << 20, false});
  {
    auto txn = db->write();
    for (std::uint64_t seq = 1; seq <= 10; ++seq)
      txn.put(table::messages, message_key(conv, seq), encode(message_record{"visitor", std::string(100, 'x'), 1, {}, {}, {}, {}}));
    txn.put(table::messages, message_key("another-conversation-id-12345678", 1), encode(message_record{}));
    txn.commit();
  }
  auto txn = db->read();
  auto first = load_page_after(txn, conv, 0, 4, 1 << 20);
  REQUIRE(first.messages.size() == 4);
  CHECK(first.messages.front().first == 1);
  CHECK(first.more);
  auto by_size = load_page_after(txn, conv, 4, 100, 350); // ~110 bytes each: three fit
  CHECK(by_size.messages.size() == 3);
  CHECK(by_size.more);
  auto rest = load_page_after(txn, conv, 7, 100, 1 << 20);
  CHECK(rest.messages.size() == 3);
  CHECK_FALSE(rest.more);
  auto tiny = load_page_after(txn, conv, 0, 100, 1); // one message even when it is larger than the budget
  CHECK(tiny.messages.size() == 1);
  auto newest = load_page_before(txn, conv, 0, 3, 1 << 20);
  REQUIRE(newest.messages.size() == 3);
  CHECK(newest.messages.front().first == 8);
  CHECK(newest.messages.back().first == 10);
  CHECK(newest.more);
  auto oldest = load_page_before(txn, conv, 3, 10, 1 << 20);
  REQUIRE(oldest.messages.size() == 2);
  CHECK(oldest.messages.front().first == 1);
  CHECK_FALSE(oldest.more);
}

TEST_CASE("the waiting line and open conversations are read back in key order", "[store]") {
  temp_dir dir;
  auto db = database::open(dir.path, {64ull << 20, false});
  {
    auto txn = db->write();
    txn.put(table::waiting, waiting_key(300, "c3"), "");
    txn.put(table::waiting, waiting_key(100, "c1"), "");
    txn.put(table::waiting, waiting_key(100, "c0"), ""); // same millisecond: by id
    txn.put(table::open_conversations, "b", "");
    txn.put(table::open_conversations, "a", "");
    txn.commit();
  }
  auto txn = db->read();
  auto line = load_waiting(txn);
  REQUIRE(line.size() == 3);
  CHECK(line[0].conversation_id == "c0");
  CHECK(line[1].conversation_id == "c1");
  CHECK(line[2].conversation_id == "c3");
  CHECK(line[2].requested_ms == 300);
  CHECK(load_open_conversations(txn) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a data file cut short is refused at open with its name, not taken for a new database", "[store]") {
  temp_dir dir;
  {
    auto db = database::open(dir.path, {64ull << 20, true});
    auto txn = db->write();
    for (int i = 0; i < 2000; ++i) txn.put(table::meta, "k" + std::to_string(i), std::string(200, 'x'));
    txn.commit();
  }
  const auto file = dir.path / "data.mdb";
  const auto full = std::filesystem::file_size(file);
  CHECK(database::open(dir.path, {64ull << 20, true})); // whole, it opens
  auto refused = [&](std::uintmax_t size) {
    std::filesystem::resize_file(file, size);
    try {
      database::open(dir.path, {64ull << 20, true});
    } catch (const store_error& e) {
      return std::string{e.what()};
    }
    return std::string{"opened"};
  };
  CHECK_THAT(refused(full / 2 + 100), Catch::Contains(file.string()) && Catch::Contains("truncated") && Catch::Contains("restore"));
  // Empty, LMDB would have made a new database of it: everything gone without a word.
  CHECK_THAT(refused(0), Catch::Contains("truncated"));
}

namespace {
// Resident kilobytes of this process's mappings of `file` (smaps' Rss lines).
std::size_t resident_kb_of(const std::filesystem::path& file) {
  const auto target = std::filesystem::canonical(file).string();
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  std::size_t kb = 0;
  while (std::getline(smaps, line)) {
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') < line.find(' ')) {
      inside = line.size() >= target.size() && line.compare(line.size() - target.size(), target.size(), target) == 0;
    } else if (inside && line.rfind("Rss:", 0) == 0) {
      kb += std::stoul(line.substr(4));
    }
  }
  return kb;
}
} // namespace

TEST_CASE("released map pages leave the process's RSS and read back the same", "[store]") {
  temp_dir dir;
  auto db = database::open(dir.path, {64ull << 20, false});
  {
    auto txn = db->write();
    for (int i = 0; i < 4000; ++i) txn.put(table::meta, "key" + std::to_string(i), std::string(2000, char('a' + i % 26)));
    txn.commit();
  }
  auto read_all = [&] {
    auto txn = db->read();
    std::size_t bytes = 0;
    txn.scan_prefix(table::meta, "key", "", [&](std::string_view, std::string_view v) {
      bytes += v.size();
      return true;
    });
    return bytes;
  };
  const auto total = read_all();
  const auto before = resident_kb_of(dir.path / "data.mdb");
  CHECK(before > 4000); // 8 MB of values, touched through the map
  db->release_mapped_pages();
  const auto after = resident_kb_of(dir.path / "data.mdb");
  CHECK(after < before / 4);
  CHECK(read_all() == total); // faulted back in, unchanged
  auto txn = db->read();
  CHECK(txn.get(table::meta, "key3999") == std::string(2000, char('a' + 3999 % 26)));
}

TEST_CASE("a merged lead is merged over what is stored when it commits", "[store]") {
  temp_dir dir;
  auto db = database::open(dir.path, {64ull << 20, false});
  auto commit = [&](const write_batch& b) {
    auto txn = db->write();
    writes::apply(txn, b);
    txn.commit();
  };
  lead_record ann;
  ann.id = "17";
  ann.email = "ann@example.com";
  ann.values = {"Ann"};
  // A sync batch parsed before a look-up stored a cookie for the same lead...
  write_batch parsed_ahead;
  lead_record renamed = ann;
  renamed.email = "ann@new.example.com";
  renamed.values = {"Annie"};
  writes::merge_lead(parsed_ahead, renamed);
  // ...and the look-up's write commits first.
  write_batch lookup;
  lead_record with_cookie = ann;
  with_cookie.cookies = {"_mch-example.com-1-2"};
  writes::merge_lead(lookup, with_cookie);
  commit(lookup);
  commit(parsed_ahead);
  auto txn = db->read();
  auto stored = load_lead(txn, "17");
  REQUIRE(stored);
  CHECK(stored->values == std::vector<std::string>{"Annie"});
  CHECK(stored->cookies == std::vector<std::string>{"_mch-example.com-1-2"}); // not undone
  CHECK(find_lead_by_cookie(txn, "_mch-example.com-1-2")->id == "17");
  CHECK(find_lead_by_email(txn, "ann@new.example.com")->id == "17");
  CHECK_FALSE(find_lead_by_email(txn, "ann@example.com")); // the old email's index went

  // The same lead twice in one batch: the second sees the first.
  write_batch twice;
  lead_record a = *stored, b = *stored;
  a.email = "one@example.com";
  b.email = "two@example.com";
  writes::merge_lead(twice, a);
  writes::merge_lead(twice, b);
  commit(twice);
  auto after = db->read();
  CHECK(find_lead_by_email(after, "two@example.com")->id == "17");
  CHECK_FALSE(find_lead_by_email(after, "one@example.com"));
  CHECK_FALSE(find_lead_by_email(after, "ann@new.example.com"));
}
