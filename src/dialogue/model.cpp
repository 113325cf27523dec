#include "dynchat/dialogue/model.hpp"

#include <array>
#include <utility>

namespace dynchat::dialogue {
namespace {

constexpr std::array<std::pair<card_kind, std::string_view>, 11> kinds{{
  {card_kind::message, "message"}, {card_kind::question, "question"}, {card_kind::capture, "capture"},
  {card_kind::branch, "branch"}, {card_kind::action, "action"}, {card_kind::goal, "goal"},
  {card_kind::document, "document"}, {card_kind::meeting, "meeting"}, {card_kind::live_chat, "live_chat"},
  {card_kind::flow, "flow"}, {card_kind::end, "end"},
}};

constexpr std::array<std::pair<op, std::string_view>, 8> ops{{
  {op::is, "is"}, {op::is_not, "is_not"}, {op::contains, "contains"}, {op::starts_with, "starts_with"},
  {op::greater_than, "greater_than"}, {op::less_than, "less_than"}, {op::is_empty, "is_empty"},
  {op::is_not_empty, "is_not_empty"},
}};

template <class Table, class Value>
std::string_view name_of(const Table& table, Value v) {
  for (auto& [value, name] : table)
    if (value == v) return name;
  return {};
}

template <class Value, class Table>
std::optional<Value> value_of(const Table& table, std::string_view s) {
  for (auto& [value, name] : table)
    if (name == s) return value;
  return std::nullopt;
}

} // namespace

std::string_view to_string(card_kind k) noexcept { return name_of(kinds, k); }
std::optional<card_kind> card_kind_from_string(std::string_view s) noexcept { return value_of<card_kind>(kinds, s); }
std::string_view to_string(op o) noexcept { return name_of(ops, o); }
std::optional<op> op_from_string(std::string_view s) noexcept { return value_of<op>(ops, s); }


} // namespace dynchat::dialogue
