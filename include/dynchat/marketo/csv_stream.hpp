#pragma once
// Marketo's bulk-export files (CSV, TSV, "SSV") read as a stream of rows, without I/O.
//
//   chunk ──push()──▶ fast path: rows parsed in place, fields are views into the chunk
//                     │ the row cut by the chunk's end is copied to carry_ and framed
//                     ▼ byte by byte as more chunks arrive; parsed once its line end is in
//   next() ──▶ row (views into the chunk, carry_ or scratch_) | problem | none (push more)
//
// Memory is the partial row (at most max_row_bytes) plus the unescaped copies of its
// quoted fields, whatever the file or chunk size: chunks are never copied whole.
//
// Framing: a row ends at the first LF that is outside a quoted field. A field is quoted
// when its first byte is `"`; in it `""` is one quote and a lone `"` closes it. A `"`
// anywhere else does not open quoting. Marketo quotes every field that holds the
// delimiter, a quote, CR or LF and doubles the quotes in it (the activity-export sample
// in Marketo's docs: `"{""Reason"":""Changed by ..."",...}"`), so a quote inside an
// unquoted field means a damaged row: it is a problem, and because it does not open a
// quoted section the damage stays on its own line instead of swallowing the next ones.
// A row still open after max_row_bytes (a stray `"` at a field's start, or a missing
// closing quote) is a problem that ends at the next LF after that point, quotes or not:
// one bad quote costs at most max_row_bytes of rows, never the rest of the file.
//
// Faults never stop the stream: the bad row is handed out as a csv_problem (line, byte
// range, reason) and parsing goes on with the next row.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dynchat::marketo {

struct csv_limits {
  std::size_t max_row_bytes = 1 << 20; // a row with its line end; a longer one is a problem
  std::size_t max_fields = 512;        // a row with more is a problem
};

/// Why a row was not handed out as a row.
enum class csv_fault : std::uint8_t {
  unterminated_quote, // end of file inside a quoted field
  text_after_quote,   // "abc"x
  quote_in_unquoted,  // ab"c
  bare_cr,            // a CR not followed by LF outside quotes
  invalid_utf8,       // overlong, surrogate, truncated, above U+10FFFF, stray continuation
  field_count,        // not the count set with expect_fields()
  too_many_fields,    // more than csv_limits::max_fields
  row_too_long,       // more than csv_limits::max_row_bytes
};
/// A stable key for metrics and logs: "unterminated_quote", ...
std::string_view to_string(csv_fault f) noexcept;

struct csv_row {
  std::uint64_t line = 0;       // physical line the row starts on, from 1
  std::uint64_t next_line = 0;  // line after it: line + the LFs in the row
  std::uint64_t offset = 0;     // file offset of the row's first byte
  std::uint64_t end_offset = 0; // just past its line end (or the end of the file)
  std::span<const std::string_view> fields; // valid until the next call into the stream
};

struct csv_problem {
  std::uint64_t line = 0; // as in csv_row
  std::uint64_t next_line = 0;
  std::uint64_t offset = 0;
  std::uint64_t end_offset = 0;
  csv_fault fault = csv_fault::field_count;
  std::string reason; // for people: "expected 12 fields, found 11",
                      // "invalid UTF-8 at byte 37 of the row" (from 0: offset + 37)
};

enum class csv_event : std::uint8_t {
  none,    // the pushed chunk is used up (or, after close(), the file is)
  row,     // current_row() holds it
  problem, // current_problem() holds it
};

/// One pass over one export file. Not thread-safe; one owner feeds it.
///
/// Resuming after a crash: keep offset() and line() with the rows they cover, then build
/// a new stream with them and feed the file from byte offset() on (an HTTP Range
/// request): the rows that follow come out exactly as in an uninterrupted run.
/// The literal `null` (Marketo's empty value) is left as text for the caller to map.
class csv_stream {
public:
  /// `delimiter`: ',' (CSV), '\t' (TSV), ';' or ' ' (SSV: Marketo's docs disagree).
  /// Throws std::invalid_argument for a delimiter that is '"', CR, LF or not ASCII, or
  /// zero limits. A UTF-8 byte order mark is skipped only when start_offset is 0.
  explicit csv_stream(char delimiter = ',', csv_limits limits = {}, std::uint64_t start_offset = 0,
                      std::uint64_t start_line = 1);

  /// Rows with another number of fields become problems; 0 accepts any. May be called
  /// from a row callback (e.g. on the header) and applies from the next row on.
  void expect_fields(std::size_t n) noexcept { expect_ = n; }

  // Pull interface: push() a chunk, then call next() until it answers none; the chunk
  // must stay alive until then and the next push() must wait for it. The caller may
  // stop between rows (back-pressure) and call next() again later. close() marks the
  // end of the file; next() then hands out a last row without a line end, or the
  // problem of an unterminated quote.
  void push(std::string_view chunk) noexcept;
  void close() noexcept { closed_ = true; }
  csv_event next();
  const csv_row& current_row() const noexcept { return row_; }
  const csv_problem& current_problem() const noexcept { return problem_; }

  /// Every complete row or problem in `chunk` to the callbacks, in file order:
  /// `on_row(const csv_row&)`, `on_problem(const csv_problem&)`.
  template <class OnRow, class OnProblem>
  void feed(std::string_view chunk, OnRow&& on_row, OnProblem&& on_problem) {
    push(chunk);
    drain(on_row, on_problem);
  }
  /// End of the file: what is left to the callbacks.
  template <class OnRow, class OnProblem>
  void finish(OnRow&& on_row, OnProblem&& on_problem) {
    close();
    drain(on_row, on_problem);
  }

  /// Just past the last row or problem handed out: where to resume.
  std::uint64_t offset() const noexcept { return offset_; }
  /// The line number at offset(): the line to resume with.
  std::uint64_t line() const noexcept { return resume_line_; }
  std::uint64_t rows() const noexcept { return rows_; }
  std::uint64_t problems() const noexcept { return problems_; }
  /// Bytes of a partial row held between chunks; never more than max_row_bytes.
  std::size_t buffered_bytes() const noexcept { return carry_.size(); }

private:
  enum class frame_state : std::uint8_t { field_start, unquoted, quoted, quoted_quote };
  enum class scan_kind : std::uint8_t { row, empty, problem, need_more };
  struct scan {
    scan_kind kind;
    const char* end = nullptr;   // past the row's line end
    std::uint64_t newlines = 0;  // LFs in the row, its own included
  };
  struct escaped_field {
    std::size_t index, offset, size; // fields_[index] is scratch_[offset, offset + size)
  };

  template <class OnRow, class OnProblem>
  void drain(OnRow& on_row, OnProblem& on_problem) {
    for (;;) {
      switch (next()) {
        case csv_event::row: on_row(row_); break;
        case csv_event::problem: on_problem(problem_); break;
        case csv_event::none: return;
      }
    }
  }

  scan parse_row(const char* begin, const char* end, bool eof);
  const char* frame(const char* p, const char* end, frame_state& st, std::uint64_t& newlines) const noexcept;
  void start_carry(const char* p, std::size_t n);
  void advance_to(const char* p) noexcept {
    in_offset_ += static_cast<std::uint64_t>(p - in_);
    in_ = p;
  }
  csv_event hand_out(const scan& s, std::uint64_t start, std::uint64_t end);
  csv_event hand_out_too_long(std::uint64_t end, std::uint64_t next_line);

  char delim_;
  csv_limits limits_;
  std::size_t expect_ = 0;
  bool special_[256];  // ends a run of plain bytes in an unquoted field
  bool qspecial_[256]; // ends a run of plain bytes in a quoted field

  // The pushed chunk: [in_, in_end_), in_ at file offset in_offset_.
  const char* in_ = nullptr;
  const char* in_end_ = nullptr;
  std::uint64_t in_offset_;
  bool closed_ = false;
  bool bom_pending_;
  unsigned bom_matched_ = 0;

  // A row split by a chunk's end, from file offset row_offset_; frame state after it.
  std::string carry_;
  std::uint64_t row_offset_ = 0;
  frame_state carry_frame_ = frame_state::field_start;
  std::uint64_t carry_newlines_ = 0;
  bool release_carry_ = false; // the row handed out points into carry_: clear it next time
  // Past max_row_bytes: dropping bytes up to the next LF.
  bool skipping_ = false;
  std::uint64_t skip_newlines_ = 0;

  std::vector<std::string_view> fields_;
  std::vector<escaped_field> escaped_;
  std::string scratch_;
  csv_fault fault_ = csv_fault::field_count;
  std::size_t fault_arg_ = 0;

  std::uint64_t line_; // the line the next row starts on
  std::uint64_t offset_;
  std::uint64_t resume_line_;
  std::uint64_t rows_ = 0;
  std::uint64_t problems_ = 0;
  csv_row row_;
  csv_problem problem_;
};

} // namespace dynchat::marketo
