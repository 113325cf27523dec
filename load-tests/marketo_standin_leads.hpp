#pragma once
// The stand-in's lead database (internal to marketo_standin):
// - field_catalog: what Describe Lead answers, standard fields then customField1..N;
// - lead_generator: leads 1..N whose every value is a pure function of (number, field),
//   so nothing is stored for them and an export of a million leads is generated, not read;
// - lead_store: the generator plus what the API changed (leads created past N, fields
//   set on generated leads, extra cookies); copied as a snapshot when an export starts;
// - build_export: the CSV/TSV/SSV file of an export job, written by a few threads into
//   parts (never one 550 MB string copied about), with its SHA-256.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dynchat::testing::standin {

// --- time: seconds since the Unix epoch, written as Marketo writes them (UTC, "Z") ---

/// Appends 2024-01-02T03:04:05Z.
void append_time(std::string& out, std::int64_t unix_s);
std::string format_time(std::int64_t unix_s);
/// ISO 8601: 2024-01-02, 2024-01-02T03:04:05, with optional fraction (dropped) and zone
/// (Z, +hh:mm, +hhmm, +hh; none = UTC). Nothing for anything else.
std::optional<std::int64_t> parse_time(std::string_view s);

// --- fields ---

enum class field_type : std::uint8_t { integer, string, email, phone, url, text, datetime, currency, boolean };
std::string_view type_name(field_type t);

enum class field_kind : std::uint8_t {
  id, email, salutation, first_name, middle_name, last_name, title, company, phone, mobile_phone, website,
  address, city, state, country, postal_code, industry, annual_revenue, number_of_employees, lead_source,
  lead_status, lead_score, unsubscribed, created_at, updated_at, cookies, anonymous_ip, custom
};

struct field_def {
  int index = 0;            // in the catalog
  int describe_id = 0;
  std::string name;         // REST API name
  std::string display_name;
  field_type type = field_type::string;
  unsigned length = 0;      // 0: no length reported
  bool read_only = false;
  std::string soap_name;    // empty: not in the SOAP API
  field_kind kind = field_kind::custom;
  unsigned custom_index = 0; // customField<custom_index>
};

class field_catalog {
public:
  explicit field_catalog(unsigned custom_fields);
  const std::vector<field_def>& fields() const { return fields_; }
  const field_def& at(int index) const { return fields_[static_cast<std::size_t>(index)]; }
  /// Exact REST name; -1 if there is no such field.
  int index_of(std::string_view name) const;

private:
  std::vector<field_def> fields_;
  std::unordered_map<std::string, int> by_name_;
};

// --- generated leads ---

struct lead_generator {
  std::uint64_t count = 0;
  std::int64_t first_created = 0, last_created = 0; // spread evenly over leads 1..count
  std::int64_t now = 0;                             // updatedAt is capped here
  std::string munchkin_id;

  std::int64_t created_at(std::uint64_t n) const;
  /// createdAt + (n % 45) days, capped at `now`.
  std::int64_t updated_at(std::uint64_t n) const;
  /// The first lead created at or after t (count + 1 if none).
  std::uint64_t first_created_from(std::int64_t t) const;

  /// Appends lead n's value of the field; nothing when it is empty.
  void append(std::string& out, std::uint64_t n, const field_def& f) const;
  std::string email(std::uint64_t n) const;        // lead<n>@example<n%97>.com
  std::string cookie_token(std::uint64_t n) const; // _mch-example.com-<n>-<5 digits>
  std::string cookie(std::uint64_t n) const;       // id:<munchkin>&token:<cookie_token>
  /// Which generated lead has this (lower-case) email / cookie token.
  std::optional<std::uint64_t> from_email(std::string_view email) const;
  std::optional<std::uint64_t> from_token(std::string_view token) const;
};

// --- the store ---

/// What the API set on a lead: every value of a lead created past N, the changed values
/// of a generated one.
struct stored_lead {
  std::unordered_map<int, std::string> values; // field index -> text ("" = null)
  std::int64_t created_at = 0, updated_at = 0;
  std::vector<std::string> cookies;            // tokens added (generated leads keep theirs)
};

using field_values = std::vector<std::pair<int, std::string>>;

/// Not thread-safe: the stand-in guards it; an export works on a copy.
class lead_store {
public:
  lead_store(std::shared_ptr<const field_catalog> catalog, lead_generator gen);

  const field_catalog& catalog() const { return *catalog_; }
  const lead_generator& generator() const { return gen_; }
  std::uint64_t last_id() const { return gen_.count + created_.size(); }
  bool exists(std::uint64_t id) const { return id >= 1 && id <= last_id(); }

  /// A generated lead's changes, or nullptr.
  const stored_lead* changes(std::uint64_t n) const;
  /// A lead created past N (id > N), or nullptr.
  const stored_lead* created(std::uint64_t id) const;
  /// Appends the text of the lead's field (nothing when empty); `ch` = changes(id) for a
  /// generated lead, so that a row looks them up once.
  void append_value(std::string& out, std::uint64_t id, const field_def& f, const stored_lead* ch) const;
  std::string value(std::uint64_t id, int field) const;
  std::int64_t created_at(std::uint64_t id) const;
  std::int64_t updated_at(std::uint64_t id) const;

  /// Case-insensitive; ascending ids.
  std::vector<std::uint64_t> find_by_email(std::string_view email) const;
  std::optional<std::uint64_t> find_by_token(std::string_view token) const;

  std::uint64_t create(const field_values& values, std::int64_t now);
  /// Sets the values and bumps updatedAt to `now`.
  void update(std::uint64_t id, const field_values& values, std::int64_t now);
  void add_cookie(std::uint64_t id, std::string token);

private:
  stored_lead* mutable_lead(std::uint64_t id);
  void set_email(std::uint64_t id, const std::string& old_email, const std::string& new_email);

  std::shared_ptr<const field_catalog> catalog_;
  lead_generator gen_;
  std::unordered_map<std::uint64_t, stored_lead> changed_;
  std::vector<stored_lead> created_;                                   // ids N+1...
  std::unordered_map<std::string, std::vector<std::uint64_t>> emails_; // stored emails, lower-case
  std::unordered_map<std::string, std::uint64_t> tokens_;              // added cookie tokens
  int email_field_ = -1;
};

// --- exports ---

struct export_spec {
  std::vector<int> fields;
  std::vector<std::string> headers; // column names, in field order
  char delimiter = ',';
  bool by_updated_at = false;       // else createdAt
  std::int64_t start_at = 0, end_at = 0;
  bool end_inclusive = false;
};

struct export_file {
  std::vector<std::string> parts; // the file is their concatenation
  std::vector<std::uint64_t> starts;
  std::uint64_t size = 0;
  std::uint64_t records = 0;
  std::string sha256; // lower-case hex
  /// Appends bytes [offset, offset + length) of the file.
  void copy(std::uint64_t offset, std::uint64_t length, std::string& out) const;
};

/// RFC 4180 quoting (with the given delimiter), `null` for an empty value.
std::shared_ptr<const export_file> build_export(const lead_store& snapshot, const export_spec& spec, unsigned threads);

} // namespace dynchat::testing::standin
