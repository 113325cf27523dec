#include "dynchat/flow/flow.hpp"

namespace dynchat::flow {
namespace {

class live_chat_flow final : public conversation_flow {
public:
  std::vector<action> start() override { return {action{action::kind::handover, {}, {}}}; }
  std::vector<action> on_visitor_text(const std::string&) override { return start(); }
  bool accepts_choices() const override { return false; }
  std::vector<action> on_choice(const std::string&) override { return {}; }
};

} // namespace

std::unique_ptr<conversation_flow> make_live_chat_flow() { return std::make_unique<live_chat_flow>(); }

} // namespace dynchat::flow
