#pragma once
// Query parameters read strictly: every parameter a handler reads is checked, and
// anything wrong is an error naming the parameter (a typo'd name included, so
// `limt=5` never silently means "the default"). The handler reads what it accepts,
// then asks error(); the first problem found is the answer.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace dynchat::rest {

class query {
public:
  /// Splits "a=1&b=2"; malformed escapes and repeated names are remembered as errors.
  explicit query(std::string_view text);

  /// An integer in [min, max]; `fallback` when absent.
  std::int64_t integer(const std::string& name, std::int64_t fallback, std::int64_t min, std::int64_t max);
  /// A string, "" when absent; `allowed` (when not empty) lists the values it may take.
  std::string text(const std::string& name, const std::vector<std::string>& allowed = {});
  /// Every parameter named `prefix` + something (`lead.country=DE`), by that something.
  std::map<std::string, std::string> with_prefix(const std::string& prefix);
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  /// Records a problem found by the handler itself (a value out of range for the resource).
  void fail(std::string message);

  /// The first problem, or a parameter no handler read.
  std::optional<std::string> error() const;

private:
  std::map<std::string, std::string> values_;
  std::set<std::string> read_;
  std::optional<std::string> error_;
};

} // namespace dynchat::rest
