#include "marketo_standin_leads.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <date/date.h>
#include <openssl/evp.h>

namespace dynchat::testing::standin {
namespace {

// --- calendar: Howard Hinnant's date library, as the rest of dynchat uses ---
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  return date::sys_days{date::year{static_cast<int>(y)} / date::month{m} / date::day{d}}.time_since_epoch().count();
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  const date::year_month_day ymd{date::sys_days{date::days{z}}};
  y = static_cast<int>(ymd.year());
  m = static_cast<unsigned>(ymd.month());
  d = static_cast<unsigned>(ymd.day());
}

void put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// --- deterministic values ---

std::uint64_t mix(std::uint64_t n, std::uint64_t salt) {
  std::uint64_t z = n * 0x9E3779B97F4A7C15ull + salt * 0xBF58476D1CE4E5B9ull + 0x94D049BB133111EBull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_hex8(std::string& out, std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = digits[v & 0xF];
    v >>= 4;
  }
  out.append(buf, 8);
}

void append_padded(std::string& out, std::uint64_t v, int width) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<std::size_t>(width));
}

template <std::size_t N>
std::string_view pick(const std::array<std::string_view, N>& list, std::uint64_t h) {
  return list[h % N];
}

// A parser meets commas, quotes, semicolons, tabs, newlines (LF and CRLF), UTF-8 and
// apostrophes in these.
constexpr std::array<std::string_view, 36> first_names{
  "Ada", "Grace", "Alan", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Edsger", "Radia", "Donald",
  "Hedy", "John", "Katherine", "Tim", "Sophie", "Niklaus", "Joan", "Bjarne", "Anita", "Guido", "Shafi", "Leslie",
  "Mary", "James", "Adele", "Robin", "Fernando", "Jean", "Karen", "Whitfield", "Zoë", "José", "Łukasz", "Chloé"};
constexpr std::array<std::string_view, 32> last_names{
  "Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen", "Dijkstra",
  "Perlman", "Knuth", "Lamarr", "Backus", "Johnson", "Berners-Lee", "Wilson", "Wirth", "Clarke", "Stroustrup",
  "Borg", "van Rossum", "Goldwasser", "Lamport", "O'Brien", "García", "van der Berg", "Nuñez", "Milner",
  "Corbató", "Spärck Jones", "Diffie"};
constexpr std::array<std::string_view, 16> companies{
  "Acme Corp", "Globex, Inc.", "Initech", "Smith, Jones & Partners", "\"Best\" Widgets Ltd",
  "Umbrella Holdings; Europe", "Wayne Enterprises", "O'Reilly \"Media\", LLC", "Stark Industries",
  "Cyberdyne Systems", "Soylent, \"Green\" Foods", "Hooli", "Vandelay\tImports", "Pied Piper",
  "Massive Dynamic", "Tyrell Corporation"};
constexpr std::array<std::string_view, 12> titles{
  "Engineer", "VP of Sales\nEMEA", "CTO", "Marketing Manager", "Director, Operations", "Head of \"Growth\"",
  "Account Executive", "Chief Executive Officer", "Product Manager", "Developer Advocate\r\nAPAC",
  "Data Scientist", "Office Manager"};
constexpr std::array<std::string_view, 4> salutations{"Mr.", "Ms.", "Dr.", "Mx."};
constexpr std::array<std::string_view, 12> cities{"Berlin",   "Paris",  "London",   "New York", "San Francisco",
                                                  "Montréal", "Zürich", "São Paulo", "Tokyo",    "Austin",
                                                  "Sydney",   "Dublin"};
constexpr std::array<std::string_view, 8> states{"CA", "NY", "TX", "WA", "IL", "MA", "", "ON"};
constexpr std::array<std::string_view, 8> countries{"USA", "Germany", "France", "United Kingdom", "Canada",
                                                    "Brazil", "Japan", "Australia"};
constexpr std::array<std::string_view, 8> industries{"Software", "Manufacturing", "Healthcare", "Finance",
                                                     "Education", "Retail", "Media, Entertainment", "Energy"};
constexpr std::array<std::string_view, 5> sources{"Website", "Trade Show", "Webinar", "Partner", "Paid Search"};
constexpr std::array<std::string_view, 4> statuses{"Open", "Contacted", "Qualified", "Unqualified"};

constexpr std::int64_t day = 86400;

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

} // namespace

// --- time ---

void append_time(std::string& out, std::int64_t t) {
  std::int64_t days = t >= 0 ? t / day : (t - (day - 1)) / day;
  std::int64_t secs = t - days * day;
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  char buf[20];
  const auto yy = static_cast<unsigned>(std::clamp<std::int64_t>(y, 0, 9999));
  put2(buf, yy / 100);
  put2(buf + 2, yy % 100);
  buf[4] = '-';
  put2(buf + 5, m);
  buf[7] = '-';
  put2(buf + 8, d);
  buf[10] = 'T';
  put2(buf + 11, static_cast<unsigned>(secs / 3600));
  buf[13] = ':';
  put2(buf + 14, static_cast<unsigned>(secs / 60 % 60));
  buf[16] = ':';
  put2(buf + 17, static_cast<unsigned>(secs % 60));
  buf[19] = 'Z';
  out.append(buf, 20);
}

std::string format_time(std::int64_t t) {
  std::string s;
  append_time(s, t);
  return s;
}

std::optional<std::int64_t> parse_time(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&](int count, unsigned& v) {
    v = 0;
    for (int k = 0; k < count; ++k, ++i) {
      if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      v = v * 10 + static_cast<unsigned>(s[i] - '0');
    }
    return true;
  };
  auto expect = [&](char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (!digits(4, y) || !expect('-') || !digits(2, mo) || !expect('-') || !digits(2, d)) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  std::int64_t offset = 0;
  if (i < s.size()) {
    if (!expect('T')) return std::nullopt;
    if (!digits(2, h) || !expect(':') || !digits(2, mi)) return std::nullopt;
    if (expect(':') && !digits(2, se)) return std::nullopt;
    if (h > 23 || mi > 59 || se > 60) return std::nullopt;
    if (expect('.')) {
      const auto from = i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      if (i == from) return std::nullopt;
    }
    if (i < s.size()) {
      if (expect('Z')) {
      } else if (s[i] == '+' || s[i] == '-') {
        const int sign = s[i] == '-' ? -1 : 1;
        ++i;
        unsigned oh = 0, om = 0;
        if (!digits(2, oh)) return std::nullopt;
        if (i < s.size()) {
          expect(':');
          if (!digits(2, om)) return std::nullopt;
        }
        if (oh > 23 || om > 59) return std::nullopt;
        offset = sign * static_cast<std::int64_t>(oh * 3600 + om * 60);
      } else {
        return std::nullopt;
      }
    }
    if (i != s.size()) return std::nullopt;
  }
  return days_from_civil(y, mo, d) * day + h * 3600 + mi * 60 + se - offset;
}

// --- fields ---

std::string_view type_name(field_type t) {
  switch (t) {
  case field_type::integer: return "integer";
  case field_type::string: return "string";
  case field_type::email: return "email";
  case field_type::phone: return "phone";
  case field_type::url: return "url";
  case field_type::text: return "text";
  case field_type::datetime: return "datetime";
  case field_type::currency: return "currency";
  case field_type::boolean: return "boolean";
  }
  return "string";
}

field_catalog::field_catalog(unsigned custom_fields) {
  using k = field_kind;
  using t = field_type;
  struct row {
    const char* name;
    const char* display;
    field_type type;
    unsigned length;
    bool read_only;
    const char* soap;
    field_kind kind;
  };
  static constexpr row standard[] = {
    {"id", "Id", t::integer, 0, true, "Id", k::id},
    {"email", "Email Address", t::email, 255, false, "Email", k::email},
    {"salutation", "Salutation", t::string, 255, false, "Salutation", k::salutation},
    {"firstName", "First Name", t::string, 255, false, "FirstName", k::first_name},
    {"middleName", "Middle Name", t::string, 255, false, "MiddleName", k::middle_name},
    {"lastName", "Last Name", t::string, 255, false, "LastName", k::last_name},
    {"title", "Job Title", t::string, 255, false, "Title", k::title},
    {"company", "Company Name", t::string, 255, false, "Company", k::company},
    {"phone", "Phone Number", t::phone, 255, false, "Phone", k::phone},
    {"mobilePhone", "Mobile Phone Number", t::phone, 255, false, "MobilePhone", k::mobile_phone},
    {"website", "Website", t::url, 255, false, "Website", k::website},
    {"address", "Address", t::text, 0, false, "Address", k::address},
    {"city", "City", t::string, 255, false, "City", k::city},
    {"state", "State", t::string, 255, false, "State", k::state},
    {"country", "Country", t::string, 255, false, "Country", k::country},
    {"postalCode", "Postal Code", t::string, 255, false, "PostalCode", k::postal_code},
    {"industry", "Industry", t::string, 255, false, "Industry", k::industry},
    {"annualRevenue", "Annual Revenue", t::currency, 0, false, "AnnualRevenue", k::annual_revenue},
    {"numberOfEmployees", "Num Employees", t::integer, 0, false, "NumberOfEmployees", k::number_of_employees},
    {"leadSource", "Lead Source", t::string, 255, false, "LeadSource", k::lead_source},
    {"leadStatus", "Lead Status", t::string, 255, false, "LeadStatus", k::lead_status},
    {"leadScore", "Lead Score", t::integer, 0, false, "LeadScore", k::lead_score},
    {"unsubscribed", "Unsubscribed", t::boolean, 0, false, "Unsubscribed", k::unsubscribed},
    {"createdAt", "Created At", t::datetime, 0, true, "CreatedAt", k::created_at},
    {"updatedAt", "Updated At", t::datetime, 0, true, "UpdatedAt", k::updated_at},
    {"cookies", "Cookies", t::string, 255, false, "", k::cookies},
    {"anonymousIP", "Anonymous IP", t::string, 255, false, "AnonymousIP", k::anonymous_ip},
  };
  int id = 1;
  for (const auto& r : standard) {
    fields_.push_back(field_def{static_cast<int>(fields_.size()), id++, r.name, r.display, r.type, r.length,
                                r.read_only, r.soap, r.kind, 0});
  }
  for (unsigned i = 1; i <= custom_fields; ++i) {
    const auto name = "customField" + std::to_string(i);
    fields_.push_back(field_def{static_cast<int>(fields_.size()), 1000 + static_cast<int>(i), name,
                                "Custom Field " + std::to_string(i),
                                field_type::string, 255, false, name, field_kind::custom, i});
  }
  for (std::size_t i = 0; i < fields_.size(); ++i) by_name_.emplace(fields_[i].name, static_cast<int>(i));
}

int field_catalog::index_of(std::string_view name) const {
  const auto it = by_name_.find(std::string{name});
  return it == by_name_.end() ? -1 : it->second;
}

// --- generated leads ---

std::int64_t lead_generator::created_at(std::uint64_t n) const {
  if (count <= 1) return first_created;
  return first_created +
         (last_created - first_created) * static_cast<std::int64_t>(n - 1) / static_cast<std::int64_t>(count - 1);
}

std::int64_t lead_generator::updated_at(std::uint64_t n) const {
  return std::min(created_at(n) + static_cast<std::int64_t>(n % 45) * day, now);
}

std::uint64_t lead_generator::first_created_from(std::int64_t t) const {
  std::uint64_t lo = 1, hi = count + 1;
  while (lo < hi) {
    const auto mid = lo + (hi - lo) / 2;
    if (created_at(mid) < t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

void lead_generator::append(std::string& out, std::uint64_t n, const field_def& f) const {
  const auto h = mix(n, static_cast<std::uint64_t>(f.describe_id));
  switch (f.kind) {
  case field_kind::id: append_uint(out, n); return;
  case field_kind::email:
    out += "lead";
    append_uint(out, n);
    out += "@example";
    append_uint(out, n % 97);
    out += ".com";
    return;
  case field_kind::salutation:
    if (n % 5 != 0) out += pick(salutations, h);
    return;
  case field_kind::first_name: out += pick(first_names, h); return;
  case field_kind::middle_name:
    if (n % 3 == 0) out += pick(first_names, h);
    return;
  case field_kind::last_name:
    if (n % 89 != 0) out += pick(last_names, h);
    return;
  case field_kind::title:
    if (n % 17 != 0) out += n % 11 == 0 ? titles[1] : pick(titles, h);
    return;
  case field_kind::company:
    if (n % 29 != 0) out += companies[n % companies.size()];
    return;
  case field_kind::phone:
    if (n % 13 == 0) return;
    out += "+1-555-";
    append_padded(out, h % 10000, 4);
    return;
  case field_kind::mobile_phone:
    if (n % 2 == 1) return;
    out += "+44 7700 ";
    append_padded(out, h % 1000000, 6);
    return;
  case field_kind::website:
    out += "https://www.example";
    append_uint(out, n % 97);
    out += ".com/";
    return;
  case field_kind::address:
    if (n % 19 == 0) return;
    append_uint(out, h % 9999 + 1);
    out += " Main Street";
    if (n % 23 == 0) out += "\nSuite 200";
    return;
  case field_kind::city: out += pick(cities, h); return;
  case field_kind::state: out += pick(states, h); return;
  case field_kind::country: out += pick(countries, h); return;
  case field_kind::postal_code: append_padded(out, h % 100000, 5); return;
  case field_kind::industry: out += pick(industries, h); return;
  case field_kind::annual_revenue:
    if (n % 7 == 0) return;
    append_uint(out, (h % 500 + 1) * 10000);
    return;
  case field_kind::number_of_employees: append_uint(out, h % 10000 + 1); return;
  case field_kind::lead_source: out += pick(sources, h); return;
  case field_kind::lead_status: out += pick(statuses, h); return;
  case field_kind::lead_score: append_uint(out, h % 100); return;
  case field_kind::unsubscribed: out += n % 31 == 0 ? "true" : "false"; return;
  case field_kind::created_at: append_time(out, created_at(n)); return;
  case field_kind::updated_at: append_time(out, updated_at(n)); return;
  case field_kind::cookies:
    out += "_mch-example.com-";
    append_uint(out, n);
    out += '-';
    append_uint(out, mix(n, 7) % 90000 + 10000);
    return;
  case field_kind::anonymous_ip:
    out += "10.";
    append_uint(out, (n >> 16) & 255);
    out += '.';
    append_uint(out, (n >> 8) & 255);
    out += '.';
    append_uint(out, n & 255);
    return;
  case field_kind::custom: {
    const unsigned k = f.custom_index;
    if (h % 8 == 0) return; // empty
    if (k % 7 == 3)
      out += "alpha, beta ";
    else if (k % 11 == 5)
      out += "say \"hi\" ";
    else if (k % 13 == 6)
      out += "x;y ";
    else {
      out += 'c';
      append_uint(out, k);
      out += '-';
    }
    append_hex8(out, h >> 32);
    return;
  }
  }
}

std::string lead_generator::email(std::uint64_t n) const {
  std::string s;
  field_def f;
  f.kind = field_kind::email;
  append(s, n, f);
  return s;
}

std::string lead_generator::cookie_token(std::uint64_t n) const {
  std::string s;
  field_def f;
  f.kind = field_kind::cookies;
  append(s, n, f);
  return s;
}

std::string lead_generator::cookie(std::uint64_t n) const { return "id:" + munchkin_id + "&token:" + cookie_token(n); }

namespace {

// Parses the decimal number at the front of s (no sign, no leading zero), advancing s.
std::optional<std::uint64_t> take_number(std::string_view& s) {
  std::uint64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr == s.data() || (s[0] == '0' && r.ptr - s.data() > 1)) return std::nullopt;
  s.remove_prefix(static_cast<std::size_t>(r.ptr - s.data()));
  return v;
}

} // namespace

std::optional<std::uint64_t> lead_generator::from_email(std::string_view e) const {
  if (!e.starts_with("lead")) return std::nullopt;
  std::string_view rest = e.substr(4);
  const auto n = take_number(rest);
  if (!n || *n < 1 || *n > count) return std::nullopt;
  return email(*n) == e ? n : std::nullopt;
}

std::optional<std::uint64_t> lead_generator::from_token(std::string_view t) const {
  constexpr std::string_view prefix = "_mch-example.com-";
  if (!t.starts_with(prefix)) return std::nullopt;
  std::string_view rest = t.substr(prefix.size());
  const auto n = take_number(rest);
  if (!n || *n < 1 || *n > count) return std::nullopt;
  return cookie_token(*n) == t ? n : std::nullopt;
}

// --- the store ---

lead_store::lead_store(std::shared_ptr<const field_catalog> catalog, lead_generator gen)
  : catalog_(std::move(catalog)), gen_(std::move(gen)), email_field_(catalog_->index_of("email")) {}

const stored_lead* lead_store::changes(std::uint64_t n) const {
  if (changed_.empty()) return nullptr;
  const auto it = changed_.find(n);
  return it == changed_.end() ? nullptr : &it->second;
}

const stored_lead* lead_store::created(std::uint64_t id) const {
  if (id <= gen_.count || id > last_id()) return nullptr;
  return &created_[id - gen_.count - 1];
}

void lead_store::append_value(std::string& out, std::uint64_t id, const field_def& f, const stored_lead* ch) const {
  const bool generated = id <= gen_.count;
  const stored_lead* st = generated ? ch : created(id);
  switch (f.kind) {
  case field_kind::id: append_uint(out, id); return;
  case field_kind::created_at: append_time(out, generated ? gen_.created_at(id) : st->created_at); return;
  case field_kind::updated_at: append_time(out, st ? st->updated_at : gen_.updated_at(id)); return;
  case field_kind::cookies: {
    bool first = true;
    if (generated) {
      gen_.append(out, id, f);
      first = false;
    }
    if (st) {
      for (const auto& c : st->cookies) {
        if (!first) out += ',';
        out += c;
        first = false;
      }
    }
    return;
  }
  default: break;
  }
  if (st) {
    const auto it = st->values.find(f.index);
    if (it != st->values.end()) {
      out += it->second;
      return;
    }
    if (!generated) return; // never set: null
  }
  gen_.append(out, id, f);
}

std::string lead_store::value(std::uint64_t id, int field) const {
  std::string s;
  if (!exists(id)) return s;
  append_value(s, id, catalog_->at(field), id <= gen_.count ? changes(id) : nullptr);
  return s;
}

std::int64_t lead_store::created_at(std::uint64_t id) const {
  return id <= gen_.count ? gen_.created_at(id) : created(id)->created_at;
}

std::int64_t lead_store::updated_at(std::uint64_t id) const {
  if (id <= gen_.count) {
    const auto* ch = changes(id);
    return ch ? ch->updated_at : gen_.updated_at(id);
  }
  return created(id)->updated_at;
}

std::vector<std::uint64_t> lead_store::find_by_email(std::string_view email) const {
  const auto key = lower(email);
  std::vector<std::uint64_t> ids;
  if (const auto it = emails_.find(key); it != emails_.end()) ids = it->second;
  if (const auto n = gen_.from_email(key)) {
    const auto* ch = changes(*n);
    if (!ch || !ch->values.contains(email_field_)) ids.push_back(*n);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::optional<std::uint64_t> lead_store::find_by_token(std::string_view token) const {
  if (const auto it = tokens_.find(std::string{token}); it != tokens_.end()) return it->second;
  return gen_.from_token(token);
}

stored_lead* lead_store::mutable_lead(std::uint64_t id) {
  if (id <= gen_.count) {
    auto [it, fresh] = changed_.try_emplace(id);
    if (fresh) {
      it->second.created_at = gen_.created_at(id);
      it->second.updated_at = gen_.updated_at(id);
    }
    return &it->second;
  }
  return &created_[id - gen_.count - 1];
}

void lead_store::set_email(std::uint64_t id, const std::string& old_email, const std::string& new_email) {
  if (const auto it = emails_.find(lower(old_email)); it != emails_.end()) {
    std::erase(it->second, id);
    if (it->second.empty()) emails_.erase(it);
  }
  if (!new_email.empty()) emails_[lower(new_email)].push_back(id);
}

std::uint64_t lead_store::create(const field_values& values, std::int64_t now) {
  created_.emplace_back();
  const auto id = last_id();
  auto& st = created_.back();
  st.created_at = st.updated_at = now;
  for (const auto& [f, v] : values) {
    if (f == email_field_) set_email(id, {}, v);
    st.values[f] = v;
  }
  return id;
}

void lead_store::update(std::uint64_t id, const field_values& values, std::int64_t now) {
  if (!exists(id)) throw std::out_of_range("no lead " + std::to_string(id));
  for (const auto& [f, v] : values) {
    if (f == email_field_) {
      const auto old = value(id, f);
      // A generated lead's own email is found by parsing; stored ones by the index.
      const bool indexed = id > gen_.count || (changes(id) && changes(id)->values.contains(f));
      set_email(id, indexed ? old : std::string{}, v);
    }
    mutable_lead(id)->values[f] = v;
  }
  mutable_lead(id)->updated_at = now;
}

void lead_store::add_cookie(std::uint64_t id, std::string token) {
  if (!exists(id)) throw std::out_of_range("no lead " + std::to_string(id));
  tokens_[token] = id;
  mutable_lead(id)->cookies.push_back(std::move(token));
}

// --- exports ---

void export_file::copy(std::uint64_t offset, std::uint64_t length, std::string& out) const {
  if (offset >= size || length == 0) return;
  length = std::min(length, size - offset);
  out.reserve(out.size() + length);
  auto i = static_cast<std::size_t>(std::upper_bound(starts.begin(), starts.end(), offset) - starts.begin()) - 1;
  while (length > 0 && i < parts.size()) {
    const auto within = offset - starts[i];
    const auto n = std::min<std::uint64_t>(length, parts[i].size() - within);
    out.append(parts[i], within, n);
    offset += n;
    length -= n;
    ++i;
  }
}

namespace {

struct quoting {
  std::array<bool, 256> special{};
  explicit quoting(char delimiter) {
    special[static_cast<unsigned char>(delimiter)] = true;
    special['"'] = special['\n'] = special['\r'] = true;
  }
  bool needed(const char* p, std::size_t n) const {
    for (std::size_t i = 0; i < n; ++i)
      if (special[static_cast<unsigned char>(p[i])]) return true;
    return false;
  }
};

// Writes the cell appended at `at` as it goes in the file: `null` if empty, quoted if it
// holds the delimiter, a quote or a line break.
void finish_cell(std::string& out, std::size_t at, const quoting& q) {
  if (out.size() == at) {
    out += "null";
    return;
  }
  if (!q.needed(out.data() + at, out.size() - at)) return;
  const std::string v = out.substr(at);
  out.resize(at);
  out += '"';
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

struct row_writer {
  const lead_store& store;
  const export_spec& spec;
  const quoting q;
  std::vector<const field_def*> fields;

  row_writer(const lead_store& s, const export_spec& sp) : store(s), spec(sp), q(sp.delimiter) {
    for (int f : spec.fields) fields.push_back(&store.catalog().at(f));
  }

  bool in_range(std::int64_t t) const {
    return t >= spec.start_at && (spec.end_inclusive ? t <= spec.end_at : t < spec.end_at);
  }

  void row(std::string& out, std::uint64_t id, const stored_lead* ch) const {
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i) out += spec.delimiter;
      const auto at = out.size();
      store.append_value(out, id, *fields[i], ch);
      finish_cell(out, at, q);
    }
    out += '\n';
  }

  // Generated leads [from, to) that pass the filter.
  std::uint64_t generated(std::string& out, std::uint64_t from, std::uint64_t to) const {
    std::uint64_t records = 0;
    const auto& gen = store.generator();
    for (auto n = from; n < to; ++n) {
      const auto* ch = store.changes(n);
      if (spec.by_updated_at && !in_range(ch ? ch->updated_at : gen.updated_at(n))) continue;
      row(out, n, ch);
      ++records;
    }
    return records;
  }
};

} // namespace

std::shared_ptr<const export_file> build_export(const lead_store& store, const export_spec& spec, unsigned threads) {
  auto file = std::make_shared<export_file>();
  const row_writer w{store, spec};
  const auto& gen = store.generator();

  std::string header;
  for (std::size_t i = 0; i < spec.headers.size(); ++i) {
    if (i) header += spec.delimiter;
    const auto at = header.size();
    header += spec.headers[i];
    finish_cell(header, at, w.q);
  }
  header += '\n';
  file->parts.push_back(std::move(header));

  // Generated leads: createdAt grows with the number, so a createdAt filter is a range of
  // numbers; an updatedAt filter looks at every lead.
  std::uint64_t lo = 1, hi = gen.count + 1;
  if (!spec.by_updated_at) {
    lo = gen.first_created_from(spec.start_at);
    hi = std::max(lo, gen.first_created_from(spec.end_inclusive ? spec.end_at + 1 : spec.end_at));
  }
  const auto rows = hi - lo;
  threads = static_cast<unsigned>(std::clamp<std::uint64_t>(rows / 20000, 1, std::max(1u, threads)));
  std::vector<std::string> chunks(threads);
  std::vector<std::uint64_t> counts(threads);
  {
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t) {
      const auto from = lo + rows * t / threads, to = lo + rows * (t + 1) / threads;
      auto work = [&, t, from, to] {
        // A createdAt range is the rows themselves; an updatedAt filter may keep few.
        if (!spec.by_updated_at) chunks[t].reserve((to - from) * (spec.fields.size() * 13 + 8));
        counts[t] = w.generated(chunks[t], from, to);
      };
      if (t + 1 == threads)
        work();
      else
        workers.emplace_back(work);
    }
    for (auto& th : workers) th.join();
  }
  for (unsigned t = 0; t < threads; ++t) {
    file->records += counts[t];
    if (!chunks[t].empty()) file->parts.push_back(std::move(chunks[t]));
  }

  // Leads created through the API.
  std::string tail;
  for (auto id = gen.count + 1; id <= store.last_id(); ++id) {
    const auto* st = store.created(id);
    if (!w.in_range(spec.by_updated_at ? st->updated_at : st->created_at)) continue;
    w.row(tail, id, nullptr);
    ++file->records;
  }
  if (!tail.empty()) file->parts.push_back(std::move(tail));

  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  for (const auto& p : file->parts) {
    file->starts.push_back(file->size);
    file->size += p.size();
    EVP_DigestUpdate(ctx.get(), p.data(), p.size());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  static constexpr char hex[] = "0123456789abcdef";
  for (unsigned i = 0; i < len; ++i) {
    file->sha256 += hex[digest[i] >> 4];
    file->sha256 += hex[digest[i] & 15];
  }
  return file;
}

} // namespace dynchat::testing::standin
