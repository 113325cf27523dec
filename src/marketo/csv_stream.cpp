#include "dynchat/marketo/csv_stream.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <stdexcept>

namespace dynchat::marketo {
namespace {

constexpr unsigned char utf8_bom[3] = {0xEF, 0xBB, 0xBF};
constexpr std::size_t npos = static_cast<std::size_t>(-1);

inline unsigned char byte(char c) noexcept { return static_cast<unsigned char>(c); }

// The length of the UTF-8 sequence whose lead byte (>= 0x80) is at p; 0 when it is not
// well-formed (Unicode table 3-7: no overlongs, surrogates or code points past U+10FFFF);
// -1 when [p, end) stops inside a sequence that is well-formed so far.
int utf8_sequence(const char* p, const char* end) noexcept {
  const unsigned char c = byte(*p);
  int n;
  unsigned char lo = 0x80, hi = 0xBF; // the range of the second byte
  if (c < 0xC2) return 0;             // a continuation byte, or an overlong C0/C1 lead
  if (c < 0xE0) {
    n = 2;
  } else if (c < 0xF0) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;      // overlong
    else if (c == 0xED) hi = 0x9F; // surrogates
  } else if (c < 0xF5) {
    n = 4;
    if (c == 0xF0) lo = 0x90;      // overlong
    else if (c == 0xF4) hi = 0x8F; // past U+10FFFF
  } else {
    return 0;
  }
  const auto avail = end - p;
  if (avail < 2) return -1;
  if (byte(p[1]) < lo || byte(p[1]) > hi) return 0;
  for (int i = 2; i < n; ++i) {
    if (avail <= i) return -1;
    if ((byte(p[i]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

} // namespace

std::string_view to_string(csv_fault f) noexcept {
  switch (f) {
    case csv_fault::unterminated_quote: return "unterminated_quote";
    case csv_fault::text_after_quote: return "text_after_quote";
    case csv_fault::quote_in_unquoted: return "quote_in_unquoted";
    case csv_fault::bare_cr: return "bare_cr";
    case csv_fault::invalid_utf8: return "invalid_utf8";
    case csv_fault::field_count: return "field_count";
    case csv_fault::too_many_fields: return "too_many_fields";
    case csv_fault::row_too_long: return "row_too_long";
  }
  return "unknown";
}

csv_stream::csv_stream(char delimiter, csv_limits limits, std::uint64_t start_offset,
                       std::uint64_t start_line)
  : delim_(delimiter),
    limits_(limits),
    in_offset_(start_offset),
    bom_pending_(start_offset == 0),
    line_(start_line),
    offset_(start_offset),
    resume_line_(start_line) {
  if (delimiter == '"' || delimiter == '\n' || delimiter == '\r' || byte(delimiter) >= 0x80)
    throw std::invalid_argument("csv_stream: the delimiter cannot be a quote, CR, LF or non-ASCII");
  if (limits.max_row_bytes == 0 || limits.max_fields == 0)
    throw std::invalid_argument("csv_stream: limits must be positive");
  for (int c = 0; c < 256; ++c) {
    special_[c] = c == byte(delimiter) || c == '\n' || c == '\r' || c == '"' || c >= 0x80;
    qspecial_[c] = c == '\n' || c == '"' || c >= 0x80;
  }
  fields_.reserve(std::min<std::size_t>(limits.max_fields, 64));
}

void csv_stream::push(std::string_view chunk) noexcept {
  assert(in_ == in_end_ && !closed_); // the previous chunk is drained; the file is open
  in_ = chunk.data();
  in_end_ = chunk.data() + chunk.size();
}

// The framing automaton alone: where the row that is in state `st` at p ends. Used for
// rows that arrive in pieces and to find the end of a row once it has a fault; it must
// agree with parse_row on every row boundary, which the split-point tests check.
const char* csv_stream::frame(const char* p, const char* end, frame_state& st,
                              std::uint64_t& newlines) const noexcept {
  using enum frame_state;
  for (; p < end; ++p) {
    const char c = *p;
    if (c == '\n') {
      ++newlines;
      if (st != quoted) {
        st = field_start;
        return p + 1;
      }
      continue;
    }
    switch (st) {
      case field_start: st = c == '"' ? quoted : c == delim_ ? field_start : unquoted; break;
      case unquoted:
        if (c == delim_) st = field_start;
        break;
      case quoted:
        if (c == '"') st = quoted_quote;
        break;
      case quoted_quote: st = c == '"' ? quoted : c == delim_ ? field_start : unquoted; break;
    }
  }
  return nullptr;
}

// One row from `begin`, in place. need_more when [begin, end) holds no complete row and
// `eof` is false; with `eof`, `end` is the end of the file and also ends the row.
csv_stream::scan csv_stream::parse_row(const char* const begin, const char* const end, bool eof) {
  fields_.clear();
  escaped_.clear();
  scratch_.clear();
  std::uint64_t nl = 0;
  const char* p = begin;
  const scan need{scan_kind::need_more};

  if (p < end && (*p == '\n' || *p == '\r')) { // an empty line: skipped
    if (*p == '\n') return {scan_kind::empty, p + 1, 1};
    if (p + 1 == end) return eof ? scan{scan_kind::empty, end, 0} : need;
    if (p[1] == '\n') return {scan_kind::empty, p + 2, 1};
  }
  auto complete = [&](const char* row_end, std::uint64_t newlines) -> scan {
    if (expect_ != 0 && fields_.size() != expect_) {
      fault_ = csv_fault::field_count;
      fault_arg_ = fields_.size();
      return {scan_kind::problem, row_end, newlines};
    }
    for (const auto& e : escaped_) fields_[e.index] = std::string_view(scratch_.data() + e.offset, e.size);
    return {scan_kind::row, row_end, newlines};
  };
  // A fault at `at`, in framing state `st` there: the row ends where framing says.
  auto fail = [&](csv_fault f, std::size_t arg, const char* at, frame_state st) -> scan {
    fault_ = f;
    fault_arg_ = arg;
    std::uint64_t newlines = nl;
    if (const char* e = frame(at, end, st, newlines)) return {scan_kind::problem, e, newlines};
    return eof ? scan{scan_kind::problem, end, newlines} : need;
  };

  for (;;) { // one field per turn
    if (fields_.size() >= limits_.max_fields)
      return fail(csv_fault::too_many_fields, 0, p, frame_state::field_start);
    if (p == end) {
      if (!eof) return need;
      fields_.emplace_back();
      return complete(end, nl);
    }
    if (*p != '"') {
      const char* const f = p;
      for (;;) {
        while (p < end && !special_[byte(*p)]) ++p;
        if (p == end) {
          if (!eof) return need;
          fields_.emplace_back(f, p - f);
          return complete(end, nl);
        }
        const char c = *p;
        if (c == delim_) {
          fields_.emplace_back(f, p - f);
          ++p;
          break;
        }
        if (c == '\n') {
          fields_.emplace_back(f, p - f);
          return complete(p + 1, nl + 1);
        }
        if (c == '\r') {
          if (p + 1 == end) {
            if (!eof) return need;
            fields_.emplace_back(f, p - f);
            return complete(end, nl);
          }
          if (p[1] == '\n') {
            fields_.emplace_back(f, p - f);
            return complete(p + 2, nl + 1);
          }
          return fail(csv_fault::bare_cr, 0, p, frame_state::unquoted);
        }
        if (c == '"') return fail(csv_fault::quote_in_unquoted, 0, p, frame_state::unquoted);
        const int n = utf8_sequence(p, end);
        if (n > 0) {
          p += n;
          continue;
        }
        if (n < 0 && !eof) return need;
        return fail(csv_fault::invalid_utf8, static_cast<std::size_t>(p - begin), p, frame_state::unquoted);
      }
      continue;
    }
    // A quoted field: zero-copy unless it holds "", then unescaped into scratch_.
    ++p;
    const char* f = p;
    std::size_t esc = npos;
    for (;;) {
      while (p < end && !qspecial_[byte(*p)]) ++p;
      if (p == end) {
        if (!eof) return need;
        return fail(csv_fault::unterminated_quote, 0, p, frame_state::quoted);
      }
      const char c = *p;
      if (c == '\n') {
        ++nl;
        ++p;
        continue;
      }
      if (c == '"') {
        if (p + 1 == end && !eof) return need;
        if (p + 1 < end && p[1] == '"') {
          if (esc == npos) esc = scratch_.size();
          scratch_.append(f, p + 1);
          p += 2;
          f = p;
          continue;
        }
        if (esc == npos) {
          fields_.emplace_back(f, p - f);
        } else {
          scratch_.append(f, p);
          escaped_.push_back({fields_.size(), esc, scratch_.size() - esc});
          fields_.emplace_back();
        }
        ++p;
        if (p == end) return complete(end, nl); // only with eof
        const char c2 = *p;
        if (c2 == delim_) {
          ++p;
          break;
        }
        if (c2 == '\n') return complete(p + 1, nl + 1);
        if (c2 == '\r') {
          if (p + 1 == end) return eof ? complete(end, nl) : need;
          if (p[1] == '\n') return complete(p + 2, nl + 1);
        }
        return fail(csv_fault::text_after_quote, 0, p, frame_state::quoted_quote);
      }
      const int n = utf8_sequence(p, end);
      if (n > 0) {
        p += n;
        continue;
      }
      if (n < 0 && !eof) return need;
      return fail(csv_fault::invalid_utf8, static_cast<std::size_t>(p - begin), p, frame_state::quoted);
    }
  }
}

void csv_stream::start_carry(const char* p, std::size_t n) {
  carry_.assign(p, n);
  carry_frame_ = frame_state::field_start;
  carry_newlines_ = 0;
  [[maybe_unused]] const char* e = frame(carry_.data(), carry_.data() + carry_.size(), carry_frame_, carry_newlines_);
  assert(e == nullptr);
}

csv_event csv_stream::hand_out(const scan& s, std::uint64_t start, std::uint64_t end) {
  const std::uint64_t next_line = line_ + s.newlines;
  if (s.kind == scan_kind::row) {
    row_.line = line_;
    row_.next_line = next_line;
    row_.offset = start;
    row_.end_offset = end;
    row_.fields = fields_;
    ++rows_;
  } else {
    problem_.line = line_;
    problem_.next_line = next_line;
    problem_.offset = start;
    problem_.end_offset = end;
    problem_.fault = fault_;
    switch (fault_) {
      case csv_fault::unterminated_quote: problem_.reason = "unterminated quoted field"; break;
      case csv_fault::text_after_quote: problem_.reason = "text after a closing quote"; break;
      case csv_fault::quote_in_unquoted: problem_.reason = "quote inside an unquoted field"; break;
      case csv_fault::bare_cr: problem_.reason = "carriage return without a line feed outside quotes"; break;
      case csv_fault::invalid_utf8:
        problem_.reason = "invalid UTF-8 at byte " + std::to_string(fault_arg_) + " of the row";
        break;
      case csv_fault::field_count:
        problem_.reason =
          "expected " + std::to_string(expect_) + " fields, found " + std::to_string(fault_arg_);
        break;
      case csv_fault::too_many_fields:
        problem_.reason = "more than " + std::to_string(limits_.max_fields) + " fields";
        break;
      case csv_fault::row_too_long:
        problem_.reason = "row longer than " + std::to_string(limits_.max_row_bytes) + " bytes";
        break;
    }
    ++problems_;
  }
  line_ = next_line;
  offset_ = end;
  resume_line_ = next_line;
  return s.kind == scan_kind::row ? csv_event::row : csv_event::problem;
}

csv_event csv_stream::hand_out_too_long(std::uint64_t end, std::uint64_t next_line) {
  fault_ = csv_fault::row_too_long;
  return hand_out({scan_kind::problem, nullptr, next_line - line_}, row_offset_, end);
}

csv_event csv_stream::next() {
  if (release_carry_) {
    carry_.clear();
    release_carry_ = false;
  }
  for (;;) {
    if (bom_pending_) { // bytes matching the BOM are taken one by one, whatever the chunks
      while (bom_matched_ < 3 && in_ < in_end_ && byte(*in_) == utf8_bom[bom_matched_]) {
        advance_to(in_ + 1);
        ++bom_matched_;
      }
      if (bom_matched_ < 3 && in_ == in_end_ && !closed_) return csv_event::none;
      bom_pending_ = false;
      if (bom_matched_ < 3 && bom_matched_ > 0) { // not a BOM after all: those bytes are data
        row_offset_ = 0;
        start_carry(reinterpret_cast<const char*>(utf8_bom), bom_matched_);
      }
    }

    if (skipping_) { // a row past max_row_bytes ends at the next LF, quotes or not
      const auto* lf = static_cast<const char*>(std::memchr(in_, '\n', static_cast<std::size_t>(in_end_ - in_)));
      if (lf != nullptr) {
        advance_to(lf + 1);
        skipping_ = false;
        return hand_out_too_long(in_offset_, line_ + skip_newlines_ + 1);
      }
      advance_to(in_end_);
      if (!closed_) return csv_event::none;
      skipping_ = false;
      return hand_out_too_long(in_offset_, line_ + skip_newlines_);
    }

    if (!carry_.empty()) {
      if (in_ < in_end_) {
        const std::size_t room = limits_.max_row_bytes - carry_.size();
        const auto avail = static_cast<std::size_t>(in_end_ - in_);
        const char* const lim = in_ + std::min(avail, room);
        if (const char* e = frame(in_, lim, carry_frame_, carry_newlines_)) {
          carry_.append(in_, e);
          advance_to(e);
          const scan s = parse_row(carry_.data(), carry_.data() + carry_.size(), false);
          assert(s.kind != scan_kind::need_more && s.end == carry_.data() + carry_.size());
          if (s.kind == scan_kind::empty) {
            line_ += s.newlines;
            carry_.clear();
            continue;
          }
          release_carry_ = true;
          return hand_out(s, row_offset_, in_offset_);
        }
        if (avail > room) { // no line end within max_row_bytes
          advance_to(lim);
          skip_newlines_ = carry_newlines_;
          carry_.clear();
          skipping_ = true;
          continue;
        }
        if (carry_.capacity() < carry_.size() + avail) // grow by doubling, never past the limit
          carry_.reserve(std::min(limits_.max_row_bytes, std::max(carry_.size() + avail, 2 * carry_.capacity())));
        carry_.append(in_, in_end_);
        advance_to(in_end_);
      }
      if (!closed_) return csv_event::none;
      const scan s = parse_row(carry_.data(), carry_.data() + carry_.size(), true);
      const std::uint64_t end = row_offset_ + carry_.size();
      if (s.kind == scan_kind::empty) {
        line_ += s.newlines;
        carry_.clear();
        continue;
      }
      release_carry_ = true;
      return hand_out(s, row_offset_, end);
    }

    if (in_ == in_end_) return csv_event::none;
    // The fast path: a whole row inside the chunk is parsed where it lies.
    const auto avail = static_cast<std::size_t>(in_end_ - in_);
    const char* const lim = in_ + std::min(avail, limits_.max_row_bytes);
    const scan s = parse_row(in_, lim, false);
    if (s.kind != scan_kind::need_more) {
      const std::uint64_t start = in_offset_;
      advance_to(s.end);
      if (s.kind == scan_kind::empty) {
        line_ += s.newlines;
        continue;
      }
      return hand_out(s, start, in_offset_);
    }
    row_offset_ = in_offset_;
    if (avail > limits_.max_row_bytes) {
      skip_newlines_ = static_cast<std::uint64_t>(std::count(in_, lim, '\n'));
      advance_to(lim);
      skipping_ = true;
      continue;
    }
    start_carry(in_, avail);
    advance_to(in_end_);
  }
}

} // namespace dynchat::marketo
