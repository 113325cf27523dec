#include <catch2/catch.hpp>

#include "dynchat/marketo/sync_job.hpp"

using namespace dynchat::marketo;

namespace {
std::vector<std::string_view> row(std::initializer_list<std::string_view> f) { return f; }
} // namespace

TEST_CASE("a plan exports id email and updatedAt beside the selected fields in 31-day windows", "[marketo]") {
  auto from = *parse_iso8601("2026-01-01T00:00:00Z");
  auto to = *parse_iso8601("2026-04-01T00:00:00Z");
  auto job = plan_sync("full", {"email", "firstName", "company"}, from, to, 5);
  CHECK(job.state == "running");
  CHECK(job.filter == "createdAt");
  CHECK(job.fields == std::vector<std::string>{"id", "email", "updatedAt", "firstName", "company"});
  CHECK(job.windows.size() == 3);
  CHECK(plan_sync("incremental", {}, from, to, 5).filter == "updatedAt");
  auto nothing = plan_sync("full", {}, to, to, 5);
  CHECK(nothing.state == "completed");
  CHECK(schema_fields(job.fields) == std::vector<std::string>{"updatedAt", "firstName", "company"});
}

TEST_CASE("a job survives its JSON as a restart reads it", "[marketo]") {
  auto job = plan_sync("full", {"firstName"}, *parse_iso8601("2026-01-01T00:00:00Z"), *parse_iso8601("2026-03-01T00:00:00Z"), 7);
  job.window = 1;
  job.export_id = "ce45";
  job.export_status = "Completed";
  job.file_size = 1234;
  job.offset = 600;
  job.line = 11;
  job.header = {"id", "email", "updatedAt", "firstName"};
  job.records_done = 9;
  job.add_problem({2, 5, "expected 4 fields, found 3"});
  job.add_error("boom", 7);
  auto back = sync_job_from_json(to_json(job).dump());
  REQUIRE(back);
  CHECK(to_json(*back) == to_json(job));
  CHECK(back->windows == job.windows);
  CHECK(back->bad_rows == 1);
  CHECK_FALSE(sync_job_from_json("not json"));
  CHECK_FALSE(sync_job_from_json(R"({"windows":[[1]]})"));
}

TEST_CASE("problems and errors keep only the latest", "[marketo]") {
  sync_job job;
  for (std::uint64_t i = 0; i < 150; ++i) job.add_problem({1, i, "x"});
  CHECK(job.bad_rows == 150);
  CHECK(job.problems.size() == sync_job::max_problems);
  CHECK(job.problems.front().line == 50);
  for (int i = 0; i < 30; ++i) job.add_error("e", 0);
  CHECK(job.errors.size() == sync_job::max_errors);
}

TEST_CASE("progress reports rate and ETA from the stored counts", "[marketo]") {
  sync_job job = plan_sync("full", {}, *parse_iso8601("2026-01-01T00:00:00Z"), *parse_iso8601("2026-01-20T00:00:00Z"), 1000);
  job.records_done = 500'000;
  job.records_total = 1'000'000;
  job.ingest_ms = 5'000;
  auto p = progress_json(job, 11'000);
  CHECK(p["rate_per_s"] == 100'000);
  CHECK(p["eta_s"] == 5);
  CHECK(p["elapsed_s"] == 10);
  CHECK(p["window"]["number"] == 1);
  CHECK(p["window"]["of"] == 1);
  job.state = "completed";
  CHECK(progress_json(job, 11'000)["eta_s"].is_null());
}

TEST_CASE("a header maps columns and a row becomes a lead", "[marketo]") {
  std::vector<std::string> schema{"updatedAt", "firstName", "company"};
  std::string why;
  auto header = row({"id", "firstName", "email", "company", "updatedAt"});
  auto cols = map_header(header, schema, &why);
  REQUIRE(cols);
  CHECK(cols->values == std::vector<int>{4, 1, 3});
  auto lead = row_to_lead(row({"42", "Ada", "ada@example.com", "null", "2026-01-02T03:04:05Z"}), *cols, 3, 99);
  REQUIRE(lead.index() == 0);
  const auto& l = std::get<0>(lead);
  CHECK(l.id == "42");
  CHECK(l.email == "ada@example.com");
  CHECK(l.values == std::vector<std::string>{"2026-01-02T03:04:05Z", "Ada", ""}); // null is empty
  CHECK(l.updated_ms == 1767323045000);
  CHECK(l.schema == 3);
  CHECK(l.synced_ms == 99);

  CHECK_THAT(std::get<1>(row_to_lead(row({"42", "Ada"}), *cols, 3, 0)), Catch::Contains("expected 5 fields, found 2"));
  CHECK(std::get<0>(row_to_lead(row({"0042", "a", "b", "c", "d"}), *cols, 3, 0)).id == "42");
  for (auto bad : {"", "null", "x1", "-3", "0", "1.5", "99999999999999999999999"})
    CHECK(row_to_lead(row({bad, "a", "b", "c", "d"}), *cols, 3, 0).index() == 1);
  CHECK_FALSE(map_header(row({"email", "firstName"}), schema, &why));
  CHECK(why == "the export's header has no id column");
}

TEST_CASE("a schema is reused for the same fields and a new one numbered for others", "[marketo]") {
  dynchat::store::write_batch b;
  auto first = dynchat::store::writes::schema_for(std::nullopt, {"firstName"}, b);
  CHECK(first.id == 1);
  CHECK(b.size() == 1);
  auto same = dynchat::store::writes::schema_for(first, {"firstName"}, b);
  CHECK(same.id == 1);
  CHECK(b.size() == 1); // nothing new to store
  auto other = dynchat::store::writes::schema_for(first, {"firstName", "title"}, b);
  CHECK(other.id == 2);
  CHECK(b.size() == 2);
}
